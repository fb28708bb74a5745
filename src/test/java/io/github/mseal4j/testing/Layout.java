package io.github.mseal4j.testing;

import io.github.mseal4j.Protection;
import io.github.mseal4j.internal.Smaps;
import io.github.mseal4j.internal.Smaps.Vma;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What the kernel reports, through {@code /proc/self/smaps}, about the pages {@code [0, pages)} from
 * {@code start}: which are mapped, with what protection, whether sealed, and which mapping (VMA) each one
 * belongs to. The mappings are kept whole, so a mapping that continues past the range (the kernel merges
 * compatible neighbours) shows its true end.
 *
 * @param start the address of page 0
 * @param pageSize the page size
 * @param pages the number of pages described
 * @param vmas the mappings that overlap the range, in address order
 * @param holes pages to report unmapped although a placeholder mapping fills them
 */
public record Layout(long start, long pageSize, int pages, List<Vma> vmas, Set<Integer> holes) {

    /** The state of one page. {@code flags} is empty for an unmapped page. */
    public record PageState(boolean mapped, Protection protection, boolean sealed, List<String> flags) {
        static final PageState UNMAPPED = new PageState(false, Protection.NONE, false, List.of());
    }

    /** Part of one mapping, clipped to a page range: pages {@code [from, to)} of the layout. */
    public record Piece(int from, int to, Vma vma) {
        public boolean sealed() {
            return vma.sealed();
        }

        public Protection protection() {
            return vma.protection();
        }
    }

    /** Reads the kernel's view of {@code pages} pages from {@code start} now. */
    public static Layout read(long start, int pages, long pageSize) {
        return new Layout(start, pageSize, pages, Smaps.read(start, start + pages * pageSize), Set.of());
    }

    /** The same layout, reporting {@code plugged} pages as unmapped. */
    public Layout withHoles(Set<Integer> plugged) {
        return new Layout(start, pageSize, pages, vmas, Set.copyOf(plugged));
    }

    /** The address of {@code page}. */
    public long address(int page) {
        return start + page * pageSize;
    }

    /** The mapping that holds {@code page}, if any. */
    public Optional<Vma> vmaAt(int page) {
        long address = address(page);
        return vmas.stream().filter(vma -> vma.start() <= address && address < vma.end()).findFirst();
    }

    /** The state of {@code page}. */
    public PageState page(int page) {
        if (holes.contains(page)) {
            return PageState.UNMAPPED;
        }
        return vmaAt(page).map(vma -> new PageState(true, vma.protection(), vma.sealed(), vma.flags()))
            .orElse(PageState.UNMAPPED);
    }

    /** The mappings that cover pages {@code [from, to)}, clipped to it, in order; gaps are left out. */
    public List<Piece> pieces(int from, int to) {
        List<Piece> pieces = new ArrayList<>();
        long low = address(from);
        long high = address(to);
        for (Vma vma : vmas) {
            if (vma.end() > low && vma.start() < high) {
                int first = (int) ((Math.max(vma.start(), low) - start) / pageSize);
                int last = (int) ((Math.min(vma.end(), high) - start) / pageSize);
                pieces.add(new Piece(first, last, vma));
            }
        }
        return pieces;
    }

    /** True when some page of {@code [from, to)} is sealed. */
    public boolean anySealed(int from, int to) {
        return pieces(from, to).stream().anyMatch(Piece::sealed);
    }

    /** The page just past the end of the mapping that holds {@code page} (may lie past the layout). */
    public long vmaEndPage(int page) {
        Vma vma = vmaAt(page).orElseThrow(() -> new IllegalStateException("page " + page + " is not mapped"));
        return (vma.end() - start) / pageSize;
    }
}
