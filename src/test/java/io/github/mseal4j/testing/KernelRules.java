package io.github.mseal4j.testing;

import static io.github.mseal4j.internal.Errno.EFAULT;
import static io.github.mseal4j.internal.Errno.EPERM;

import io.github.mseal4j.Protection;
import io.github.mseal4j.testing.Expected.Content;
import io.github.mseal4j.testing.Kernel.Era;
import io.github.mseal4j.testing.Layout.Piece;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Predicate;

/**
 * The kernel's rules for system calls on sealed memory, written down as a model the property tests check the
 * real kernel against. Each method takes the layout before the call (as smaps reported it) and returns what
 * the call must do. Sources: docs/semantics.md, mm/mprotect.c, mm/madvise.c ({@code can_madvise_modify}),
 * mm/mremap.c ({@code check_prep_vma}, {@code remap_move}, {@code shrink_vma}), mm/vma.c
 * ({@code vms_gather_munmap_vmas}).
 *
 * <p>Only private anonymous mappings are modelled: the only kind mseal4j creates.
 */
public final class KernelRules {

    /** A discarding madvise advice and the trace it leaves when it succeeds. */
    public enum Advice {
        DONTNEED(io.github.mseal4j.internal.Mman.MADV_DONTNEED),
        FREE(io.github.mseal4j.internal.Mman.MADV_FREE),
        DONTFORK(io.github.mseal4j.internal.Mman.MADV_DONTFORK),
        WIPEONFORK(io.github.mseal4j.internal.Mman.MADV_WIPEONFORK);

        private final int value;

        Advice(int value) {
            this.value = value;
        }

        /** The MADV_* number. */
        public int value() {
            return value;
        }
    }

    private KernelRules() {
    }

    /**
     * {@code mprotect} over pages {@code [from, to)}. A sealed mapping refuses with EPERM, even for its current
     * protection (the seal check precedes the no-op shortcut in {@code mprotect_fixup}). Since 6.12 the
     * mappings before the first sealed one have already been changed.
     */
    public static Expected mprotect(Era era, Layout before, int from, int to, Protection protection) {
        return walk(era, before, from, to, Piece::sealed,
            (expected, piece) -> expected.protect(piece.from(), piece.to(), protection));
    }

    /**
     * {@code madvise} with a discarding advice over pages {@code [from, to)}. Refused with EPERM on a sealed
     * mapping that is anonymous and not writable; allowed on sealed writable memory. Partial since 6.12.
     */
    public static Expected madvise(Era era, Layout before, int from, int to, Advice advice) {
        return walk(era, before, from, to, piece -> piece.sealed() && piece.protection() != Protection.READ_WRITE,
            (expected, piece) -> {
                switch (advice) {
                    case DONTNEED -> expected.content(piece.from(), piece.to(), Content.ZERO);
                    case FREE -> expected.content(piece.from(), piece.to(), Content.ORIGINAL_OR_ZERO);
                    case DONTFORK -> expected.flag(piece.from(), piece.to(), "dc");
                    case WIPEONFORK -> expected.flag(piece.from(), piece.to(), "wf");
                }
            });
    }

    /** {@code munmap}: all or nothing on every version; EPERM if any page is sealed. */
    public static Expected munmap(Layout before, int from, int to) {
        return before.anySealed(from, to)
            ? Expected.unchanged(before, EPERM) : Expected.unchanged(before, 0).unmap(from, to);
    }

    /** {@code mmap(MAP_FIXED)} of fresh anonymous memory: EPERM if any page is sealed, and nothing unmapped. */
    public static Expected mmapFixed(Layout before, int from, int to) {
        return before.anySealed(from, to)
            ? Expected.unchanged(before, EPERM) : Expected.unchanged(before, 0).replace(from, to, Content.ZERO);
    }

    /**
     * {@code mremap(old, n, n - shrinkBy, 0)}: refused if the mapping at {@code old} is sealed; otherwise it
     * unmaps the tail, which munmap refuses (atomically) if the tail holds a sealed page. No VMA-boundary
     * check applies to a shrink.
     */
    public static Expected mremapShrink(Era era, Layout before, int from, int to, int shrinkBy) {
        if (era == Era.PRE_CHECK) {
            return before.anySealed(from, to)
                ? Expected.unchanged(before, EPERM) : Expected.unchanged(before, 0).unmap(to - shrinkBy, to);
        }
        if (before.page(from).sealed() || before.anySealed(to - shrinkBy, to)) {
            return Expected.unchanged(before, EPERM);
        }
        return Expected.unchanged(before, 0).unmap(to - shrinkBy, to);
    }

    /**
     * {@code mremap(old, n, n + growBy, MREMAP_MAYMOVE)}: refused if the mapping at {@code old} is sealed;
     * EFAULT if the range runs past the end of that mapping; otherwise it grows in place (only when the range
     * ends where its mapping ends and the space after is free) or moves.
     */
    public static Expected mremapGrow(Era era, Layout before, int from, int to, boolean spaceAfterMappingIsFree) {
        Expected refused = refusedAtSource(era, before, from, to);
        if (refused != null) {
            return refused;
        }
        boolean inPlace = to == before.vmaEndPage(from) && spaceAfterMappingIsFree;
        return inPlace ? Expected.unchanged(before, 0) : Expected.unchanged(before, 0).unmap(from, to).withMove();
    }

    /**
     * {@code mremap(old, n, n, MREMAP_MAYMOVE | MREMAP_FIXED, destination)}, with a free destination. Since
     * 6.17 a move may span several mappings, each checked in turn: those before the first sealed one have
     * moved when EPERM comes back. Before 6.17 the range must lie in one mapping (else EFAULT).
     */
    public static Expected mremapMove(Era era, Layout before, int from, int to) {
        if (era != Era.MULTI_VMA_MREMAP) {
            Expected refused = refusedAtSource(era, before, from, to);
            return refused != null ? refused : Expected.unchanged(before, 0).unmap(from, to).withMove();
        }
        return walk(era, before, from, to, Piece::sealed,
            (expected, piece) -> expected.unmap(piece.from(), piece.to())).withMove();
    }

    /**
     * {@code mremap(scratch, n, n, MREMAP_MAYMOVE | MREMAP_FIXED, old)}: moving unsealed memory onto the range
     * first unmaps the destination, which munmap refuses atomically if it holds a sealed page.
     */
    public static Expected mremapOnto(Layout before, int from, int to) {
        return before.anySealed(from, to)
            ? Expected.unchanged(before, EPERM) : Expected.unchanged(before, 0).replace(from, to, Content.SCRATCH);
    }

    /**
     * {@code mremap(old, n, n, MREMAP_MAYMOVE | MREMAP_DONTUNMAP)}: refused if the mapping at {@code old} is
     * sealed; EFAULT past its end; otherwise the pages move and the old range stays mapped, empty.
     */
    public static Expected mremapDontUnmap(Era era, Layout before, int from, int to) {
        Expected refused = refusedAtSource(era, before, from, to);
        return refused != null ? refused : Expected.unchanged(before, 0).content(from, to, Content.ZERO).withMove();
    }

    /** The checks every mremap that maps something new makes on its source, or null when they pass. */
    private static Expected refusedAtSource(Era era, Layout before, int from, int to) {
        boolean sealed = era == Era.PRE_CHECK ? before.anySealed(from, to) : before.page(from).sealed();
        if (sealed) {
            return Expected.unchanged(before, EPERM);
        }
        if (to > before.vmaEndPage(from)) {
            return Expected.unchanged(before, EFAULT);
        }
        return null;
    }

    /**
     * A call that walks the mappings of {@code [from, to)} in order and stops with EPERM at the first one
     * {@code refuses}, after applying {@code effect} to the ones before. Before 6.12 the whole range was
     * checked first, so a refusal changed nothing.
     */
    private static Expected walk(Era era, Layout before, int from, int to, Predicate<Piece> refuses,
                                 BiConsumer<Expected, Piece> effect) {
        List<Piece> pieces = before.pieces(from, to);
        if (era == Era.PRE_CHECK && pieces.stream().anyMatch(refuses)) {
            return Expected.unchanged(before, EPERM);
        }
        Expected expected = Expected.unchanged(before, 0);
        for (Piece piece : pieces) {
            if (refuses.test(piece)) {
                return expected.withErrno(EPERM);
            }
            effect.accept(expected, piece);
        }
        return expected;
    }
}
