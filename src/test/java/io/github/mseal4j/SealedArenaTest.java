package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mseal4j.testing.ChildJvm;
import io.github.mseal4j.testing.ProcMem;
import io.github.mseal4j.testing.SealBudget;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SealedArenaTest {
    private static final long PAGE = Mseal.pageSize();

    @BeforeEach
    void requireSealing() {
        assumeTrue(Mseal.isSupported(), Mseal.support().reason());
    }

    @Test
    void theBudget100000AllocationsOf64BytesFitInFewMappings() {
        ChildJvm.Result result = ChildJvm.runMain(List.of("--enable-native-access=ALL-UNNAMED"), ArenaBudget.class,
            "100000", "64");
        assertEquals(0, result.exitStatus(), result.transcript());
        Matcher m = Pattern.compile("mappings=(\\d+) mappedBytes=(\\d+) payload=(\\d+) intact=(\\w+) flags=(.*)")
            .matcher(result.stdout());
        assertTrue(m.find(), result.transcript());
        long mappings = Long.parseLong(m.group(1));
        long mapped = Long.parseLong(m.group(2));
        long payload = Long.parseLong(m.group(3));
        System.out.println("100,000 x 64 bytes sealed: " + mappings + " mapping(s), " + mapped + " bytes mapped for "
            + payload + " bytes of payload (" + String.format("%.4f", (double) mapped / payload) + "x)");
        assertTrue(mappings <= 16, "at most 16 mappings: " + result.stdout());
        assertTrue(mapped <= payload * 105 / 100, "at most 1.05x the payload: " + result.stdout());
        assertEquals("true", m.group(4), "contents intact");
        assertTrue(m.group(5).contains("sl"), "sealed: " + m.group(5));
        assertTrue(result.stdout().contains("isSealed=true"), result.transcript());
    }

    @Test
    void allocatingAfterSealOrCloseIsRefused() {
        SealedArena arena = SealedArena.create();
        arena.allocate(16, 8);
        arena.seal();
        IllegalStateException sealed = assertThrows(IllegalStateException.class, () -> arena.allocate(16, 8));
        assertTrue(sealed.getMessage().contains("sealed"));
        assertThrows(IllegalStateException.class, () -> arena.allocate(10 * SealedArena.DEFAULT_CHUNK_SIZE, 8));
        arena.close();
        SealedArena other = SealedArena.create();
        other.close();
        assertTrue(assertThrows(IllegalStateException.class, () -> other.allocate(1, 1)).getMessage().contains("closed"));
        assertThrows(IllegalStateException.class, other::seal);
    }

    @Test
    void segmentsHandedOutBeforeSealThrowAfterwardsAndMapToReadOnlyViews() {
        try (SealedArena arena = SealedArena.create()) {
            MemorySegment key = arena.allocateFrom(ValueLayout.JAVA_BYTE, new byte[] {1, 2, 3, 4});
            MemorySegment port = arena.allocateFrom(ValueLayout.JAVA_INT, 8443);
            MemorySegment name = arena.allocateFrom("api.example.com");
            assertThrows(IllegalStateException.class, () -> arena.sealedView(key), "not sealed yet");
            arena.seal();
            assertThrows(IllegalStateException.class, () -> key.set(ValueLayout.JAVA_BYTE, 0, (byte) 9));
            assertThrows(IllegalStateException.class, () -> port.get(ValueLayout.JAVA_INT, 0));
            MemorySegment frozenKey = arena.sealedView(key);
            assertTrue(frozenKey.isReadOnly());
            assertEquals(3, frozenKey.get(ValueLayout.JAVA_BYTE, 2));
            assertEquals(8443, arena.sealedView(port).get(ValueLayout.JAVA_INT, 0));
            assertEquals("api.example.com", arena.sealedView(name).getString(0));
            assertEquals(2, arena.sealedView(key.asSlice(1, 2)).get(ValueLayout.JAVA_BYTE, 0), "slices map too");
            assertThrows(IllegalArgumentException.class, () -> frozenKey.set(ValueLayout.JAVA_BYTE, 0, (byte) 0));
        }
    }

    @Test
    void sealedViewRefusesMemoryThatIsNotTheArenas() {
        try (SealedArena arena = SealedArena.create(); Arena other = Arena.ofConfined()) {
            arena.allocate(64, 8);
            arena.seal();
            assertThrows(IllegalArgumentException.class, () -> arena.sealedView(MemorySegment.ofArray(new byte[8])));
            assertThrows(IllegalArgumentException.class, () -> arena.sealedView(other.allocate(8)));
            assertThrows(NullPointerException.class, () -> arena.sealedView(null));
        }
    }

    @Test
    void closeBeforeSealUnmapsEverything() {
        SealedArena arena = SealedArena.create(PAGE);
        MemorySegment small = arena.allocate(100, 8);
        MemorySegment large = arena.allocate(3 * PAGE, 8);
        long smallAddress = small.address();
        long largeAddress = large.address();
        arena.close();
        arena.close();
        assertThrows(IllegalStateException.class, () -> small.get(ValueLayout.JAVA_BYTE, 0));
        assertThrows(IllegalStateException.class, () -> large.get(ValueLayout.JAVA_BYTE, 0));
        assertTrue(ProcMem.read(smallAddress, 1).isEmpty(), "unmapped");
        assertTrue(ProcMem.read(largeAddress, 1).isEmpty(), "unmapped");
    }

    @Test
    void closeAfterSealKeepsTheSealedMemory() {
        SealedArena arena = SealedArena.create();
        MemorySegment value = arena.allocateFrom(ValueLayout.JAVA_LONG, 42L);
        arena.seal();
        MemorySegment view = arena.sealedView(value);
        arena.close();
        assertEquals(42L, view.get(ValueLayout.JAVA_LONG, 0));
        assertTrue(arena.toString().contains("closed"));
    }

    @Test
    void sealIsIdempotentAndLargeAllocationsGetTheirOwnRegion() {
        try (SealedArena arena = SealedArena.create(PAGE)) {
            MemorySegment large = arena.allocate(2 * PAGE + 1, 8);
            MemorySegment aligned = arena.allocate(100, 4 * PAGE);
            assertEquals(0, aligned.address() % (4 * PAGE));
            large.set(ValueLayout.JAVA_BYTE, 2 * PAGE, (byte) 7);
            assertEquals(2, arena.regionCount(), "each gets a region of its own");
            arena.seal();
            arena.seal();
            assertTrue(arena.isSealed());
            assertEquals(7, arena.sealedView(large).get(ValueLayout.JAVA_BYTE, 2 * PAGE));
        }
    }

    @Test
    void anEmptyArenaSealsNothing() {
        try (SealedArena arena = SealedArena.create()) {
            MemorySegment empty = arena.allocate(0, 1);
            arena.seal();
            assertTrue(arena.isSealed());
            MemorySegment view = arena.sealedView(empty);
            assertEquals(0, view.byteSize());
            assertEquals(empty.address(), view.address());
            assertTrue(arena.toString().contains(", 0 regions, "), "the unused reservation is gone: " + arena);
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {0, -4096, 100, 4097})
    void chunkSizesMustBeWholePages(long chunkSize) {
        assertThrows(IllegalArgumentException.class, () -> SealedArena.create(chunkSize));
    }

    @Test
    void badAllocationArgumentsAreRefused() {
        try (SealedArena arena = SealedArena.create()) {
            assertThrows(IllegalArgumentException.class, () -> arena.allocate(-1, 8));
            assertThrows(IllegalArgumentException.class, () -> arena.allocate(8, 0));
            assertThrows(IllegalArgumentException.class, () -> arena.allocate(8, 3));
            assertThrows(IllegalArgumentException.class, () -> arena.allocate(8, -8));
        }
    }

    @Test
    void manyThreadsAllocateFromOneArenaThenItSeals() throws InterruptedException {
        int threads = 8;
        int each = 1500;
        List<List<MemorySegment>> perThread = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            perThread.add(Collections.synchronizedList(new ArrayList<>()));
        }
        try (SealedArena arena = SealedArena.create(16 * PAGE)) {
            ConcurrencyTest.onThreads(threads, thread -> {
                for (int i = 0; i < each; i++) {
                    long size = ThreadLocalRandom.current().nextLong(1, 200);
                    MemorySegment segment = arena.allocate(size, 8);
                    segment.fill((byte) (thread + 1));
                    perThread.get(thread).add(segment);
                }
            });
            arena.seal();
            List<MemorySegment> all = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                byte expected = (byte) (t + 1);
                for (MemorySegment building : perThread.get(t)) {
                    MemorySegment view = arena.sealedView(building);
                    assertTrue(view.elements(ValueLayout.JAVA_BYTE).allMatch(b -> b.get(ValueLayout.JAVA_BYTE, 0) == expected),
                        "no thread wrote into another's memory");
                    all.add(view);
                }
            }
            assertEquals(threads * each, all.size());
            all.sort((a, b) -> Long.compareUnsigned(a.address(), b.address()));
            for (int i = 1; i < all.size(); i++) {
                assertTrue(all.get(i - 1).address() + all.get(i - 1).byteSize() <= all.get(i).address(), "disjoint");
            }
            assertTrue(arena.isSealed());
        }
    }

    @Test
    void aSealRefusedWhileASegmentIsInUseLeavesTheArenaAsItWas() throws Exception {
        SealedArena arena = SealedArena.create();
        MemorySegment buffer = arena.allocate(16, 8);
        Pipe pipe = Pipe.open();
        try (Pipe.SourceChannel source = pipe.source(); Pipe.SinkChannel sink = pipe.sink()) {
            CompletableFuture<Integer> read = new CompletableFuture<>();
            Thread reader = new Thread(() -> {
                try {
                    read.complete(source.read(buffer.asByteBuffer()));
                } catch (Throwable t) {
                    read.completeExceptionally(t);
                }
            });
            reader.start();
            // The reader holds the segment once it is inside the blocking read (the JDK acquires it first).
            while (Arrays.stream(reader.getStackTrace()).noneMatch(frame -> frame.getMethodName().startsWith("read0"))) {
                Thread.onSpinWait();
            }
            IllegalStateException busy = assertThrows(IllegalStateException.class, arena::seal);
            assertTrue(busy.getMessage().contains("in use"), busy.getMessage());
            assertFalse(arena.isSealed());
            sink.write(ByteBuffer.wrap(new byte[] {1, 2, 3, 4}));
            assertEquals(4, read.get());
            assertEquals(3, buffer.get(ValueLayout.JAVA_BYTE, 2), "the segment is still valid");
            MemorySegment later = arena.allocate(8, 8);
            later.set(ValueLayout.JAVA_LONG, 0, 99L);
            arena.seal();
            assertTrue(arena.isSealed(), "the retry sealed it for real");
            assertEquals(4, arena.sealedView(buffer).get(ValueLayout.JAVA_BYTE, 3));
            assertEquals(99L, arena.sealedView(later).get(ValueLayout.JAVA_LONG, 0));
        } finally {
            arena.close();
        }
    }

    /**
     * An alignment so large that size and alignment together exceed any mapping the kernel can make (256 TiB
     * without an address hint) is refused in Java, as documented, rather than asked of the kernel.
     */
    @Test
    void anAlignmentBeyondTheAddressSpaceIsRefusedBeforeAnySystemCall() {
        try (SealedArena arena = SealedArena.create()) {
            for (long alignment : new long[] {1L << 62, 1L << 49}) {
                IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                    () -> arena.allocate(0, alignment), "alignment " + alignment);
                assertTrue(refused.getMessage().contains("too large to map"), refused.getMessage());
            }
            assertThrows(IllegalArgumentException.class, () -> arena.allocate(1L << 48, 1L << 47));
            String unaligned = assertThrows(IllegalArgumentException.class, () -> arena.allocate(Long.MAX_VALUE, 1))
                .getMessage();
            assertTrue(unaligned.contains("too large to map") && !unaligned.contains("slack"),
                "an alignment of 1 needs no slack: " + unaligned);
            assertEquals(7, arena.allocateFrom(ValueLayout.JAVA_INT, 7).get(ValueLayout.JAVA_INT, 0),
                "the arena is still usable");
        }
        assertThrows(IllegalArgumentException.class, () -> MappedRegion.allocate((1L << 48) + 1));
    }

    @Test
    void anAllocationAsLargeAndAlignedAsTheChunkTakesARegionOfItsOwn() {
        ChildJvm.Result result = ChildJvm.runMain(List.of("--enable-native-access=ALL-UNNAMED"),
            AddressSpaceChild.class, String.valueOf(1L << 30), String.valueOf(1L << 30));
        assertEquals(0, result.exitStatus(), result.transcript());
        assertTrue(result.stdout().contains("allocated: size=1073741824 aligned=true regions=1"), result.transcript());
        Matcher grew = Pattern.compile("address space grew by at most=(-?\\d+)").matcher(result.stdout());
        assertTrue(grew.find(), result.transcript());
        assertTrue(Long.parseLong(grew.group(1)) < 4L << 30, "no runaway reservations: " + result.stdout());
    }

    @Test
    void aReservationThatCannotBeMadeAccessibleIsReleased() throws IOException {
        long huge = 1L << 40;
        long before = mappingsOfAtLeast(huge);
        SealedArena arena = SealedArena.createAnonymous(huge);
        try {
            arena.allocate(1, 1);
        } catch (SystemCallException e) {
            // Making 1 TiB of private memory accessible is refused under the commit limit (heuristic overcommit).
            assertEquals("ENOMEM", e.errnoName(), e.getMessage());
            assertTrue(e.getMessage().contains("overcommit"), "names the commit limit: " + e.getMessage());
        }
        arena.close();
        assertEquals(before, mappingsOfAtLeast(huge), "no reservation is left behind");
    }

    @Test
    void aBuildingSegmentUsedAfterSealFailsWithTheMessageTheJavadocPromises() {
        try (SealedArena arena = SealedArena.create()) {
            MemorySegment building = arena.allocate(8, 8);
            arena.seal();
            IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> building.get(ValueLayout.JAVA_BYTE, 0));
            assertEquals("Already closed", e.getMessage());
        }
    }

    private static long mappingsOfAtLeast(long bytes) throws IOException {
        return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(line -> {
            String[] range = line.substring(0, line.indexOf(' ')).split("-");
            return Long.parseUnsignedLong(range[1], 16) - Long.parseUnsignedLong(range[0], 16) >= bytes;
        }).count();
    }

    @AfterAll
    static void stayWithinTheSealBudget() {
        SealBudget.check(SealedArenaTest.class.getSimpleName());
    }

    /**
     * A thread that claimed its bytes, then was held (as a descheduled thread would be) while two seals failed
     * and resumed allocations, must still get a valid segment, at once: it once re-read the first failed seal's
     * view, which the second seal had invalidated, for ever. Shown in a child JVM ({@link ArenaSealRaceChild}),
     * where a seccomp filter makes each seal fail after the views were invalidated, and the arena's test observer
     * holds the thread and counts its retries.
     */
    @Test
    void anAllocationHeldAcrossTwoFailedSealsGetsAValidSegment() {
        ChildJvm.Result result = ChildJvm.runMain(List.of("--enable-native-access=ALL-UNNAMED"),
            ArenaSealRaceChild.class);
        assertEquals(0, result.exitStatus(), result.transcript());
        String out = result.stdout();
        assertEquals(2, out.lines().filter(line -> line.startsWith("seal: SystemCallException: mseal(")).count(), out);
        assertTrue(out.contains("allocation: valid, retries=1, value=42"), out);
    }
}
