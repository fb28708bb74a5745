package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mseal4j.internal.Smaps;
import io.github.mseal4j.testing.ChildJvm;
import io.github.mseal4j.testing.Ptrace;
import io.github.mseal4j.testing.SealBudget;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Immutable memory: the API's rules, and the difference from sealed anonymous memory shown side by side. */
class ImmutableTest {
    private static final long PAGE = Mseal.pageSize();

    @BeforeEach
    void requireImmutability() {
        assumeTrue(Mseal.isSupported(), Mseal.support().reason());
    }

    @Test
    void immutableMemoryIsAvailableHere() {
        assertTrue(Mseal.immutability().available(), Mseal.immutability().reason());
        assertTrue(Mseal.immutability().reason().contains("F_SEAL_WRITE"), Mseal.immutability().reason());
    }

    @Test
    void aParentCannotWriteAChildsImmutableMemoryThroughProcPidMemOrPtraceButCanWriteItsSealedAnonymousMemory()
            throws Exception {
        List<String> command = new ArrayList<>(List.of(ChildJvm.java().toString(), "--enable-native-access=ALL-UNNAMED",
            "-cp", ChildJvm.testClassPath(), ImmutableChild.class.getName()));
        Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
             OutputStream in = child.getOutputStream()) {
            Matcher line = Pattern.compile("pid=(\\d+) immutable=(\\d+) anonymous=(\\d+)").matcher(out.readLine());
            assertTrue(line.matches(), line.toString());
            Path mem = Path.of("/proc", line.group(1), "mem");
            long pid = Long.parseLong(line.group(1));
            long immutableAddress = Long.parseLong(line.group(2));
            long anonymousAddress = Long.parseLong(line.group(3));
            Optional<IOException> immutable = write(mem, immutableAddress, "IMMUTABLE");
            Optional<IOException> anonymous = write(mem, anonymousAddress, "ANONYMOUS");
            // A debugger's write: PTRACE_POKEDATA of eight bytes further on ("sealed r" becomes "POKED!!!").
            long poke = ByteBuffer.wrap("POKED!!!".getBytes(StandardCharsets.US_ASCII))
                .order(java.nio.ByteOrder.nativeOrder()).getLong();
            int immutablePoke = pokeFromAnotherProcess(pid, immutableAddress + 16, poke);
            int anonymousPoke = pokeFromAnotherProcess(pid, anonymousAddress + 16, poke);
            in.write('\n');
            in.flush();
            String immutableHolds = out.readLine();
            String anonymousHolds = out.readLine();
            assertTrue(immutable.isPresent(), "the write to immutable memory is refused");
            assertEquals("Input/output error", immutable.get().getMessage(), "EIO");
            assertEquals("immutable holds: " + ImmutableChild.IMMUTABLE, immutableHolds);
            assertTrue(anonymous.isEmpty(), "the same write to sealed read-only anonymous memory goes through: "
                + anonymous);
            assertEquals("EIO", io.github.mseal4j.internal.Errno.name(immutablePoke), "ptrace is refused too");
            assertEquals(0, anonymousPoke, "and goes through to sealed anonymous memory");
            String forged = "ANONYMOUS" + ImmutableChild.ANONYMOUS.substring("ANONYMOUS".length());
            forged = forged.substring(0, 16) + "POKED!!!" + forged.substring(24);
            assertEquals("anonymous holds: " + forged, anonymousHolds,
                "and changes it: sealing alone stops neither /proc/<pid>/mem nor ptrace");
        } finally {
            assertTrue(child.waitFor(1, TimeUnit.MINUTES));
            assertEquals(0, child.exitValue());
        }
    }

    /** The errno of a PTRACE_POKEDATA by a sibling process (see {@link Ptrace} for why not from here). */
    private static int pokeFromAnotherProcess(long pid, long address, long value) {
        ChildJvm.Result poker = ChildJvm.runMain(List.of("--enable-native-access=ALL-UNNAMED"), Ptrace.class,
            String.valueOf(pid), String.valueOf(address), String.valueOf(value));
        assertEquals(0, poker.exitStatus(), poker.transcript());
        Matcher errno = Pattern.compile("errno=(\\d+)").matcher(poker.stdout());
        assertTrue(errno.find(), poker.transcript());
        return Integer.parseInt(errno.group(1));
    }

    private static Optional<IOException> write(Path mem, long address, String text) {
        try (FileChannel channel = FileChannel.open(mem, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII)), address);
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of(e);
        }
    }

    @Test
    void anImmutableRegionIsSealedOnlyWholeAndReadOnly() {
        try (MappedRegion region = MappedRegion.allocate(2 * PAGE, MappingOption.IMMUTABLE)) {
            IllegalStateException whole = assertThrows(IllegalStateException.class, region::seal);
            assertTrue(whole.getMessage().contains("sealReadOnly()"), whole.getMessage());
            assertThrows(IllegalStateException.class, () -> region.seal(0, PAGE));
            assertFalse(region.isSealed(), "refused before any system call");
        }
    }

    @Test
    void beforeFreezingItBehavesLikeAnyRegionAndCloseReleasesTheMemfd() throws IOException {
        MappedRegion.allocate(PAGE).close(); // the library's own descriptors (the mapping count's, and the one of
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) { // /proc/self/maps its freezes
            Mseal.freeze(new byte[1], arena); // query) are open first
        }
        long fds = fds();
        MappedRegion region = MappedRegion.allocate(3 * PAGE, MappingOption.IMMUTABLE);
        assertEquals(fds + 1, fds(), "one memfd while it is writable");
        MemorySegment segment = region.segment();
        segment.set(ValueLayout.JAVA_LONG, PAGE, 99L);
        region.protect(PAGE, PAGE, Protection.READ);
        assertTrue(region.segment(PAGE, 8).isReadOnly());
        assertThrows(IllegalStateException.class, () -> segment.get(ValueLayout.JAVA_LONG, 0), "revoked");
        region.protect(Protection.READ_WRITE);
        assertEquals(99L, region.segment().get(ValueLayout.JAVA_LONG, PAGE));
        Smaps.Vma vma = Smaps.read(region.address(), region.address() + 1).getFirst();
        assertEquals("rw-s", vma.permissions());
        assertTrue(vma.flags().contains("mw"), "writable until frozen: " + vma);
        assertFalse(region.isImmutable());
        long address = region.address();
        region.close();
        assertEquals(fds, fds(), "close releases the memfd");
        assertTrue(Smaps.read(address, address + 3 * PAGE).isEmpty(), "and unmaps it");
    }

    @Test
    void freezingRevokesSegmentsAndMakesItImmutable() {
        long fds = fds();
        MappedRegion region = MappedRegion.allocate(2 * PAGE, MappingOption.IMMUTABLE);
        MemorySegment writable = region.segment();
        writable.setString(0, "frozen config");
        MemorySegment frozen = region.sealReadOnly();
        assertThrows(IllegalStateException.class, () -> writable.get(ValueLayout.JAVA_BYTE, 0));
        assertEquals("frozen config", frozen.getString(0));
        assertTrue(frozen.isReadOnly());
        assertTrue(region.isSealed());
        assertTrue(region.isImmutable());
        assertEquals(fds, fds(), "the memfd is closed once frozen");
        assertEquals(frozen, region.sealReadOnly(), "the same view again");
        // Mapped through the memfd's own descriptor, as this kernel allows: VM_SHARED ("sh"), and no VM_MAYWRITE
        // ("mw"), which a mapping through a writable descriptor lacks only when the file is write-sealed.
        Smaps.Vma vma = Smaps.read(region.address(), region.address() + 1).getFirst();
        assertTrue(vma.flags().contains("sh") && !vma.flags().contains("mw"), vma.toString());
        region.close();
        assertEquals("frozen config", frozen.getString(0), "valid after close");
        assertTrue(region.isImmutable());
    }

    /**
     * Where the kernel refuses the read-only map through the memfd's own descriptor (Linux before 6.7, 6.12.0 to
     * 6.12.8), the probe makes freezes map through a descriptor opened read-only: played here by setting that
     * choice. Such a mapping never has VM_SHARED ("sh"), only VM_MAYSHARE ("ms"), and is just as immutable.
     */
    @Test
    void whereTheKernelRefusesTheOwnDescriptorTheMapGoesThroughAReadOnlyOne() {
        boolean probed = Memfd.throughReadOnlyDescriptor;
        Memfd.throughReadOnlyDescriptor = true;
        try {
            MappedRegion region = MappedRegion.allocate(PAGE, MappingOption.IMMUTABLE);
            region.segment().setString(0, "through a read-only descriptor");
            MemorySegment frozen = region.sealReadOnly();
            Smaps.Vma vma = Smaps.read(region.address(), region.address() + 1).getFirst();
            assertTrue(vma.flags().contains("ms") && !vma.flags().contains("sh"), vma.toString());
            assertTrue(region.isImmutable());
            assertEquals("through a read-only descriptor", frozen.getString(0));
        } finally {
            Memfd.throughReadOnlyDescriptor = probed;
        }
    }

    /**
     * Other code in the process can point the memfd's descriptor number at another file ({@code dup2}) while a
     * region is open. The freeze then sealed and mapped that file, and reported the region immutable (attack
     * round 9). It now checks the mapping itself: which file it is, and, through the memfd's own descriptor, that
     * it cannot become writable; through a read-only descriptor, which file that descriptor is first. In a child
     * JVM ({@link DescriptorSwapChild}).
     */
    @ParameterizedTest
    @ValueSource(strings = {"own", "read-only"})
    void aDescriptorPointedAtAnotherFileIsCaughtAndNothingIsReportedImmutable(String through) {
        ChildJvm.Result result = ChildJvm.runMain(List.of("--enable-native-access=ALL-UNNAMED"),
            DescriptorSwapChild.class, through);
        assertEquals(0, result.exitStatus(), result.transcript());
        String out = result.stdout();
        assertTrue(out.contains("swapped=true"), out);
        assertTrue(out.contains("freeze: IllegalStateException: ") && out.contains("another file"), out);
        assertTrue(out.contains("isImmutable=false isSealed=false"), out);
        assertTrue(out.contains("retry: returned, reads 'GOOD data', isImmutable=true"),
            "with the descriptor back, a retry seals, maps and checks anew: " + out);
    }

    @ParameterizedTest(name = "IMMUTABLE with {0}")
    @CsvSource({"NO_DUMP, dd", "LOCKED, lo", "NO_FORK, dc"})
    void everyOptionSurvivesTheFreeze(MappingOption option, String flag) {
        MappedRegion region = MappedRegion.allocate(PAGE, MappingOption.IMMUTABLE, option);
        region.sealReadOnly();
        Smaps.Vma vma = Smaps.read(region.address(), region.address() + 1).getFirst();
        assertTrue(vma.flags().contains(flag), flag + " on the frozen mapping: " + vma);
        assertTrue(vma.immutable(), vma.toString());
    }

    @Test
    void guardPagesSurviveTheFreezeSealedOnBothSides() {
        MappedRegion region = MappedRegion.allocate(PAGE, MappingOption.IMMUTABLE, MappingOption.GUARD_PAGES);
        region.sealReadOnly();
        List<Smaps.Vma> around = Smaps.read(region.address() - PAGE, region.address() + 2 * PAGE);
        assertEquals(3, around.size(), around.toString());
        assertEquals("---p", around.get(0).permissions());
        assertEquals("r--s", around.get(1).permissions());
        assertEquals("---p", around.get(2).permissions());
        assertTrue(around.stream().allMatch(Smaps.Vma::sealed), around.toString());
        // The guards' outer edges may lie further out, merged with sealed PROT_NONE pages earlier tests left.
        assertEquals(region.address(), around.get(0).end());
        assertTrue(around.get(0).start() <= region.address() - PAGE, around.toString());
        assertEquals(region.address() + PAGE, around.get(2).start());
    }

    @Test
    void concurrentReadersNeverCrashWhileRegionsAreFrozen() {
        ChildJvm.Result result = ChildJvm.runMain(List.of("--enable-native-access=ALL-UNNAMED"), FreezeRace.class,
            "200");
        assertEquals(0, result.exitStatus(), "the child lived: " + result.transcript());
        Matcher counts = Pattern.compile("regions=200 reads=(\\d+) revoked=(\\d+) wrong=(\\d+)").matcher(result.stdout());
        assertTrue(counts.find(), result.transcript());
        assertTrue(Long.parseLong(counts.group(2)) > 0, "freezing revoked segments in use: " + result.stdout());
        assertEquals("0", counts.group(3), "every value read was right");
    }

    @Test
    void arenasAndMapsAreImmutableByDefault() {
        try (SealedArena arena = SealedArena.create()) {
            MemorySegment key = arena.allocateFrom("secret");
            arena.allocate(3 * SealedArena.DEFAULT_CHUNK_SIZE, 8).fill((byte) 1); // a region of its own
            assertFalse(arena.isImmutable());
            arena.seal();
            assertTrue(arena.isImmutable());
            assertEquals("secret", arena.sealedView(key).getString(0));
        }
        SealedMap map = SealedMap.copyOf(Map.of("k", "v"));
        assertTrue(map.isImmutable());
        assertEquals("v", map.get("k"));
    }

    @Test
    void freezeCopiesExactlyTheBytesAskedFor() {
        byte[] key = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
        MemorySegment frozen = Mseal.freeze(key);
        assertEquals(16, frozen.byteSize(), "the page padding stays outside");
        assertArrayEquals(key, frozen.toArray(ValueLayout.JAVA_BYTE));
        assertTrue(frozen.isReadOnly());
        key[0] = 'X';
        assertEquals('0', frozen.get(ValueLayout.JAVA_BYTE, 0), "a copy");
        assertTrue(Smaps.coveredAndImmutable(Smaps.read(frozen.address(), frozen.address() + 16), frozen.address(),
            frozen.address() + 16));
        assertEquals(0, Mseal.freeze(new byte[0]).byteSize());
        MemorySegment fromSegment = Mseal.freeze(MemorySegment.ofArray(new long[] {1, 2, 3}));
        assertEquals(24, fromSegment.byteSize());
        assertEquals(3L, fromSegment.getAtIndex(ValueLayout.JAVA_LONG, 2));
        assertThrows(NullPointerException.class, () -> Mseal.freeze((byte[]) null));
    }

    @Test
    void freezeOfAFileChecksTheDigestOfTheFrozenCopy(@TempDir Path directory) throws Exception {
        Path file = directory.resolve("policy.json");
        Files.writeString(file, "{\"allow\": [\"api.example.com\"]}");
        String digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        MemorySegment frozen = Mseal.freeze(file, digest.toUpperCase());
        assertEquals(Files.size(file), frozen.byteSize());
        assertEquals("{\"allow\": [\"api.example.com\"]}", new String(frozen.toArray(ValueLayout.JAVA_BYTE),
            StandardCharsets.UTF_8));
        String wrong = "00".repeat(32);
        SecurityException mismatch = assertThrows(SecurityException.class, () -> Mseal.freeze(file, wrong));
        assertTrue(mismatch.getMessage().contains(wrong) && mismatch.getMessage().contains(digest),
            "names the expected and the actual digest: " + mismatch.getMessage());
        Path missing = directory.resolve("missing");
        assertThrows(IllegalArgumentException.class, () -> Mseal.freeze(missing, "not hex"),
            "the digest is checked before the file is read");
        assertThrows(NoSuchFileException.class, () -> Mseal.freeze(missing, digest));
        Path empty = Files.createFile(directory.resolve("empty"));
        assertEquals(0, Mseal.freeze(empty).byteSize());
    }

    @Test
    void aFileTooLargeToMapIsRefusedByNameBeforeAnythingIsMapped() throws IOException {
        Path shm = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(shm) && Files.isWritable(shm), "needs /dev/shm for a sparse file of 2^48 bytes");
        Path huge = Files.createTempFile(shm, "mseal4j-huge", ".bin");
        try {
            // 2^48 bytes exactly cannot lie below 2^48 either: page 0 is never mapped.
            for (long size : new long[] {(1L << 48) + 1, 1L << 48}) {
                try (var file = new java.io.RandomAccessFile(huge.toFile(), "rw")) {
                    file.setLength(size); // sparse: no block is written
                }
                long fds = fds();
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Mseal.freeze(huge));
                assertTrue(e.getMessage().contains(huge.toString()) && e.getMessage().contains("2^48"), e.getMessage());
                assertEquals(fds, fds(), "no memfd made, no descriptor left open");
            }
        } finally {
            Files.delete(huge);
        }
    }

    @Test
    void aFileWhoseSizeTheKernelDoesNotKnowIsRefusedSayingSo() {
        // sysfs reports 4,096 bytes for every attribute, whatever it holds.
        Path attribute = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");
        assumeTrue(Files.isReadable(attribute), "needs " + attribute);
        IOException e = assertThrows(IOException.class, () -> Mseal.freeze(attribute));
        assertTrue(e.getMessage().contains("/proc or /sys") && e.getMessage().contains("freeze the bytes"),
            "not only 'changed size': " + e.getMessage());
    }

    record Change(String name, String seen, FileChange change) {
        @Override
        public String toString() {
            return name;
        }
    }

    interface FileChange {
        void apply(Path file) throws IOException;
    }

    static List<Change> changes() {
        return List.of(
            new Change("same size, other content", "it was modified",
                file -> Files.writeString(file, "allow: evil.example.org!")),
            new Change("shrunk", "its size changed", file -> Files.writeString(file, "allow: api")),
            new Change("replaced by a rename", "another file is at its path", file -> {
                Path other = file.resolveSibling("other");
                Files.writeString(other, "allow: evil.example.org!");
                Files.move(other, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }));
    }

    /**
     * A file written while it is read gives a copy that may be torn: freeze(Path) refuses one whose size,
     * modification time or identity differ after the read from before it. The write is made at the exact point
     * between the read and the check, through the test observer; the file's time is set back first, so the write
     * changes it whatever the clock's granularity.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("changes")
    void aFileSeenToChangeWhileItIsReadIsRefused(Change change, @TempDir Path directory) throws Exception {
        Path file = directory.resolve("policy");
        Files.writeString(file, "allow: api.example.com!!");
        Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(0));
        FileCopy.readObserver = () -> {
            try {
                change.change().apply(file);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
        try {
            IOException refused = assertThrows(IOException.class, () -> Mseal.freeze(file));
            assertTrue(refused.getMessage().contains("changed while it was read: " + change.seen()),
                refused.getMessage());
        } finally {
            FileCopy.readObserver = null;
        }
    }

    @Test
    void onlyRegularFilesAreFrozenAndErrorsNameTheFile(@TempDir Path directory) throws Exception {
        Path fifo = directory.resolve("fifo");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertEquals(0, mkfifo.waitFor());
        // Opening a FIFO with no writer would block for ever (the test holds it open read-write, so that a
        // regression fails rather than hangs); a device would be read without end, or as empty.
        try (var holder = new java.io.RandomAccessFile(fifo.toFile(), "rw")) {
            assertTrue(holder.getFD().valid());
            for (Path special : List.of(fifo, Path.of("/dev/zero"), Path.of("/dev/null"))) {
                IOException e = assertThrows(IOException.class, () -> Mseal.freeze(special));
                assertTrue(e.getMessage().startsWith(special + " is not a regular file"), e.getMessage());
            }
        }
        Path mem = Path.of("/proc/self/mem"); // a regular file whose read at offset 0 fails
        IOException e = assertThrows(IOException.class, () -> Mseal.freeze(mem));
        assertTrue(e.getMessage().startsWith(mem.toString()), "names the file: " + e.getMessage());
    }

    @Test
    void aClosedSegmentIsRefusedWhateverItsLength() {
        MemorySegment empty;
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            empty = arena.allocate(0);
        }
        MemorySegment closed = empty;
        assertThrows(IllegalStateException.class, () -> Mseal.freeze(closed));
    }

    private static long fds() {
        try (var entries = Files.list(Path.of("/proc/self/fd"))) {
            return entries.count() - 1;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @AfterAll
    static void stayWithinTheSealBudget() {
        SealBudget.check(ImmutableTest.class.getSimpleName());
    }
}
