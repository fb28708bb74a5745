package io.github.mseal4j.internal;

import io.github.mseal4j.Protection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * What the library believes about each page of one mapping: its protection and whether it is sealed.
 * Stored as runs of equal pages, so a region of a million pages with one protection costs one entry.
 * Not thread-safe: the owning region guards it.
 */
public final class PageMap {

    /** The state of one page. */
    public record Page(Protection protection, boolean sealed) {
        private static final Page[] CANONICAL = new Page[Protection.values().length * 2];

        static {
            for (Protection protection : Protection.values()) {
                CANONICAL[protection.ordinal() * 2] = new Page(protection, false);
                CANONICAL[protection.ordinal() * 2 + 1] = new Page(protection, true);
            }
        }

        public Page {
            Objects.requireNonNull(protection, "protection");
        }

        /** The page in this state; one shared instance per state, so changing state allocates nothing. */
        public static Page of(Protection protection, boolean sealed) {
            return CANONICAL[protection.ordinal() * 2 + (sealed ? 1 : 0)];
        }

        /** This page with another protection. */
        public Page withProtection(Protection newProtection) {
            return of(newProtection, sealed);
        }

        /** This page, sealed. */
        public Page sealedPage() {
            return of(protection, true);
        }
    }

    /** Pages {@code [from, to)}, all in {@code page} state. */
    public record Run(long from, long to, Page page) {
    }

    private long pages;
    private final TreeMap<Long, Page> runs = new TreeMap<>();

    /** {@code pages} pages, all in {@code initial} state. */
    public PageMap(long pages, Page initial) {
        if (pages <= 0) {
            throw new IllegalArgumentException("pages must be positive: " + pages);
        }
        this.pages = pages;
        runs.put(0L, Objects.requireNonNull(initial, "initial"));
    }

    /** The number of pages. */
    public long pages() {
        return pages;
    }

    /** True when every page is in the same state (one run): the common case, checked without allocating. */
    public boolean uniform() {
        return runs.size() == 1;
    }

    /** The state of page {@code index}. */
    public Page pageAt(long index) {
        checkRange(index, index + 1);
        return runs.get(runs.floorKey(index));
    }

    /** Sets every page to {@code page}: one run. */
    public void setAll(Page page) {
        Objects.requireNonNull(page, "page");
        if (runs.size() > 1) {
            runs.clear();
        }
        runs.put(0L, page);
    }

    /** The number of runs of equal pages that cover {@code [from, to)}. */
    public int runCount(long from, long to) {
        checkRange(from, to);
        if (from == to) {
            return 0;
        }
        return runs.subMap(runs.floorKey(from), true, to, false).size();
    }

    /** Drops the pages from {@code newPages} on. */
    public void truncate(long newPages) {
        if (newPages <= 0 || newPages > pages) {
            throw new IndexOutOfBoundsException("cannot truncate " + pages + " pages to " + newPages);
        }
        runs.tailMap(newPages, true).clear();
        pages = newPages;
    }

    /** Applies {@code change} to every page of {@code [from, to)}; false when that changed nothing. */
    public boolean update(long from, long to, UnaryOperator<Page> change) {
        checkRange(from, to);
        if (from == to || unchangedBy(from, to, change)) {
            return false;
        }
        split(from);
        split(to);
        for (Map.Entry<Long, Page> entry : runs.subMap(from, true, to, false).entrySet()) {
            entry.setValue(Objects.requireNonNull(change.apply(entry.getValue())));
        }
        coalesce(from, to);
        return true;
    }

    /** True when {@code change} leaves every page of {@code [from, to)} as it is; cheap for one run. */
    private boolean unchangedBy(long from, long to, UnaryOperator<Page> change) {
        Map.Entry<Long, Page> first = runs.floorEntry(from);
        Long next = runs.higherKey(first.getKey());
        if (next == null || next >= to) {
            return change.apply(first.getValue()).equals(first.getValue());
        }
        return all(from, to, page -> change.apply(page).equals(page));
    }

    /** Sets every page of {@code [from, to)} to {@code page}. */
    public void set(long from, long to, Page page) {
        update(from, to, ignored -> page);
    }

    /** True when some page of {@code [from, to)} matches. */
    public boolean any(long from, long to, Predicate<Page> test) {
        checkRange(from, to);
        for (Run run : runs(from, to)) {
            if (test.test(run.page())) {
                return true;
            }
        }
        return false;
    }

    /** How many pages of {@code [from, to)} match. */
    public long count(long from, long to, Predicate<Page> test) {
        long count = 0;
        for (Run run : runs(from, to)) {
            if (test.test(run.page())) {
                count += run.to() - run.from();
            }
        }
        return count;
    }

    /** True when every page of {@code [from, to)} matches (also when the range is empty). */
    public boolean all(long from, long to, Predicate<Page> test) {
        return !any(from, to, test.negate());
    }

    /** The runs that cover {@code [from, to)}, clipped to it, in address order. */
    public List<Run> runs(long from, long to) {
        checkRange(from, to);
        List<Run> result = new ArrayList<>();
        if (from == to) {
            return result;
        }
        Long start = runs.floorKey(from);
        NavigableMap<Long, Page> tail = runs.tailMap(start, true);
        for (Map.Entry<Long, Page> entry : tail.entrySet()) {
            long runStart = entry.getKey();
            if (runStart >= to) {
                break;
            }
            Long next = runs.higherKey(runStart);
            long runEnd = next == null ? pages : next;
            result.add(new Run(Math.max(from, runStart), Math.min(to, runEnd), entry.getValue()));
        }
        return result;
    }

    /** All runs, in address order. */
    public List<Run> runs() {
        return runs(0, pages);
    }

    /** The protection that every page of {@code [from, to)} grants at least. */
    public Protection leastAccess(long from, long to) {
        Protection least = Protection.READ_WRITE;
        for (Run run : runs(from, to)) {
            if (run.page().protection().compareTo(least) < 0) {
                least = run.page().protection();
            }
        }
        return least;
    }

    private void split(long at) {
        if (at < pages && !runs.containsKey(at)) {
            runs.put(at, runs.floorEntry(at).getValue());
        }
    }

    private void coalesce(long from, long to) {
        Long key = runs.lowerKey(from);
        long start = key == null ? from : key;
        Page previous = null;
        List<Long> redundant = new ArrayList<>();
        for (Map.Entry<Long, Page> entry : runs.subMap(start, true, to, true).entrySet()) {
            if (entry.getValue().equals(previous)) {
                redundant.add(entry.getKey());
            }
            previous = entry.getValue();
        }
        redundant.forEach(runs::remove);
    }

    private void checkRange(long from, long to) {
        if (from < 0 || to > pages || from > to) {
            throw new IndexOutOfBoundsException("pages [" + from + ", " + to + ") outside [0, " + pages + ")");
        }
    }

    @Override
    public String toString() {
        return runs().toString();
    }
}
