package io.github.mseal4j.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mseal4j.Protection;
import io.github.mseal4j.internal.Smaps.Vma;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.StringReader;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class SmapsTest {
    /** Three mappings as Linux 6.18 prints them, trimmed; the middle one sealed. */
    private static final String SAMPLE = """
        7f0000000000-7f0000002000 rw-p 00000000 00:00 0
        Size:                  8 kB
        KernelPageSize:        4 kB
        FilePmdMapped:         0 kB
        VmFlags: rd wr mr mw me ac
        7f0000002000-7f0000003000 r--p 00000000 00:00 0
        Size:                  4 kB
        ProtectionKey:         0
        VmFlags: rd mr mw me ac sl
        7f0000003000-7f0000004000 ---p 00000000 00:00 0                          [anon:guard]
        Size:                  4 kB
        VmFlags: mr mw me sl dd
        ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
        Size:                  4 kB
        VmFlags: ex
        """;

    private static List<Vma> parse(long start, long end) throws IOException {
        return Smaps.parse(new BufferedReader(new StringReader(SAMPLE)), start, end);
    }

    @Test
    void parsesRangesPermissionsAndFlags() throws IOException {
        List<Vma> vmas = parse(0x7f0000000000L, 0x7f0000004000L);
        assertEquals(3, vmas.size());
        assertEquals(0x7f0000002000L, vmas.get(1).start());
        assertEquals(0x7f0000003000L, vmas.get(1).end());
        assertEquals(Protection.READ_WRITE, vmas.get(0).protection());
        assertEquals(Protection.READ, vmas.get(1).protection());
        assertEquals(Protection.NONE, vmas.get(2).protection());
        assertFalse(vmas.get(0).sealed());
        assertTrue(vmas.get(1).sealed());
        assertEquals("mr mw me sl dd", vmas.get(2).flagLine());
        assertTrue(vmas.get(0).isPrivate());
    }

    @Test
    void keepsOnlyMappingsThatOverlapTheRange() throws IOException {
        List<Vma> vmas = parse(0x7f0000001000L, 0x7f0000002001L);
        assertEquals(List.of(0x7f0000000000L, 0x7f0000002000L), vmas.stream().map(Vma::start).toList());
        assertEquals(List.of(), parse(0x1000, 0x2000));
    }

    record Coverage(String name, long start, long end, boolean sealed) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Coverage> coverages() {
        return Stream.of(
            new Coverage("one sealed mapping", 0x7f0000002000L, 0x7f0000003000L, true),
            new Coverage("two sealed mappings", 0x7f0000002000L, 0x7f0000004000L, true),
            new Coverage("part of a sealed mapping", 0x7f0000003000L, 0x7f0000003800L, true),
            new Coverage("includes an unsealed mapping", 0x7f0000001000L, 0x7f0000003000L, false),
            new Coverage("runs past the last mapping", 0x7f0000003000L, 0x7f0000005000L, false),
            new Coverage("nothing mapped", 0x1000, 0x2000, false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("coverages")
    void sealedMeansEveryByteCoveredBySealedMappings(Coverage coverage) throws IOException {
        List<Vma> vmas = parse(coverage.start(), coverage.end());
        assertEquals(coverage.sealed(), Smaps.coveredAndSealed(vmas, coverage.start(), coverage.end()));
    }

    /** The same mappings as /proc/self/maps prints them, with a gap before the last one. */
    private static final String MAPS = """
        7f0000000000-7f0000002000 rw-p 00000000 00:00 0
        7f0000002000-7f0000003000 r--p 00000000 00:00 0
        7f0000003000-7f0000004000 ---p 00000000 00:00 0                          [anon:guard]
        7f0000006000-7f0000007000 rw-s 00000000 00:01 7                          /memfd:mseal4j (deleted)
        ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
        """;

    @Test
    void theProtectionAtAnAddressComesFromItsMappingInMaps() throws IOException {
        record Case(long address, java.util.Optional<Protection> expected) {
        }
        for (Case c : List.of(new Case(0x7f0000000000L, java.util.Optional.of(Protection.READ_WRITE)),
                new Case(0x7f0000001fffL, java.util.Optional.of(Protection.READ_WRITE)),
                new Case(0x7f0000002000L, java.util.Optional.of(Protection.READ)),
                new Case(0x7f0000003abcL, java.util.Optional.of(Protection.NONE)),
                new Case(0x7f0000004000L, java.util.Optional.<Protection>empty()),  // the gap
                new Case(0x7f0000006000L, java.util.Optional.of(Protection.READ_WRITE)),
                new Case(0x1000L, java.util.Optional.<Protection>empty()),          // below everything
                new Case(-1L, java.util.Optional.<Protection>empty()))) {           // above everything
            assertEquals(c.expected(), Smaps.protectionAt(new BufferedReader(new StringReader(MAPS)), c.address()),
                Long.toHexString(c.address()));
        }
    }

    @Test
    void theFileAtAnAddressIsItsMappingsDeviceAndInode() throws IOException {
        assertEquals(java.util.Optional.of(new Smaps.MappedFile(0x7f0000006000L, 0x7f0000007000L, 0, 1, 7, 0)),
            Smaps.mappedFileAt(new BufferedReader(new StringReader(MAPS)), 0x7f0000006abcL));
        assertEquals(java.util.Optional.of(new Smaps.MappedFile(0x7f0000002000L, 0x7f0000003000L, 0, 0, 0, 0)),
            Smaps.mappedFileAt(new BufferedReader(new StringReader(MAPS)), 0x7f0000002000L), "anonymous memory");
        assertEquals(java.util.Optional.empty(), Smaps.mappedFileAt(new BufferedReader(new StringReader(MAPS)),
            0x7f0000004000L), "the gap");
    }

    /** The kernel's answer for this process, by PROCMAP_QUERY (6.11+) or the text: a memfd mapped here is found. */
    @Test
    void theFileMappedHereIsTheOneTheKernelReports() {
        long page = io.github.mseal4j.Mseal.pageSize();
        int fd = LibC.memfdCreate(Mman.MFD_CLOEXEC);
        try {
            LibC.ftruncate(fd, page);
            long at = LibC.mmap(0, page, Mman.PROT_READ, Mman.MAP_SHARED, fd, 0);
            try {
                Smaps.MappedFile mapped = Smaps.mappedFileAt(at).orElseThrow();
                assertTrue(mapped.of(FileStat.of(fd)) && mapped.start() == at && mapped.end() == at + page,
                    mapped + " against " + FileStat.of(fd));
            } finally {
                LibC.munmap(at, page);
            }
        } finally {
            LibC.close(fd);
        }
    }

    @Test
    void theLayoutCountsMappingsAndFindsTheLargestGapBelowTheBound() throws IOException {
        Smaps.Layout layout = Smaps.layout(new BufferedReader(new StringReader(MAPS)), 1L << 47);
        assertEquals(5, layout.mappings());
        assertEquals(0x7f0000000000L, layout.largestGap(), "from 0 to the first mapping; [vsyscall] lies above");
        Smaps.Layout high = Smaps.layout(new BufferedReader(new StringReader(MAPS.lines().skip(1)
            .map(line -> line + "\n").reduce("0-1000 r--p 0 00:00 0\n", String::concat))), 1L << 47);
        assertEquals(0x7f0000002000L - 0x1000L, high.largestGap(), high.toString());
    }

    @Test
    void theProtectionAtAnAddressOfThisProcessIsWhatTheKernelApplied() {
        long page = io.github.mseal4j.Mseal.pageSize();
        try (io.github.mseal4j.MappedRegion region = io.github.mseal4j.MappedRegion.allocate(3 * page)) {
            region.protect(page, page, Protection.NONE);
            region.protect(2 * page, page, Protection.READ);
            assertEquals(java.util.Optional.of(Protection.READ_WRITE), Smaps.protectionAt(region.address()));
            assertEquals(java.util.Optional.of(Protection.NONE), Smaps.protectionAt(region.address() + page));
            assertEquals(java.util.Optional.of(Protection.READ), Smaps.protectionAt(region.address() + 3 * page - 1));
        }
    }

    @Test
    void readsThisProcess() {
        List<Vma> all = Smaps.read(0, Long.MAX_VALUE);
        assertTrue(all.size() > 10, "a JVM has many mappings: " + all.size());
        for (int i = 1; i < all.size(); i++) {
            assertTrue(all.get(i - 1).end() <= all.get(i).start(), "in address order, not overlapping");
        }
    }
}
