package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.Mman;
import io.github.mseal4j.testing.Layout;
import io.github.mseal4j.testing.Limits;
import io.github.mseal4j.testing.ProcMem;
import io.github.mseal4j.testing.SealBudget;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Examples for every input check, error path and lifetime rule of {@link MappedRegion}. */
class MappedRegionTest {
    private static final long PAGE = Mseal.pageSize();

    private boolean sealingWorks;

    @BeforeEach
    void probe() {
        sealingWorks = Mseal.isSupported();
    }

    private void requireSealing() {
        assumeTrue(sealingWorks, "mseal is not available here: " + Mseal.support().reason());
    }

    private static Layout layout(MappedRegion region) {
        return Layout.read(region.address(), (int) (region.mappedSize() / PAGE), PAGE);
    }

    // ---- allocation ----

    @ParameterizedTest
    @ValueSource(longs = {1, 100, 4095, 4096, 4097, 65536, 1 << 20})
    void allocateMapsWholePagesOfZeroedReadWriteMemoryAndHandsOutExactlyTheSizeAsked(long size) {
        try (MappedRegion region = MappedRegion.allocate(size)) {
            assertEquals((size + PAGE - 1) / PAGE * PAGE, region.mappedSize());
            assertEquals(size, region.byteSize());
            assertEquals(0, region.address() % PAGE, "page-aligned");
            MemorySegment segment = region.segment();
            assertEquals(size, segment.byteSize());
            assertFalse(segment.isReadOnly());
            assertEquals(-1, segment.mismatch(MemorySegment.ofArray(new byte[(int) size])), "zeroed");
            segment.set(ValueLayout.JAVA_BYTE, size - 1, (byte) 42);
            assertEquals(42, segment.get(ValueLayout.JAVA_BYTE, size - 1));
            byte[] tail = ProcMem.read(region.address() + size, (int) (region.mappedSize() - size)).orElseThrow();
            assertArrayEquals(new byte[tail.length], tail, "the page's tail is zeroed, and never handed out");
            assertThrows(IndexOutOfBoundsException.class, () -> region.segment(size, 1));
            Layout.PageState first = layout(region).page(0);
            assertTrue(first.mapped() && first.protection() == Protection.READ_WRITE && !first.sealed());
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {0, -1, -4096, Long.MIN_VALUE, Long.MAX_VALUE, Long.MAX_VALUE - 1})
    void allocateRefusesSizesItCannotMap(long size) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MappedRegion.allocate(size));
        assertTrue(e.getMessage().contains(Long.toString(size)), e.getMessage());
    }

    @Test
    void aFailedMmapReportsTheCallTheErrnoAndTheRemedy() {
        long size = Limits.UNMAPPABLE;
        SystemCallException e = assertThrows(SystemCallException.class, () -> MappedRegion.allocate(size));
        assertEquals("mmap", e.operation());
        assertEquals(Errno.ENOMEM, e.errno());
        assertEquals("ENOMEM", e.errnoName());
        assertEquals(size, e.length());
        assertTrue(e.getMessage().startsWith("mmap(0x0, " + size + ", PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS)"
            + " failed: ENOMEM (errno 12): "), e.getMessage());
        assertTrue(e.getMessage().contains("vm.max_map_count"), e.getMessage());
    }

    // ---- ranges are checked before any system call ----

    /** A bad range and what it must throw; {@code pages} is the size of the region it is used on. */
    record BadRange(String name, long offset, long length, Class<? extends RuntimeException> thrown, String mentions) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<BadRange> badRanges() {
        long page = Mseal.pageSize();
        return Stream.of(
            new BadRange("negative offset", -page, page, IndexOutOfBoundsException.class, "out of bounds"),
            new BadRange("negative length", 0, -page, IndexOutOfBoundsException.class, "out of bounds"),
            new BadRange("past the end", 3 * page, 2 * page, IndexOutOfBoundsException.class, "out of bounds"),
            new BadRange("starting at the end", 4 * page, page, IndexOutOfBoundsException.class, "out of bounds"),
            new BadRange("offset + length overflows", page, Long.MAX_VALUE, IndexOutOfBoundsException.class,
                "out of bounds"),
            new BadRange("huge offset", Long.MAX_VALUE - page + 1, page, IndexOutOfBoundsException.class,
                "out of bounds"),
            new BadRange("unaligned offset", 100, page, IllegalArgumentException.class,
                "offset 100 is not a multiple of the page size " + page),
            new BadRange("unaligned length", 0, page + 1, IllegalArgumentException.class,
                "whole pages would be " + 2 * page),
            new BadRange("short length", 0, 1, IllegalArgumentException.class, "not a positive multiple"),
            new BadRange("zero length", page, 0, IllegalArgumentException.class, "not a positive multiple"));
    }

    @ParameterizedTest(name = "protect: {0}")
    @MethodSource("badRanges")
    void protectRefusesBadRangesAndChangesNothing(BadRange bad) {
        try (MappedRegion region = MappedRegion.allocate(4 * PAGE)) {
            RuntimeException e = assertThrows(bad.thrown(),
                () -> region.protect(bad.offset(), bad.length(), Protection.READ));
            assertTrue(e.getMessage().contains(bad.mentions()), e.getMessage());
            assertAllPages(region, Protection.READ_WRITE, false);
        }
    }

    @ParameterizedTest(name = "seal: {0}")
    @MethodSource("badRanges")
    void sealRefusesBadRangesAndSealsNothing(BadRange bad) {
        requireSealing();
        try (MappedRegion region = MappedRegion.allocate(4 * PAGE)) {
            RuntimeException e = assertThrows(bad.thrown(), () -> region.seal(bad.offset(), bad.length()));
            assertTrue(e.getMessage().contains(bad.mentions()), e.getMessage());
            assertAllPages(region, Protection.READ_WRITE, false);
        }
    }

    @Test
    void segmentRangesAreChecked() {
        try (MappedRegion region = MappedRegion.allocate(PAGE)) {
            assertThrows(IndexOutOfBoundsException.class, () -> region.segment(-1, 1));
            assertThrows(IndexOutOfBoundsException.class, () -> region.segment(0, PAGE + 1));
            assertThrows(IndexOutOfBoundsException.class, () -> region.segment(PAGE, 1));
            assertEquals(3, region.segment(5, 3).byteSize(), "unaligned slices are fine");
            assertEquals(0, region.segment(PAGE, 0).byteSize());
        }
    }

    @Test
    void protectRefusesNull() {
        try (MappedRegion region = MappedRegion.allocate(PAGE)) {
            assertThrows(NullPointerException.class, () -> region.protect(null));
            assertThrows(NullPointerException.class, () -> region.protect(0, PAGE, null));
        }
    }

    // ---- protection and segments ----

    @Test
    void takingAccessAwayInvalidatesEverySegmentHandedOut() {
        try (MappedRegion region = MappedRegion.allocate(2 * PAGE)) {
            MemorySegment whole = region.segment();
            MemorySegment slice = whole.asSlice(PAGE, 8);
            whole.set(ValueLayout.JAVA_INT, 0, 7);
            region.protect(PAGE, PAGE, Protection.READ);
            assertThrows(IllegalStateException.class, () -> whole.get(ValueLayout.JAVA_INT, 0));
            assertThrows(IllegalStateException.class, () -> slice.set(ValueLayout.JAVA_BYTE, 0, (byte) 1));
            assertThrows(IllegalStateException.class, () -> whole.asByteBuffer().get(0));

            MemorySegment fresh = region.segment();
            assertTrue(fresh.isReadOnly(), "a page is read-only now");
            assertEquals(7, fresh.get(ValueLayout.JAVA_INT, 0));
            assertThrows(IllegalArgumentException.class, () -> fresh.set(ValueLayout.JAVA_INT, PAGE, 1));
            assertFalse(region.segment(0, PAGE).isReadOnly(), "the first page is still writable");
        }
    }

    @Test
    void grantingMoreAccessKeepsSegmentsValid() {
        try (MappedRegion region = MappedRegion.allocate(PAGE)) {
            region.protect(Protection.READ);
            MemorySegment readable = region.segment();
            region.protect(Protection.READ_WRITE);
            assertEquals(0, readable.get(ValueLayout.JAVA_BYTE, 0));
            region.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) 3);
            assertEquals(3, readable.get(ValueLayout.JAVA_BYTE, 0));
        }
    }

    @Test
    void noSegmentCoversInaccessiblePages() {
        try (MappedRegion region = MappedRegion.allocate(2 * PAGE)) {
            region.protect(0, PAGE, Protection.NONE);
            IllegalStateException e = assertThrows(IllegalStateException.class, region::segment);
            assertTrue(e.getMessage().contains("PROT_NONE"), e.getMessage());
            assertThrows(IllegalStateException.class, () -> region.segment(PAGE - 1, 2));
            region.segment(PAGE, PAGE).set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
            assertArrayEquals(new byte[] {1}, ProcMem.read(region.address() + PAGE, 1).orElseThrow());
        }
    }

    // ---- sealing ----

    @Test
    void sealingIsIdempotent() {
        requireSealing();
        try (MappedRegion region = MappedRegion.allocate(2 * PAGE)) {
            region.seal(0, PAGE);
            region.seal(0, PAGE);
            region.seal();
            region.seal();
            assertTrue(region.isSealed());
            assertAllPages(region, Protection.READ_WRITE, true);
        }
    }

    @Test
    void sealReadOnlyFreezesTheContentsAndReturnsTheSameViewEachTime() {
        requireSealing();
        MappedRegion region = MappedRegion.allocate(PAGE);
        region.segment().setString(0, "allow: api.example.com");
        MemorySegment view = region.sealReadOnly();
        assertSame(view, region.sealReadOnly());
        assertTrue(view.isReadOnly());
        assertEquals("allow: api.example.com", view.getString(0));
        assertThrows(IllegalArgumentException.class, () -> view.set(ValueLayout.JAVA_BYTE, 0, (byte) 0));
        assertAllPages(region, Protection.READ, true);
        assertEquals(Errno.EPERM, LibC.mprotect(region.address(), PAGE, Mman.PROT_READ | Mman.PROT_WRITE));

        region.close();
        assertEquals("allow: api.example.com", view.getString(0), "valid forever, after close() too");
        assertTrue(region.isSealed());
    }

    @Test
    void sealReadOnlyRefusesPagesAlreadySealedWritable() {
        requireSealing();
        try (MappedRegion region = MappedRegion.allocate(2 * PAGE)) {
            region.seal(PAGE, PAGE);
            IllegalStateException e = assertThrows(IllegalStateException.class, region::sealReadOnly);
            assertTrue(e.getMessage().contains("[1, 2) READ_WRITE sealed"), e.getMessage());
            assertEquals(Protection.READ_WRITE, layout(region).page(0).protection(), "nothing changed");
        }
    }

    @Test
    void protectingSealedPagesIsRefusedBeforeTheKernelCanApplyPartOfIt() {
        requireSealing();
        try (MappedRegion region = MappedRegion.allocate(3 * PAGE)) {
            region.seal(PAGE, PAGE);
            IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> region.protect(0, 3 * PAGE, Protection.READ));
            assertTrue(e.getMessage().contains("sealed"), e.getMessage());
            // Linux 6.12+ would have made page 0 read-only before refusing page 1: the library did not ask.
            Layout after = layout(region);
            assertEquals(Protection.READ_WRITE, after.page(0).protection());
            assertEquals(Protection.READ_WRITE, after.page(2).protection());
            region.protect(2 * PAGE, PAGE, Protection.READ);
            assertEquals(Protection.READ, layout(region).page(2).protection(), "unsealed pages still change");
        }
    }

    @Test
    void memorySealedBehindTheLibrarysBackFailsWithTheKernelsEperm() {
        requireSealing();
        MappedRegion region = MappedRegion.allocate(2 * PAGE);
        assertEquals(0, LibC.mseal(region.address() + PAGE, PAGE), "sealed without telling the region");
        SystemCallException e = assertThrows(SystemCallException.class,
            () -> region.protect(0, 2 * PAGE, Protection.READ));
        assertEquals("mprotect", e.operation());
        assertEquals("EPERM", e.errnoName());
        assertEquals(region.address(), e.address());
        assertTrue(e.getMessage().contains("PROT_READ") && e.getMessage().contains("sealed"), e.getMessage());
        // The region asked the kernel what happened (page 0 changed first on 6.12+) and now knows page 1 is sealed.
        assertThrows(IllegalStateException.class, () -> region.protect(PAGE, PAGE, Protection.NONE));
        assertDoesNotThrow(region::close, "close() does not fail on sealed pages");
        assertTrue(layout(region).page(1).sealed(), "the sealed page stays mapped");
        assertFalse(layout(region).page(0).mapped(), "the other page is unmapped");
    }

    /**
     * A page sealed behind the library's back makes {@code munmap} of its range fail with EPERM, and munmap
     * changes nothing then. close() asks the kernel which pages are sealed and unmaps the rest, guard pages
     * included, rather than failing the same way at every retry: with a data page sealed, and with a guard page
     * sealed.
     */
    @ParameterizedTest
    @ValueSource(ints = {1, -1})
    void closeUnmapsWhatIsNotSealedWhenPagesWereSealedBehindItsBack(int sealedPage) {
        requireSealing();
        MappedRegion region = MappedRegion.allocate(3 * PAGE, MappingOption.GUARD_PAGES);
        long sealedAt = region.address() + sealedPage * PAGE; // page 1, or the guard below (page -1)
        assertEquals(0, LibC.mseal(sealedAt, PAGE), "sealed without telling the region");
        assertDoesNotThrow(region::close, "close() unmaps what it can");
        Layout after = Layout.read(region.address() - PAGE, 5, PAGE); // guard, 3 data pages, guard
        for (int page = 0; page < 5; page++) {
            boolean sealedHere = page == sealedPage + 1;
            assertEquals(sealedHere, after.page(page).mapped(), "page " + (page - 1) + " of the region: only the"
                + " page sealed behind its back stays mapped");
        }
        assertTrue(after.page(sealedPage + 1).sealed());
        assertDoesNotThrow(region::close, "closing again does nothing");
    }

    /** Which pages to seal in a region of {@code pages}, and whether the whole region then counts as sealed. */
    record PartialSeal(String name, int pages, List<int[]> sealed, boolean whole) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<PartialSeal> partialSeals() {
        return Stream.of(
            new PartialSeal("nothing sealed", 3, List.of(), false),
            new PartialSeal("first page", 3, List.of(new int[] {0, 1}), false),
            new PartialSeal("last page", 3, List.of(new int[] {2, 3}), false),
            new PartialSeal("middle page", 3, List.of(new int[] {1, 2}), false),
            new PartialSeal("two halves", 4, List.of(new int[] {0, 2}, new int[] {2, 4}), true),
            new PartialSeal("ends, not the middle", 3, List.of(new int[] {0, 1}, new int[] {2, 3}), false),
            new PartialSeal("whole region", 2, List.of(new int[] {0, 2}), true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("partialSeals")
    void isSealedAgreesWithSmaps(PartialSeal partial) {
        requireSealing();
        try (MappedRegion region = MappedRegion.allocate(partial.pages() * PAGE)) {
            for (int[] range : partial.sealed()) {
                region.seal(range[0] * PAGE, (range[1] - range[0]) * PAGE);
            }
            Layout layout = layout(region);
            boolean everyPage = true;
            for (int page = 0; page < partial.pages(); page++) {
                everyPage &= layout.page(page).sealed();
            }
            assertEquals(partial.whole(), everyPage, "smaps");
            assertEquals(partial.whole(), region.isSealed(), "isSealed()");
        }
    }

    // ---- closing ----

    @Test
    void closeIsIdempotentAndEverythingAfterItFailsCleanly() {
        MappedRegion region = MappedRegion.allocate(PAGE);
        MemorySegment segment = region.segment();
        region.close();
        region.close();
        assertThrows(IllegalStateException.class, () -> segment.get(ValueLayout.JAVA_BYTE, 0));
        assertThrows(IllegalStateException.class, () -> segment.asByteBuffer().get());
        List<Consumer<MappedRegion>> calls = List.of(MappedRegion::segment, r -> r.segment(0, 1),
            r -> r.protect(Protection.READ), MappedRegion::seal, r -> r.seal(0, PAGE), MappedRegion::sealReadOnly);
        for (Consumer<MappedRegion> call : calls) {
            if (call != (Consumer<MappedRegion>) MappedRegion::seal || sealingWorks) {
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> call.accept(region));
                assertTrue(e.getMessage().contains("closed"), e.getMessage());
            }
        }
        assertFalse(region.isSealed());
        assertTrue(region.toString().contains("closed"));
    }

    @Test
    void closeUnmapsAnUnsealedRegion() {
        MappedRegion region = MappedRegion.allocate(3 * PAGE);
        long address = region.address();
        region.close();
        assertTrue(ProcMem.read(address, 1).isEmpty(), "unmapped");
    }

    @Test
    void closeOfAPartlySealedRegionKeepsOnlyTheSealedPages() {
        requireSealing();
        MappedRegion region = MappedRegion.allocate(4 * PAGE);
        region.segment().fill((byte) 9);
        region.seal(PAGE, PAGE);
        MemorySegment segment = region.segment();
        region.close();
        assertThrows(IllegalStateException.class, () -> segment.get(ValueLayout.JAVA_BYTE, PAGE));
        Layout after = layout(region);
        assertFalse(after.page(0).mapped());
        assertTrue(after.page(1).mapped() && after.page(1).sealed());
        assertFalse(after.page(2).mapped());
        assertFalse(after.page(3).mapped());
        assertArrayEquals(new byte[] {9}, ProcMem.read(region.address() + PAGE, 1).orElseThrow());
        assertFalse(region.isSealed(), "the region is not wholly sealed");
    }

    @Test
    void describesItself() {
        try (MappedRegion region = MappedRegion.allocate(2 * PAGE)) {
            region.protect(PAGE, PAGE, Protection.READ);
            String text = region.toString();
            assertTrue(text.contains(Errno.hex(region.address())) && text.contains("[1, 2) READ"), text);
        }
    }

    @Test
    void messagesListTheFirstAndLastRunsOnly() {
        requireSealing();
        int pages = 400;
        MappedRegion region = MappedRegion.allocate(pages * PAGE);
        for (int page = 0; page < pages; page += 2) {
            region.seal(page * PAGE, PAGE);
        }
        IllegalStateException refused = assertThrows(IllegalStateException.class, () -> region.protect(Protection.READ));
        assertTrue(refused.getMessage().length() < 1_000, refused.getMessage().length() + " characters");
        assertTrue(refused.getMessage().contains("[0, 1) READ_WRITE sealed"), refused.getMessage());
        assertTrue(refused.getMessage().contains("[399, 400) READ_WRITE"), refused.getMessage());
        assertTrue(refused.getMessage().contains("more"), refused.getMessage());
        region.close();
    }

    @AfterAll
    static void stayWithinTheSealBudget() {
        SealBudget.check(MappedRegionTest.class.getSimpleName());
    }

    private static void assertAllPages(MappedRegion region, Protection protection, boolean sealed) {
        Layout layout = layout(region);
        for (int page = 0; page < layout.pages(); page++) {
            assertEquals(protection, layout.page(page).protection(), "page " + page);
            assertEquals(sealed, layout.page(page).sealed(), "page " + page);
        }
    }
}
