package io.github.mseal4j;

import io.github.mseal4j.internal.Events;
import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.Mman;
import io.github.mseal4j.internal.PageMap;
import io.github.mseal4j.internal.PageMap.Page;
import io.github.mseal4j.internal.PageMap.Run;
import io.github.mseal4j.internal.Smaps;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The pages of one {@link MappedRegion} as the kernel holds them: their protection and seals (a {@link PageMap}),
 * the calls that change them ({@code mprotect}, {@code mseal}, {@code munmap}, each checked through
 * {@link CheckedCalls}), and what to ask the kernel when a call failed half-way. The region decides when; this
 * class knows how. Every method but {@link #wholeSealed()} and {@link #allSealed} is called with the region's lock
 * held.
 */
final class RegionPages implements MemfdFreeze.Region {
    /** How many runs a message lists at each end of a range before it says how many more there are. */
    private static final int RUNS_SHOWN = 3;

    final long address;
    final long pageSize;
    /** 0, or one page: the size of each guard page below and above the data. */
    final long guardBytes;
    /** The pages are a shared mapping of a memfd (immutable memory, frozen or not), not private memory. */
    private final boolean memfd;
    private final PageMap pages;
    /** Only {@link #truncate} shrinks it. */
    private volatile long byteSize;
    /** Every page is sealed: re-sealing needs neither the lock nor a look-up. */
    private volatile boolean wholeSealed;
    /** How many pages are sealed (or, under the best-effort policy, treated as sealed). */
    private long sealedPages;
    private boolean guardsSealed;
    /** The owner of the region's sealed bytes, made at its first seal by the kernel: null until then. */
    private volatile SealCounters.Owner owner;

    RegionPages(long address, long byteSize, long pageSize, long guardBytes, Protection protection, boolean memfd) {
        this.address = address;
        this.byteSize = byteSize;
        this.pageSize = pageSize;
        this.guardBytes = guardBytes;
        this.memfd = memfd;
        this.pages = new PageMap(byteSize / pageSize, Page.of(protection, false));
    }

    @Override
    public PageMap map() {
        return pages;
    }

    long byteSize() {
        return byteSize;
    }

    /**
     * A segment over the region's pages, for a region sealed read-only: in a scope of the owner of its sealed
     * bytes, which keeps them counted as in use while the segment is reachable (see {@link SealCounters.Owner});
     * in the global scope where nothing was sealed by the kernel (the best-effort policy without mseal).
     */
    MemorySegment sealedView() {
        SealCounters.Owner sealedBy = owner;
        return sealedBy == null ? LibC.foreverView(address, byteSize) : sealedBy.view(address, byteSize);
    }

    /** The bytes of pages {@code [from, to)} not sealed yet: what sealing them would add to what is sealed. */
    long unsealedBytes(long from, long to) {
        return pages.count(from, to, page -> !page.sealed()) * pageSize;
    }

    long count() {
        return pages.pages();
    }

    /** True once every page is sealed; read without the lock. */
    boolean wholeSealed() {
        return wholeSealed;
    }

    /** True when pages {@code [from, to)} are known to be sealed; asked without the lock (see {@link PageMap#allSealed}). */
    boolean allSealed(long from, long to) {
        return pages.allSealed(from, to);
    }

    boolean guardsSealed() {
        return guardsSealed;
    }

    /** {@code mprotect} of pages {@code [from, to)}, checked; after a failure the kernel is asked what it did. */
    void mprotect(long from, long to, Protection protection) {
        long start = address + from * pageSize;
        long length = (to - from) * pageSize;
        int errno = LibC.mprotect(start, length, Mman.prot(protection));
        if (errno != 0) {
            // Since Linux 6.12 a failed mprotect may have changed a prefix of the range: ask the kernel.
            resynchronize();
            // The mapping's kind too, for the remedy: a shared memfd mapping is not charged for being writable.
            throw new SystemCallException("mprotect", start, length, Mman.protName(protection)
                + (memfd ? " of a MAP_SHARED memfd mapping" : ""), errno);
        }
        try {
            // A call is faked whole: one page that had another protection tells whether this one took.
            for (Run run : pages.runs(from, to)) {
                if (run.page().protection() != protection) {
                    CheckedCalls.verifyProtected(start, length, address + run.from() * pageSize, pageSize,
                        run.page().protection(), protection);
                    break;
                }
            }
        } catch (IllegalStateException e) {
            resynchronize();
            throw e;
        }
        pages.update(from, to, page -> page.withProtection(protection));
        Events.protectionChanged(start, length, Mman.protName(protection));
    }

    /** Puts back the protection of every page that is not sealed; a failure is added to {@code cause}. */
    @Override
    public void restoreProtections(List<Run> before, RuntimeException cause) {
        for (Run run : before) {
            for (Run now : pages.runs(run.from(), run.to())) {
                if (!now.page().sealed() && now.page().protection() != run.page().protection()) {
                    try {
                        mprotect(now.from(), now.to(), run.page().protection());
                    } catch (SystemCallException again) {
                        cause.addSuppressed(again);
                    }
                }
            }
        }
    }

    /**
     * Seals pages {@code [from, to)}, and the guard pages the first time (in the same call when the whole
     * region is sealed). Without {@code byKernel} (the best-effort policy on a host without mseal) nothing is
     * sealed, but the pages are treated as sealed from then on: never re-protected, never unmapped. With
     * {@code verifyAs}, the protection every page of the range has, the multi-step operations make sure the
     * seal took: see {@link CheckedCalls#verifySealed}.
     */
    void mseal(long from, long to, boolean byKernel, Protection verifyAs) {
        long start = address + from * pageSize;
        long length = (to - from) * pageSize;
        boolean withGuards = guardBytes > 0 && !guardsSealed && from == 0 && to == pages.pages();
        long callStart = withGuards ? address - guardBytes : start;
        long callLength = withGuards ? length + 2 * guardBytes : length;
        if (byKernel) {
            // Pages sealed already answer the check's mprotect with EPERM whatever this call does: check the
            // others, run by run (one run, the whole range, in the common case).
            List<Run> unsealedBefore = verifyAs == null ? List.of()
                : pages.runs(from, to).stream().filter(run -> !run.page().sealed()).toList();
            faultInReadOnly(from, to, true); // a page that cannot be faulted in is never sealed read-only
            int errno = LibC.mseal(callStart, callLength);
            if (errno != 0) {
                // A failed split can leave the range partly sealed: ask the kernel what it did.
                resynchronize();
                throw new SystemCallException("mseal", callStart, callLength, "0", errno);
            }
            for (Run run : unsealedBefore) {
                CheckedCalls.verifySealed(callStart, callLength, address + run.from() * pageSize,
                    (run.to() - run.from()) * pageSize, verifyAs);
            }
        }
        guardsSealed |= withGuards || guardBytes == 0;
        // One call whatever the shape: for the common case (all pages alike, sealed whole) it sets one field.
        long newlySealed = pages.seal(from, to);
        if (newlySealed > 0) {
            noteSealed(newlySealed);
            Events.sealed(start, length, byKernel);
            if (byKernel) {
                if (owner == null) {
                    owner = SealCounters.sealedFirst(this, newlySealed * pageSize); // the pages keep them in use
                } else {
                    SealCounters.sealedMore(owner, newlySealed * pageSize);
                }
            }
        }
        if (!guardsSealed) {
            guardsSealed = true; // only after the data: a failure here leaves the data's seal recorded
            if (byKernel) {
                CheckedCalls.check(LibC.mseal(address - guardBytes, guardBytes), "mseal", address - guardBytes,
                    guardBytes, "0");
                CheckedCalls.check(LibC.mseal(address + byteSize, guardBytes), "mseal", address + byteSize,
                    guardBytes, "0");
            }
        }
        if (byKernel) {
            // Once more, now that nothing can discard them: a page zapped between the check and the seal (by other
            // code) is faulted in again; one where a guard marker was put meanwhile is reported, sealed as it is.
            faultInReadOnly(from, to, false);
        }
    }

    /**
     * Faults in every read-only page of {@code [from, to)} ({@link CheckedCalls#faultIn}): userfaultfd, which
     * mseal does not check, fills or poisons only pages that were never faulted in. Before the seal, a page that
     * cannot be faulted in throws, and nothing is sealed; after it ({@code beforeSeal} false), once sealed
     * read-only nothing can discard the pages again, and a page still missing was made so by other code while the
     * seal ran: reported, with the seal recorded. Writable pages need none of this: the process can write them
     * anyway. Memory of a memfd is never private (and immutable memory refuses userfaultfd altogether).
     */
    private void faultInReadOnly(long from, long to, boolean beforeSeal) {
        if (memfd) {
            return;
        }
        try {
            if (pages.uniform()) {
                if (pages.pageAt(from).protection() == Protection.READ) {
                    CheckedCalls.faultIn(address + from * pageSize, (to - from) * pageSize, pageSize);
                }
                return;
            }
            for (Run run : pages.runs(from, to)) {
                if (run.page().protection() == Protection.READ) {
                    CheckedCalls.faultIn(address + run.from() * pageSize, (run.to() - run.from()) * pageSize,
                        pageSize);
                }
            }
        } catch (IllegalStateException e) {
            if (beforeSeal) {
                throw e;
            }
            throw new IllegalStateException(e.getMessage().replace("before the seal", "after the seal")
                .replace("so it is not sealed read-only", "and it is sealed now (other code put the marker there while"
                    + " the seal ran)"), e);
        }
    }

    /**
     * Unmaps pages {@code [newPages, count())}, which must be unsealed. The tail ends where the region ends, so
     * unmapping it needs no split unless the kernel merged the region with the mapping above; should it refuse
     * one at {@code vm.max_map_count}, nothing has changed (munmap is all-or-nothing).
     */
    void truncate(long newPages) {
        long newByteSize = newPages * pageSize;
        CheckedCalls.check(LibC.munmap(address + newByteSize, byteSize - newByteSize), "munmap",
            address + newByteSize, byteSize - newByteSize, "");
        pages.truncate(newPages);
        byteSize = newByteSize;
        noteSealed(0); // only unsealed pages went: what is left may now be sealed whole
    }

    /**
     * Unmaps every unsealed page, and each guard page unless it is sealed, one call per run of adjacent ones (so
     * that the region's own pages never need the kernel to split a mapping). Where the kernel refuses with EPERM,
     * part of a range was sealed by someone else than this region (it knows its own seals): the kernel is asked
     * which pages, and the rest of the ranges that failed, and only those, are unmapped again (the others are
     * gone, and their addresses may belong to someone else by now).
     *
     * <p>Where that must be asked and {@code /proc/self/smaps} cannot be read, nothing more is changed, and the
     * failure returned says so and whether anything was unmapped.
     */
    CheckedCalls.Unmapped unmapUnsealed() {
        CheckedCalls.Unmapped result = CheckedCalls.unmap(pages.unsealedRanges(address, pageSize, guardBytes,
            guardsSealed, guardsSealed));
        if (!result.refusedAsSealed()) {
            return result;
        }
        List<Smaps.Vma> vmas;
        try {
            vmas = Smaps.read(address - guardBytes, address + byteSize + guardBytes);
        } catch (RuntimeException e) {
            result.failure().addSuppressed(e);
            return new CheckedCalls.Unmapped(result.anyUnmapped(), result.failed(), result.failure().withNote(
                "some of these pages were sealed outside this region, and /proc/self/smaps could not be read to"
                + " learn which: " + (result.anyUnmapped() ? "the region is closed, and the ranges named stay"
                + " mapped" : "nothing was unmapped and the region stays open; retry close() when smaps can be"
                + " read")), false);
        }
        resynchronize(vmas);
        boolean below = guardsSealed || guardBytes > 0 && Smaps.coveredAndSealed(vmas, address - guardBytes, address);
        boolean above = guardsSealed || guardBytes > 0
            && Smaps.coveredAndSealed(vmas, address + byteSize, address + byteSize + guardBytes);
        List<long[]> again = new ArrayList<>();
        for (long[] range : pages.unsealedRanges(address, pageSize, guardBytes, below, above)) {
            for (long[] failed : result.failed()) {
                if (failed[0] <= range[0] && range[0] + range[1] <= failed[0] + failed[1]) {
                    again.add(range);
                }
            }
        }
        CheckedCalls.Unmapped retry = CheckedCalls.unmap(again);
        return new CheckedCalls.Unmapped(result.anyUnmapped() || retry.anyUnmapped(), retry.failed(),
            retry.failure(), retry.refusedAsSealed());
    }

    /**
     * Replaces what the library believes about its pages with what the kernel reports. Where the kernel
     * cannot be asked, assumes the worst: no access, sealed (so nothing is handed out or unmapped).
     */
    @Override
    public void resynchronize() {
        try {
            resynchronize(Smaps.read(address, address + byteSize));
        } catch (RuntimeException e) {
            pages.setAll(Page.of(Protection.NONE, true));
            pagesChanged();
        }
    }

    private void resynchronize(List<Smaps.Vma> vmas) {
        sealedPages = 0;
        noteSealed(pages.resynchronize(vmas, address, pageSize));
    }

    /** Counts the sealed pages again, after the page model changed whole. */
    @Override
    public void pagesChanged() {
        sealedPages = 0;
        noteSealed(pages.count(0, pages.pages(), Page::sealed));
    }

    /**
     * {@code sealReadOnly()} of ordinary memory: {@code mprotect(PROT_READ)} of every page that is not, then
     * {@code mseal}; undone on failure. {@code revokeSegments} invalidates the region's segments first, where some
     * page is writable.
     */
    void sealOrdinaryReadOnly(boolean byKernel, Runnable revokeSegments) {
        long all = pages.pages();
        if (pages.any(0, all, page -> page.sealed() && page.protection() != Protection.READ)) {
            throw new IllegalStateException("cannot seal the region read-only: some pages are already sealed"
                + " with another protection, which can never change: " + describe(0, all));
        }
        if (byKernel) {
            CheckedCalls.msealStillWorks();
        }
        List<Run> before = pages.runs();
        if (pages.any(0, all, page -> page.protection() == Protection.READ_WRITE)) {
            revokeSegments.run();
        }
        try {
            for (Run run : before) {
                if (run.page().protection() != Protection.READ) {
                    mprotect(run.from(), run.to(), Protection.READ);
                }
            }
            mseal(0, all, byKernel, byKernel ? Protection.READ : null);
        } catch (RuntimeException e) {
            restoreProtections(before, e);
            throw e;
        }
    }

    /** Seals every page, read-only, checking that the seal took: the last step of a freeze. */
    @Override
    public void sealReadOnly() {
        mseal(0, pages.pages(), true, Protection.READ);
    }

    /** Counts pages newly sealed; once every page is, re-sealing needs no look-up. */
    private void noteSealed(long newlySealed) {
        sealedPages += newlySealed;
        if (sealedPages == pages.pages()) {
            wholeSealed = true;
        }
    }

    /**
     * Pages {@code [from, to)} as runs, for messages: {@code pages [0, 2) READ sealed, [2, 4) READ_WRITE}. Long
     * lists show the first and last few runs and how many lie between.
     */
    String describe(long from, long to) {
        List<Run> runs = pages.runs(from, to);
        StringBuilder text = new StringBuilder("pages ");
        for (int i = 0; i < runs.size(); i++) {
            if (i == RUNS_SHOWN && runs.size() > 2 * RUNS_SHOWN) {
                text.append(", ... ").append(runs.size() - 2 * RUNS_SHOWN).append(" more runs ...");
                i = runs.size() - RUNS_SHOWN;
            }
            Run run = runs.get(i);
            if (i > 0) {
                text.append(", ");
            }
            text.append('[').append(run.from()).append(", ").append(run.to()).append(") ")
                .append(run.page().protection()).append(run.page().sealed() ? " " + Sealing.sealedLabel() : "");
        }
        return text.toString();
    }
}
