package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.Mman;
import io.github.mseal4j.internal.Smaps;
import io.github.mseal4j.testing.ChildJvm;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Immutable memory with an arena's lifetime: exact, immutable, not sealed, unmapped when the arena closes (or an
 * automatic one becomes unreachable); refused before anything is mapped when the arena cannot take it; and a
 * failed digest leaves nothing behind, with an arena or without.
 */
class ArenaLifetimeTest {
    private static final long PAGE = Mseal.pageSize();

    @BeforeEach
    void requireImmutability() {
        assumeTrue(Mseal.immutability().available(), Mseal.immutability().reason());
    }

    @Test
    void aFrozenCopyIsExactImmutableNotSealedAndUnmappedWhenItsArenaCloses() {
        byte[] key = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
        for (Arena arena : List.of(Arena.ofShared(), Arena.ofConfined())) {
            MemorySegment frozen = Mseal.freeze(key, arena);
            assertEquals(key.length, frozen.byteSize(), "exactly as long as the data");
            assertArrayEquals(key, frozen.toArray(ValueLayout.JAVA_BYTE));
            assertTrue(frozen.isReadOnly());
            assertEquals(arena.scope(), frozen.scope(), "the arena's lifetime");
            long address = frozen.address();
            assertWriteProtectedNotSealed(address, PAGE);
            assertEquals("EACCES", Errno.name(LibC.mprotect(address, PAGE, Mman.PROT_READ | Mman.PROT_WRITE)),
                "it can never be made writable: the file is sealed against writing");
            arena.close();
            assertGone(address);
            assertThrows(IllegalStateException.class, () -> frozen.get(ValueLayout.JAVA_BYTE, 0));
        }
    }

    @Test
    void aSegmentOfAnyKindIsCopiedAndTheEmptyOneMapsNothing() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment offHeap = arena.allocateFrom("an off-heap value");
            MemorySegment frozen = Mseal.freeze(offHeap, arena);
            assertEquals("an off-heap value", frozen.getString(0));
            MemorySegment empty = Mseal.freeze(new byte[0], arena);
            assertEquals(0, empty.byteSize());
            assertEquals(arena.scope(), empty.scope());
            MemorySegment slice = Mseal.freeze(MemorySegment.ofArray(new long[] {1, 2, 3}).asSlice(8, 16), arena);
            assertEquals(2L, slice.get(ValueLayout.JAVA_LONG_UNALIGNED, 0));
            assertEquals(3L, slice.get(ValueLayout.JAVA_LONG_UNALIGNED, 8));
        }
    }

    @Test
    void anArenaThatCannotTakeTheMemoryIsRefusedBeforeAnythingIsMapped(@TempDir Path directory) throws Exception {
        Path file = Files.writeString(directory.resolve("policy"), "allow all");
        String digest = sha256("allow all".getBytes(StandardCharsets.US_ASCII));
        Arena closed = Arena.ofShared();
        closed.close();
        Arena elsewhere = CompletableFuture.supplyAsync(Arena::ofConfined).join();
        SealedMap.Builder builder = SealedMap.builder().put("k", "v");
        long fds = fds();
        java.util.Set<Long> before = memfdMappingStarts();
        for (Arena arena : new Arena[] {closed, elsewhere}) {
            Class<? extends RuntimeException> refusal = arena == closed ? IllegalStateException.class
                : WrongThreadException.class;
            assertThrows(refusal, () -> Mseal.freeze(new byte[16], arena));
            assertThrows(refusal, () -> Mseal.freeze(MemorySegment.ofArray(new byte[16]), arena));
            assertThrows(refusal, () -> Mseal.freeze(file, digest, arena));
            assertThrows(refusal, () -> SealedMap.copyOf(Map.of("k", "v"), arena));
            assertThrows(refusal, () -> builder.build(arena));
        }
        assertThrows(NullPointerException.class, () -> Mseal.freeze(new byte[16], (Arena) null));
        assertThrows(NullPointerException.class, () -> Mseal.freeze(file, digest, null));
        assertThrows(NullPointerException.class, () -> SealedMap.copyOf(Map.of(), null));
        assertEquals(fds, fds(), "no descriptor opened");
        java.util.Set<Long> after = memfdMappingStarts();
        after.removeAll(before);
        assertEquals(java.util.Set.of(), after, "nothing mapped");
        try (Arena arena = Arena.ofConfined()) {
            assertEquals("v", builder.build(arena).get("k"), "the builder was left as it was");
        }
    }

    @Test
    void memoryOfAnAutomaticArenaIsUnmappedOnceNothingReachesIt() throws InterruptedException {
        ConcurrentHashMap<Long, Boolean> unmapped = new ConcurrentHashMap<>();
        CountDownLatch gone = new CountDownLatch(1);
        long[] address = new long[1];
        ArenaLifetime.unmapObserver = base -> {
            unmapped.put(base, true);
            if (base == address[0]) {
                gone.countDown();
            }
        };
        try {
            address[0] = frozenAndDropped();
            for (int attempt = 0; attempt < 100 && !gone.await(50, TimeUnit.MILLISECONDS); attempt++) {
                System.gc(); // arranges what the test needs: the collector finding the arena unreachable
            }
            assertTrue(unmapped.containsKey(address[0]), "unmapped once unreachable (100 collections)");
            assertGone(address[0]);
        } finally {
            ArenaLifetime.unmapObserver = null;
        }
    }

    /** Freezes into an automatic arena, checks the copy, and drops it: only its address comes back. */
    private static long frozenAndDropped() {
        MemorySegment frozen = Mseal.freeze("dropped".getBytes(StandardCharsets.US_ASCII), Arena.ofAuto());
        assertWriteProtectedNotSealed(frozen.address(), PAGE);
        java.lang.ref.Reference.reachabilityFence(frozen); // mapped until here
        return frozen.address();
    }

    @Test
    void aMapWithAnArenasLifetimeAnswersLikeItsSourceUntilTheArenaClosesAndThenThrows() {
        Map<String, String> source = new LinkedHashMap<>();
        for (int i = 0; i < 500; i++) {
            source.put("host-" + i + ".example", i % 3 == 0 ? "allow" : "déni " + i);
        }
        Arena arena = Arena.ofShared();
        SealedMap map = SealedMap.copyOf(source, arena);
        assertEquals(source, map.asMap());
        assertEquals("allow", map.get("host-3.example"));
        assertArrayEquals("allow".getBytes(StandardCharsets.US_ASCII),
            map.get("host-3.example".getBytes(StandardCharsets.US_ASCII)).toArray(ValueLayout.JAVA_BYTE));
        assertNull(map.get("host-500.example"));
        assertTrue(map.isImmutable(), "immutable");
        assertFalse(map.isSealed(), "not sealed");
        MemorySegment memory = map.memory();
        assertWriteProtectedNotSealed(memory.address(), memory.byteSize());
        MemorySegment value = map.get("host-1.example".getBytes(StandardCharsets.US_ASCII));

        arena.close();
        assertGone(memory.address());
        assertEquals(500, map.size(), "what the map object holds itself stays");
        assertThrows(IllegalStateException.class, () -> map.get("host-3.example"));
        assertThrows(IllegalStateException.class, () -> map.containsKey("host-3.example"));
        assertThrows(IllegalStateException.class, () -> map.get(new byte[] {1}));
        assertThrows(IllegalStateException.class, () -> map.forEach((k, v) -> { }));
        assertThrows(IllegalStateException.class, () -> map.asMap().get("host-3.example"));
        assertThrows(IllegalStateException.class, () -> value.get(ValueLayout.JAVA_BYTE, 0), "a value's view too");
        assertFalse(map.isImmutable(), "its memory is gone");
    }

    @Test
    void aSealedMapSaysItIsSealedAndABuilderBuildsOnce() {
        SealedMap sealed = SealedMap.copyOf(Map.of("k", "v"));
        assertTrue(sealed.isSealed());
        assertTrue(sealed.isImmutable());
        SealedMap.Builder builder = SealedMap.builder().put(new byte[] {1, 2}, new byte[] {3});
        try (Arena arena = Arena.ofConfined()) {
            SealedMap map = builder.build(arena);
            assertArrayEquals(new byte[] {3}, map.get(new byte[] {1, 2}).toArray(ValueLayout.JAVA_BYTE));
            assertThrows(IllegalStateException.class, () -> builder.build(arena), "spent");
            assertThrows(IllegalStateException.class, builder::build, "spent");
        }
    }

    @Test
    void aThousandFailedDigestChecksLeaveNothingBehindWithAnArenaOrWithout(@TempDir Path directory)
            throws IOException {
        Path file = Files.write(directory.resolve("policy.json"), new byte[3 * (int) PAGE + 5]);
        String wrong = sha256("something else".getBytes(StandardCharsets.US_ASCII));
        try (Arena warmUp = Arena.ofConfined()) {
            Mseal.freeze(new byte[1], warmUp); // the library's first-use descriptors are open before counting
        }
        long fds = fds();
        java.util.Set<Long> before = memfdMappingStarts();
        long sealed = SealCounters.bytes();
        try (Arena arena = Arena.ofShared()) {
            for (int i = 0; i < 1000; i++) {
                boolean withArena = i % 2 == 0;
                SecurityException refused = assertThrows(SecurityException.class,
                    () -> freeze(file, wrong, withArena ? arena : null));
                if (i == 0) {
                    assertTrue(refused.getMessage().contains(wrong) && refused.getMessage().contains("nothing"),
                        refused.getMessage());
                }
            }
        }
        java.util.Set<Long> after = memfdMappingStarts();
        after.removeAll(before); // earlier tests' automatic arenas may be collected meanwhile: only new ones count
        assertEquals(java.util.Set.of(), after, "no copy left mapped");
        assertEquals(fds, fds(), "no descriptor left open");
        assertEquals(sealed, SealCounters.bytes(), "nothing sealed: the digest is checked before mseal");
    }

    private static MemorySegment freeze(Path file, String sha256, Arena arena) throws IOException {
        return arena == null ? Mseal.freeze(file, sha256) : Mseal.freeze(file, sha256, arena);
    }

    @Test
    void aDigestMayBeUpperCaseAndNamedAndIsCheckedOverTheFrozenCopy(@TempDir Path directory) throws IOException {
        byte[] content = "{\"allow\": [\"example.org\"]}".getBytes(StandardCharsets.US_ASCII);
        Path file = Files.write(directory.resolve("policy.json"), content);
        String digest = sha256(content);
        try (Arena arena = Arena.ofConfined()) {
            assertArrayEquals(content, Mseal.freeze(file, "sha256:" + digest.toUpperCase(java.util.Locale.ROOT),
                arena).toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(content, Mseal.freeze(file, " SHA256:" + digest + "\n", arena)
                .toArray(ValueLayout.JAVA_BYTE));
            IllegalArgumentException notADigest = assertThrows(IllegalArgumentException.class,
                () -> Mseal.freeze(file, "sha512:" + digest, arena));
            assertTrue(notADigest.getMessage().contains("sha256:"), notADigest.getMessage());
            Path empty = Files.write(directory.resolve("empty"), new byte[0]);
            assertEquals(0, Mseal.freeze(empty, sha256(new byte[0]), arena).byteSize());
            assertThrows(SecurityException.class, () -> Mseal.freeze(empty, digest, arena));
        }
    }

    @Test
    void immutableMemoryWithAnArenasLifetimeIsNotCountedAgainstWhatIsSealed() {
        long sealed = SealCounters.bytes();
        try (Arena arena = Arena.ofConfined()) {
            Mseal.freeze(new byte[3 * (int) PAGE], arena);
            SealedMap.copyOf(Map.of("a", "b"), arena);
        }
        assertEquals(sealed, SealCounters.bytes());
    }

    @Test
    void inAChildJvmArenaMemoryRefusesProcSelfMemAndLookupsRacingCloseNeverCrashOrReadWrongData() {
        for (String mode : List.of("procmem", "race", "reloadable")) {
            ChildJvm.Result child = ChildJvm.runMain(List.of("--enable-native-access=ALL-UNNAMED", "-Xmx256m"),
                ArenaLifetimeChild.class, mode);
            assertEquals(0, child.exitStatus(), child.transcript());
            assertTrue(child.stdout().contains(mode + ": ok"), child.transcript());
        }
    }

    /** The kernel's view: shared, read-only, not able to become writable, of the library's memfd, not sealed. */
    static void assertWriteProtectedNotSealed(long address, long length) {
        List<Smaps.Vma> vmas = Smaps.read(address, address + length);
        assertTrue(Smaps.coveredBy(vmas, address, address + length, Smaps.Vma::writeProtected), vmas.toString());
        assertTrue(vmas.stream().noneMatch(Smaps.Vma::sealed), "not sealed: " + vmas);
    }

    /** Nothing of the library's is mapped at {@code address} any more (something else may be, by now). */
    static void assertGone(long address) {
        List<Smaps.Vma> vmas = Smaps.read(address, address + 1);
        assertTrue(vmas.stream().noneMatch(vma -> vma.path().equals(Smaps.MEMFD_PATH) && vma.start() <= address),
            "still mapped: " + vmas);
    }

    static java.util.Set<Long> memfdMappingStarts() {
        return Smaps.read(0, Long.MAX_VALUE).stream().filter(vma -> vma.path().equals(Smaps.MEMFD_PATH))
            .map(Smaps.Vma::start).collect(java.util.stream.Collectors.toCollection(java.util.HashSet::new));
    }

    private static long fds() throws IOException {
        try (var entries = Files.list(Path.of("/proc/self/fd"))) {
            return entries.count() - 1;
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
