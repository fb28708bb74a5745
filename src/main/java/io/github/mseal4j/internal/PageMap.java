package io.github.mseal4j.internal;

import io.github.mseal4j.Protection;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * What the library believes about each page of one mapping: its protection and whether it is sealed.
 *
 * <p>While every page is alike (the common case) that is one field. Once they differ, the pages are split into
 * chunks of {@value #CHUNK_PAGES}: a chunk whose pages are alike is one byte, the others one byte per page. So a
 * change to one page costs a few array accesses whatever the region's size or history (a run-length tree cost
 * a dozen tree operations per call), and memory stays at a byte per page of the chunks that differ.
 *
 * <p>Not thread-safe: the owning region guards every method with its lock, except {@link #allSealed}, which
 * is written to be asked without it.
 */
public final class PageMap {
    /** Pages per chunk, as a shift: 4,096 pages (16 MiB of 4 KiB pages). */
    static final int CHUNK_SHIFT = 12;
    static final int CHUNK_PAGES = 1 << CHUNK_SHIFT;

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

        /** The state as a small number: bit 0 sealed, the protection's ordinal above it. */
        byte code() {
            return (byte) (protection.ordinal() * 2 + (sealed ? 1 : 0));
        }

        static Page ofCode(int code) {
            return CANONICAL[code];
        }
    }

    /** Pages {@code [from, to)}, all in {@code page} state. */
    public record Run(long from, long to, Page page) {
    }

    private static final int STATES = Protection.values().length * 2;

    private final int chunkShift;
    private long pages;
    /** The state of every page while they are all alike; null once they differ. */
    private Page only;
    /** Per chunk, the state of all its pages while {@code chunks[c]} is null; null while {@link #only} is set. */
    private byte[] chunkStates;
    /** Per chunk, the state of each page, for the chunks whose pages differ (null entries for the others). */
    private byte[][] chunks;

    /** {@code pages} pages, all in {@code initial} state. */
    public PageMap(long pages, Page initial) {
        this(pages, initial, CHUNK_SHIFT);
    }

    /** With another chunk size, so that tests reach chunk boundaries with a few pages. */
    PageMap(long pages, Page initial, int chunkShift) {
        if (pages <= 0) {
            throw new IllegalArgumentException("pages must be positive: " + pages);
        }
        if (chunkShift < 0 || chunkShift > 20) {
            throw new IllegalArgumentException("chunkShift out of range: " + chunkShift);
        }
        if ((pages - 1) >>> chunkShift >= Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("too many pages: " + pages);
        }
        this.pages = pages;
        this.only = Page.ofCode(Objects.requireNonNull(initial, "initial").code());
        this.chunkShift = chunkShift;
    }

    /** The number of pages. */
    public long pages() {
        return pages;
    }

    /** True when every page is in the same state: the common case, checked without allocating. */
    public boolean uniform() {
        return only != null;
    }

    /** The state of page {@code index}. */
    public Page pageAt(long index) {
        checkRange(index, index + 1);
        return only != null ? only : Page.ofCode(code(index));
    }

    /** Sets every page to {@code page}. */
    public void setAll(Page page) {
        only = Page.ofCode(Objects.requireNonNull(page, "page").code());
        chunks = null;
        chunkStates = null;
    }

    /** Sets every page of {@code [from, to)} to {@code page}. */
    public void set(long from, long to, Page page) {
        Objects.requireNonNull(page, "page");
        update(from, to, ignored -> page);
    }

    /** Drops the pages from {@code newPages} on. */
    public void truncate(long newPages) {
        if (newPages <= 0 || newPages > pages) {
            throw new IndexOutOfBoundsException("cannot truncate " + pages + " pages to " + newPages);
        }
        pages = newPages; // the arrays may stay longer: nothing reads past pages
        if (chunks != null) {
            collapseIfUniform();
        }
    }

    /** Applies {@code change} to every page of {@code [from, to)}; false when that changed nothing. */
    public boolean update(long from, long to, UnaryOperator<Page> change) {
        checkRange(from, to);
        if (from == to) {
            return false;
        }
        byte[] mapped = new byte[STATES];
        Arrays.fill(mapped, (byte) -1);
        if (only != null) {
            byte before = only.code();
            byte after = apply(change, before, mapped);
            if (after == before) {
                return false;
            }
            if (from == 0 && to == pages) {
                only = Page.ofCode(after);
                return true;
            }
            split(before);
        }
        boolean changed = false;
        int last = chunk(to - 1);
        for (int c = chunk(from); c <= last; c++) {
            long start = (long) c << chunkShift;
            long end = Math.min(start + (1L << chunkShift), pages);
            int lo = (int) (Math.max(from, start) - start);
            int hi = (int) (Math.min(to, end) - start);
            byte[] chunk = chunks[c];
            if (chunk == null) {
                byte before = chunkStates[c];
                byte after = apply(change, before, mapped);
                if (after == before) {
                    continue;
                }
                changed = true;
                if (lo == 0 && hi == end - start) {
                    chunkStates[c] = after;
                    continue;
                }
                chunk = materialize(c, before, end - start);
            }
            for (int i = lo; i < hi; i++) {
                byte before = chunk[i];
                byte after = apply(change, before, mapped);
                if (after != before) {
                    chunk[i] = after;
                    changed = true;
                }
            }
        }
        if (changed && from == 0 && to == pages) {
            collapseIfUniform();
        }
        return changed;
    }

    /**
     * Marks every page of {@code [from, to)} sealed, keeping its protection, and returns how many were not:
     * {@code count(UNSEALED)} and {@code update(SEAL)} in one pass, with no lambda and no allocation unless a
     * chunk must be split. The path of every partial seal, and so of page-by-page sealing.
     */
    public long seal(long from, long to) {
        checkRange(from, to);
        if (from == to) {
            return 0;
        }
        if (only != null) {
            if (only.sealed()) {
                return 0;
            }
            if (from == 0 && to == pages) {
                only = only.sealedPage();
                return to - from;
            }
            split(only.code());
        }
        long newlySealed = 0;
        int last = chunk(to - 1);
        for (int c = chunk(from); c <= last; c++) {
            long start = (long) c << chunkShift;
            long end = Math.min(start + (1L << chunkShift), pages);
            int lo = (int) (Math.max(from, start) - start);
            int hi = (int) (Math.min(to, end) - start);
            byte[] chunk = chunks[c];
            if (chunk == null) {
                byte state = chunkStates[c];
                if ((state & 1) != 0) {
                    continue;
                }
                newlySealed += hi - lo;
                if (lo == 0 && hi == end - start) {
                    chunkStates[c] = (byte) (state | 1);
                    continue;
                }
                chunk = materialize(c, state, end - start);
                for (int i = lo; i < hi; i++) {
                    chunk[i] = (byte) (state | 1);
                }
                continue;
            }
            for (int i = lo; i < hi; i++) {
                byte state = chunk[i];
                if ((state & 1) == 0) {
                    chunk[i] = (byte) (state | 1);
                    newlySealed++;
                }
            }
        }
        if (newlySealed > 0 && from == 0 && to == pages) {
            collapseIfUniform();
        }
        return newlySealed;
    }

    /** How many pages of {@code [from, to)} match. */
    public long count(long from, long to, Predicate<Page> test) {
        checkRange(from, to);
        if (from == to) {
            return 0;
        }
        if (only != null) {
            return test.test(only) ? to - from : 0;
        }
        byte[] matches = matches(test);
        long count = 0;
        int last = chunk(to - 1);
        for (int c = chunk(from); c <= last; c++) {
            long start = (long) c << chunkShift;
            int lo = (int) (Math.max(from, start) - start);
            int hi = (int) (Math.min(to, Math.min(start + (1L << chunkShift), pages)) - start);
            byte[] chunk = chunks[c];
            if (chunk == null) {
                count += matches[chunkStates[c]] * (long) (hi - lo);
            } else {
                for (int i = lo; i < hi; i++) {
                    count += matches[chunk[i]];
                }
            }
        }
        return count;
    }

    /** True when some page of {@code [from, to)} matches. */
    public boolean any(long from, long to, Predicate<Page> test) {
        return count(from, to, test) > 0;
    }

    /** True when every page of {@code [from, to)} matches (also when the range is empty). */
    public boolean all(long from, long to, Predicate<Page> test) {
        return count(from, to, test) == to - from;
    }

    /**
     * True when every page of {@code [from, to)} is known to be sealed; safe to ask without the region's lock.
     * A page once sealed stays sealed, and a byte a racing reader has not yet seen written reads as zero ("not
     * sealed"), so a reader racing a change may see a page as it was, or as zero, and answer false (sending the
     * caller to the locked path), but never calls sealed a page that is not. Out-of-range reads answer false.
     */
    public boolean allSealed(long from, long to) {
        Page page = only;
        if (page != null) {
            return page.sealed();
        }
        byte[][] chunks = this.chunks;
        byte[] states = chunkStates;
        if (chunks == null || states == null || from < 0 || from >= to) {
            return false;
        }
        int last = (int) ((to - 1) >>> chunkShift);
        if (last >= chunks.length || last >= states.length) {
            return false;
        }
        for (int c = (int) (from >>> chunkShift); c <= last; c++) {
            long start = (long) c << chunkShift;
            byte[] chunk = chunks[c];
            if (chunk == null) {
                if ((states[c] & 1) == 0) {
                    return false;
                }
                continue;
            }
            int lo = (int) (Math.max(from, start) - start);
            int hi = (int) (Math.min(to, start + (1L << chunkShift)) - start);
            if (hi > chunk.length) {
                return false;
            }
            for (int i = lo; i < hi; i++) {
                if ((chunk[i] & 1) == 0) {
                    return false;
                }
            }
        }
        return true;
    }

    /** The number of runs of equal pages that cover {@code [from, to)}. */
    public int runCount(long from, long to) {
        return runs(from, to).size();
    }

    /** The runs that cover {@code [from, to)}, clipped to it, in address order. */
    public List<Run> runs(long from, long to) {
        checkRange(from, to);
        List<Run> result = new ArrayList<>();
        if (from == to) {
            return result;
        }
        if (only != null) {
            result.add(new Run(from, to, only));
            return result;
        }
        long runStart = from;
        int runCode = code(from);
        int last = chunk(to - 1);
        for (int c = chunk(from); c <= last; c++) {
            long start = (long) c << chunkShift;
            long lo = Math.max(from, start);
            long hi = Math.min(to, Math.min(start + (1L << chunkShift), pages));
            byte[] chunk = chunks[c];
            for (long i = lo; i < hi; i = chunk == null ? hi : i + 1) {
                int code = chunk == null ? chunkStates[c] : chunk[(int) (i - start)];
                if (code != runCode) {
                    result.add(new Run(runStart, i, Page.ofCode(runCode)));
                    runStart = i;
                    runCode = code;
                }
            }
        }
        result.add(new Run(runStart, to, Page.ofCode(runCode)));
        return result;
    }

    /** All runs, in address order. */
    public List<Run> runs() {
        return runs(0, pages);
    }

    /** The protection that every page of {@code [from, to)} grants at least. */
    public Protection leastAccess(long from, long to) {
        Protection least = Protection.READ_WRITE;
        for (Protection protection : Protection.values()) {
            if (protection.compareTo(least) < 0 && any(from, to, page -> page.protection() == protection)) {
                least = protection;
            }
        }
        return least;
    }

    private int chunk(long page) {
        return (int) (page >>> chunkShift);
    }

    private int code(long page) {
        byte[] chunk = chunks[chunk(page)];
        return chunk == null ? chunkStates[chunk(page)] : chunk[(int) (page & ((1L << chunkShift) - 1))];
    }

    /**
     * Gives chunk {@code c} a byte per page, all {@code state}. A reader without the lock ({@link #allSealed})
     * may see the array before its contents; it then reads zeros, which is the state "no access, not sealed", so
     * it answers false and its caller takes the locked path.
     */
    private byte[] materialize(int c, byte state, long size) {
        byte[] chunk = new byte[(int) size];
        Arrays.fill(chunk, state);
        chunks[c] = chunk;
        return chunk;
    }

    /** From one state for all pages to one per chunk, all {@code code}. */
    private void split(byte code) {
        int count = chunk(pages - 1) + 1;
        byte[] states = new byte[count];
        Arrays.fill(states, code);
        chunkStates = states;
        chunks = new byte[count][];
        only = null;
    }

    /** Back to one state when every page has it (after a change of every page, or a truncation). */
    private void collapseIfUniform() {
        int first = code(0);
        int last = chunk(pages - 1);
        for (int c = 0; c <= last; c++) {
            byte[] chunk = chunks[c];
            if (chunk == null) {
                if (chunkStates[c] != first) {
                    return;
                }
                continue;
            }
            long start = (long) c << chunkShift;
            int hi = (int) (Math.min(start + (1L << chunkShift), pages) - start);
            for (int i = 0; i < hi; i++) {
                if (chunk[i] != first) {
                    return;
                }
            }
        }
        setAll(Page.ofCode(first));
    }

    private static byte apply(UnaryOperator<Page> change, byte code, byte[] mapped) {
        byte after = mapped[code];
        if (after < 0) {
            after = Objects.requireNonNull(change.apply(Page.ofCode(code)), "changed page").code();
            mapped[code] = after;
        }
        return after;
    }

    private static byte[] matches(Predicate<Page> test) {
        byte[] matches = new byte[STATES];
        for (int code = 0; code < STATES; code++) {
            matches[code] = (byte) (test.test(Page.ofCode(code)) ? 1 : 0);
        }
        return matches;
    }

    /**
     * Replaces what is believed about every page with what the kernel reports: {@code vmas}, the mappings over
     * the region at {@code address} (pages of {@code pageSize}). Holes are inaccessible; a seal, once known, is
     * never forgotten (best-effort ones included). Returns the number of sealed pages.
     */
    public long resynchronize(List<Smaps.Vma> vmas, long address, long pageSize) {
        long end = address + pages * pageSize;
        update(0, pages, page -> Page.of(Protection.NONE, page.sealed()));
        for (Smaps.Vma vma : vmas) {
            long from = (Math.max(vma.start(), address) - address) / pageSize;
            long to = (Math.min(vma.end(), end) - address) / pageSize;
            update(from, to, page -> Page.of(vma.protection(), page.sealed() || vma.sealed()));
        }
        return count(0, pages, Page::sealed);
    }

    /**
     * The address ranges of the unsealed pages of the region at {@code address}, with its guard pages of
     * {@code guardBytes} below and above unless they are sealed, adjacent ranges merged into one: what
     * {@code close()} unmaps, one call per range, so that the region's own pages never need the kernel to split a
     * mapping. Each range is {@code {start, length}}, in address order.
     */
    public List<long[]> unsealedRanges(long address, long pageSize, long guardBytes, boolean guardBelowSealed,
                                       boolean guardAboveSealed) {
        List<long[]> ranges = new ArrayList<>();
        if (guardBytes > 0 && !guardBelowSealed) {
            addRange(ranges, address - guardBytes, guardBytes);
        }
        for (Run run : runs()) {
            if (!run.page().sealed()) {
                addRange(ranges, address + run.from() * pageSize, (run.to() - run.from()) * pageSize);
            }
        }
        if (guardBytes > 0 && !guardAboveSealed) {
            addRange(ranges, address + pages * pageSize, guardBytes);
        }
        return ranges;
    }

    /** Appends {@code [start, start + length)} to {@code ranges}, which it follows, merging it with the last. */
    private static void addRange(List<long[]> ranges, long start, long length) {
        long[] last = ranges.isEmpty() ? null : ranges.getLast();
        if (last != null && last[0] + last[1] == start) {
            last[1] += length;
        } else {
            ranges.add(new long[] {start, length});
        }
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
