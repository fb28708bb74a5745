package io.github.mseal4j.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mseal4j.Protection;
import io.github.mseal4j.internal.PageMap.Page;
import io.github.mseal4j.internal.PageMap.Run;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.statistics.Statistics;
import org.junit.jupiter.api.Test;

/** The run-length page model agrees with a plain array of pages after any sequence of changes. */
class PageMapProperties {

    /** Sets pages {@code [from, to)} to a protection, or seals them. */
    record Change(int from, int to, Protection protection, boolean seal) {
        Page apply(Page page) {
            return seal ? page.sealedPage() : page.withProtection(protection);
        }
    }

    @Property(tries = 300)
    void agreesWithAnArrayOfPages(@ForAll @IntRange(min = 1, max = 40) int pages,
                                  @ForAll("changes") List<Change> changes,
                                  @ForAll @IntRange(min = 0, max = 4) int chunkShift,
                                  @ForAll @IntRange(min = 0, max = 40) int truncateTo) {
        // Chunks of 1 to 16 pages: boundaries inside, at the edges of and beyond every change.
        PageMap map = new PageMap(pages, new Page(Protection.READ_WRITE, false), chunkShift);
        Page[] array = new Page[pages];
        Arrays.fill(array, new Page(Protection.READ_WRITE, false));
        for (Change change : changes) {
            int from = Math.min(change.from(), pages);
            int to = Math.min(Math.max(change.to(), from), pages);
            long unsealed = Arrays.stream(array, from, to).filter(page -> !page.sealed()).count();
            if (change.seal()) {
                // Sealing has its own one-pass path: it must agree with the general update, and count.
                assertEquals(unsealed, map.seal(from, to), "newly sealed pages");
            } else {
                map.update(from, to, change::apply);
            }
            for (int i = from; i < to; i++) {
                array[i] = change.apply(array[i]);
            }
        }
        if (truncateTo > 0 && truncateTo < pages) {
            map.truncate(truncateTo);
            pages = truncateTo;
            array = Arrays.copyOf(array, pages);
        }
        assertEquals(pages, map.pages());
        List<Run> runs = map.runs();
        Statistics.label("runs").collect(runs.size() == 1 ? "one" : runs.size() < 5 ? "a few" : "many");
        int covered = 0;
        for (int r = 0; r < runs.size(); r++) {
            Run run = runs.get(r);
            assertEquals(covered, run.from(), "runs are contiguous");
            for (long i = run.from(); i < run.to(); i++) {
                assertEquals(array[(int) i], run.page(), "page " + i);
            }
            if (r > 0) {
                assertNotEquals(runs.get(r - 1).page(), run.page(), "adjacent runs differ (coalesced)");
            }
            covered = (int) run.to();
        }
        assertEquals(pages, covered);
        for (int from = 0; from < pages; from++) {
            for (int to = from; to <= pages; to++) {
                Page[] slice = Arrays.copyOfRange(array, from, to);
                assertEquals(Arrays.stream(slice).anyMatch(Page::sealed), map.any(from, to, Page::sealed));
                assertEquals(Arrays.stream(slice).allMatch(Page::sealed), map.all(from, to, Page::sealed));
                Protection least = Arrays.stream(slice).map(Page::protection).min(Enum::compareTo)
                    .orElse(Protection.READ_WRITE);
                assertEquals(least, map.leastAccess(from, to));
                assertEquals(Arrays.stream(slice).filter(page -> !page.sealed()).count(),
                    map.count(from, to, page -> !page.sealed()));
                if (from < to) {
                    assertEquals(Arrays.stream(slice).allMatch(Page::sealed), map.allSealed(from, to),
                        "allSealed, the lock-free question");
                }
            }
            assertEquals(array[from], map.pageAt(from));
        }
        boolean uniform = Arrays.stream(array).distinct().count() == 1;
        Statistics.label("uniform").collect(uniform);
        if (map.uniform()) {
            assertTrue(uniform, "uniform() only when every page is alike");
        }
    }

    @Provide
    Arbitrary<List<Change>> changes() {
        Arbitrary<Integer> index = Arbitraries.integers().between(0, 40);
        Arbitrary<Change> change = Combinators.combine(index, index, Arbitraries.of(Protection.values()),
            Arbitraries.of(true, false)).as((a, b, protection, seal) ->
            new Change(Math.min(a, b), Math.max(a, b), protection, seal));
        return change.list().ofMaxSize(12);
    }

    @Test
    void refusesRangesOutsideThePages() {
        PageMap map = new PageMap(4, new Page(Protection.NONE, false));
        assertThrows(IndexOutOfBoundsException.class, () -> map.any(-1, 2, Page::sealed));
        assertThrows(IndexOutOfBoundsException.class, () -> map.runs(2, 5));
        assertThrows(IndexOutOfBoundsException.class, () -> map.set(3, 2, new Page(Protection.READ, true)));
        assertThrows(IllegalArgumentException.class, () -> new PageMap(0, new Page(Protection.READ, false)));
    }

    /**
     * What {@code close()} unmaps: the unsealed pages and the unsealed guards, each byte exactly once, in address
     * order, adjacent ones merged into one range (so no range ends where the next begins).
     */
    @Property(tries = 200)
    void unsealedRangesCoverExactlyTheUnsealedPagesMerged(@ForAll @IntRange(min = 1, max = 40) int pages,
                                                          @ForAll("changes") List<Change> changes,
                                                          @ForAll boolean guards, @ForAll boolean guardBelowSealed,
                                                          @ForAll boolean guardAboveSealed) {
        long pageSize = 4096;
        long address = 1L << 30;
        long guard = guards ? pageSize : 0;
        PageMap map = new PageMap(pages, new Page(Protection.READ_WRITE, false), 2);
        for (Change change : changes) {
            int from = Math.min(change.from(), pages);
            int to = Math.min(Math.max(change.to(), from), pages);
            map.update(from, to, change::apply);
        }
        List<long[]> ranges = map.unsealedRanges(address, pageSize, guard, guardBelowSealed, guardAboveSealed);
        java.util.Set<Long> expected = new java.util.TreeSet<>();
        for (int i = 0; i < pages; i++) {
            if (!map.pageAt(i).sealed()) {
                expected.add(address + i * pageSize);
            }
        }
        if (guards && !guardBelowSealed) {
            expected.add(address - pageSize);
        }
        if (guards && !guardAboveSealed) {
            expected.add(address + pages * pageSize);
        }
        java.util.Set<Long> covered = new java.util.TreeSet<>();
        long lastEnd = Long.MIN_VALUE;
        for (long[] range : ranges) {
            assertTrue(range[1] > 0 && range[0] > lastEnd, "sorted, disjoint and not adjacent: " + ranges.size());
            for (long at = range[0]; at < range[0] + range[1]; at += pageSize) {
                assertTrue(covered.add(at), "each page once");
            }
            lastEnd = range[0] + range[1];
        }
        assertEquals(expected, covered);
        Statistics.label("ranges").collect(ranges.size() < 2 ? "0-1" : ranges.size() < 4 ? "2-3" : "4+");
    }
}
