package io.github.mseal4j;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.internal.Events;
import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.Mman;
import io.github.mseal4j.internal.PageMap;
import io.github.mseal4j.internal.PageMap.Page;
import io.github.mseal4j.internal.PageMap.Run;
import io.github.mseal4j.internal.Smaps;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * Memory that mseal4j mapped itself ({@code mmap(MAP_PRIVATE | MAP_ANONYMOUS)}), whose protection can be
 * changed and which can be sealed with {@code mseal(2)}, wholly or in page-aligned parts.
 *
 * {@snippet :
 * try (MappedRegion region = MappedRegion.allocate(4096)) {
 *     region.segment().setString(0, "allow: api.example.com");
 *     MemorySegment config = region.sealReadOnly();   // PROT_READ, then mseal: frozen for good
 *     publish(config);                                // stays valid after close()
 * }
 * }
 *
 * <h2>Ranges</h2>
 * Offsets and lengths given to {@link #protect(long, long, Protection)} and {@link #seal(long, long)} must be
 * multiples of {@link Mseal#pageSize()} and lie inside the region; anything else is refused with an exception
 * before any system call. Unaligned lengths are refused, not rounded: rounding would silently protect or seal
 * more than was asked for. Only {@link #allocate(long)} rounds, up to whole pages.
 *
 * <h2>Lifetime</h2>
 * <ul>
 *   <li>Segments from {@link #segment()} belong to the region. {@link #close()} invalidates them: using one
 *       afterwards throws {@link IllegalStateException}, never a crash. So does a {@link #protect} call that
 *       takes access away from any page (for example READ_WRITE to READ), since a segment that still allowed
 *       the old access would crash the JVM on use: obtain fresh segments afterwards.</li>
 *   <li>Sealed pages can never be unmapped: they stay mapped until the process exits (or calls
 *       {@code execve}). {@link #close()} of a wholly or partly sealed region unmaps the unsealed pages,
 *       keeps the sealed ones and does not fail. The segment returned by {@link #sealReadOnly()} is never
 *       invalidated, not even by {@code close()}.</li>
 *   <li>Sealed memory is never freed, so every sealed region costs its pages and at least one kernel mapping
 *       (of {@code vm.max_map_count}, 65530 by default) for the life of the process.</li>
 * </ul>
 *
 * <h2>What sealing does not do</h2>
 * Sealing freezes the mapping and its protection, not the contents: sealed READ_WRITE memory stays writable.
 * For immutable data use {@link #sealReadOnly()}. Even then, the kernel still lets the process itself write
 * through {@code /proc/self/mem} (unless it is booted with {@code proc_mem.force_override=never}), and lets
 * debuggers write through {@code ptrace}.
 *
 * <h2>Threads</h2>
 * All methods are safe to call from many threads; changes to one region are serialized.
 */
public final class MappedRegion implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.github.mseal4j");

    private final long address;
    private final long pageSize;
    private final long pageMask;
    private final int pageShift;
    /** 0, or one page: the size of each guard page below and above the data. */
    private final long guardBytes;
    private final Set<MappingOption> options;
    private final Object lock = new Object();

    // Guarded by lock; the two volatiles are also read without it.
    private final PageMap pages;
    /** Only {@link #truncate} shrinks it. */
    private volatile long byteSize;
    private Arena generation = Arena.ofShared();
    private MemorySegment view;
    private MemorySegment sealedReadOnlyView;
    private volatile boolean closed;
    /**
     * The sealed pages as sorted {@code [from, to)} pairs, republished after every change. Seals are
     * permanent, so even a stale copy never calls a page sealed that is not: re-sealing sealed pages needs
     * no lock.
     */
    private volatile long[] sealedRuns = new long[0];
    private boolean guardsSealed;
    private boolean counted;

    private MappedRegion(long address, long byteSize, long pageSize, Protection protection, long guardBytes,
                         Set<MappingOption> options) {
        this.address = address;
        this.byteSize = byteSize;
        this.pageSize = pageSize;
        this.guardBytes = guardBytes;
        this.options = options;
        this.pageMask = pageSize - 1;
        this.pageShift = Long.numberOfTrailingZeros(pageSize);
        this.pages = new PageMap(byteSize >>> pageShift, new Page(protection, false));
        this.view = LibC.view(address, byteSize, generation);
    }

    /**
     * Maps fresh, zeroed, private anonymous memory, readable and writable:
     * {@code mmap(NULL, size, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)}.
     *
     * @param byteSize the size wanted; rounded up to a whole number of pages
     * @return the new region
     * @throws IllegalArgumentException if {@code byteSize} is not positive, or too large to round up
     * @throws UnsupportedOperationException if native calls are impossible here (the message says why)
     * @throws SystemCallException if {@code mmap} fails, for example with ENOMEM
     */
    public static MappedRegion allocate(long byteSize) {
        return map(byteSize, Protection.READ_WRITE, EnumSet.noneOf(MappingOption.class));
    }

    /**
     * Maps fresh, zeroed, private anonymous memory, readable and writable, hardened as {@code options} say:
     * guard pages around it, left out of core dumps, locked in memory, not inherited by child processes.
     * The options are applied right after {@code mmap}, in the order the kernel requires (advice before any
     * sealing). If one cannot be applied (for example {@link MappingOption#LOCKED} beyond
     * {@code RLIMIT_MEMLOCK}), everything is unmapped again and the exception says why: the region is never
     * returned with an option silently missing.
     *
     * {@snippet :
     * try (MappedRegion secret = MappedRegion.allocate(32, MappingOption.GUARD_PAGES, MappingOption.NO_DUMP,
     *         MappingOption.LOCKED, MappingOption.NO_FORK)) {
     *     secret.segment().copyFrom(MemorySegment.ofArray(keyBytes));
     *     MemorySegment key = secret.sealReadOnly();   // guards sealed too
     * }
     * }
     *
     * @param byteSize the size wanted; rounded up to a whole number of pages (guard pages come on top)
     * @param options the hardening to apply; none is fine
     * @return the new region
     * @throws IllegalArgumentException if {@code byteSize} is not positive, or too large to round up
     * @throws NullPointerException if {@code options} or one of them is null
     * @throws UnsupportedOperationException if native calls are impossible here (the message says why)
     * @throws SystemCallException if {@code mmap}, {@code mprotect}, {@code madvise} or {@code mlock} fails
     */
    public static MappedRegion allocate(long byteSize, MappingOption... options) {
        EnumSet<MappingOption> chosen = EnumSet.noneOf(MappingOption.class);
        for (MappingOption option : Objects.requireNonNull(options, "options")) {
            chosen.add(Objects.requireNonNull(option, "option"));
        }
        return map(byteSize, Protection.READ_WRITE, chosen);
    }

    /**
     * Reserves address space: like {@link #allocate(long)}, but {@code PROT_NONE}, so the kernel neither
     * commits nor charges memory until pages are made accessible with {@link #protect}. For
     * {@link SealedArena}, which grows into a reservation and trims it with {@link #truncate} before sealing.
     */
    static MappedRegion reserve(long byteSize) {
        return map(byteSize, Protection.NONE, EnumSet.noneOf(MappingOption.class));
    }

    private static MappedRegion map(long byteSize, Protection protection, Set<MappingOption> options) {
        if (byteSize <= 0) {
            throw new IllegalArgumentException("byteSize must be positive: " + byteSize);
        }
        long pageSize = Mseal.pageSize();
        long guard = options.contains(MappingOption.GUARD_PAGES) ? pageSize : 0;
        if (byteSize > Long.MAX_VALUE - pageSize - 2 * guard) {
            throw new IllegalArgumentException("byteSize is too large to round up to whole pages: " + byteSize);
        }
        long size = roundUp(byteSize, pageSize);
        long total = size + 2 * guard;
        Protection mapped = guard > 0 ? Protection.NONE : protection;
        long base = LibC.mmap(0, total, Mman.prot(mapped), Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, -1, 0);
        if (LibC.failed(base)) {
            throw new SystemCallException("mmap", 0, total, Mman.protName(mapped) + ", MAP_PRIVATE|MAP_ANONYMOUS",
                (int) -base);
        }
        long address = base + guard;
        try {
            if (mapped != protection) {
                check(LibC.mprotect(address, size, Mman.prot(protection)), "mprotect", address, size,
                    Mman.protName(protection));
            }
            // Advice first (guards included), so it never meets a seal; then lock the data.
            if (options.contains(MappingOption.NO_FORK)) {
                check(LibC.madvise(base, total, Mman.MADV_DONTFORK), "madvise", base, total, "MADV_DONTFORK");
            }
            if (options.contains(MappingOption.NO_DUMP)) {
                check(LibC.madvise(base, total, Mman.MADV_DONTDUMP), "madvise", base, total, "MADV_DONTDUMP");
            }
            if (options.contains(MappingOption.LOCKED)) {
                check(LibC.mlock(address, size), "mlock", address, size, "");
            }
        } catch (SystemCallException e) {
            LibC.munmap(base, total); // never hand out a region with an option silently missing
            throw e;
        }
        return new MappedRegion(address, size, pageSize, protection, guard, Set.copyOf(options));
    }

    private static void check(int errno, String operation, long address, long length, String arguments) {
        if (errno != 0) {
            throw new SystemCallException(operation, address, length, arguments, errno);
        }
    }

    /**
     * The address of the first byte. Stays the same for the life of the region.
     *
     * @return the start address of the mapping
     */
    public long address() {
        return address;
    }

    /**
     * The size of the mapping: the size asked for, rounded up to whole pages.
     *
     * @return the size in bytes
     */
    public long byteSize() {
        return byteSize;
    }

    /**
     * The whole mapping, as {@code segment(0, byteSize())}.
     *
     * @return a segment over the whole region; read-only if some page is {@link Protection#READ}
     * @throws IllegalStateException if the region is closed, or some page is {@link Protection#NONE}
     */
    public MemorySegment segment() {
        return segment(0, byteSize);
    }

    /**
     * Part of the mapping. The segment is writable only if every page it touches is
     * {@link Protection#READ_WRITE}, and read-only if some is {@link Protection#READ}; if some page is
     * {@link Protection#NONE}, no segment is handed out, because any access would crash the JVM.
     * The segment is invalidated by {@link #close()} and by a {@link #protect} call that takes access away.
     *
     * @param offset the first byte, from the start of the region
     * @param byteSize the number of bytes; need not be page-aligned
     * @return a segment over {@code [offset, offset + byteSize)}
     * @throws IndexOutOfBoundsException if the range is not inside the region
     * @throws IllegalStateException if the region is closed, or some page of the range is {@link Protection#NONE}
     */
    public MemorySegment segment(long offset, long byteSize) {
        Objects.checkFromIndexSize(offset, byteSize, this.byteSize);
        // byteSize is read outside the lock; should a truncate race this check, view.asSlice below still rejects the range.
        long firstPage = offset >>> pageShift;
        long endPage = (offset + byteSize + pageMask) >>> pageShift;
        synchronized (lock) {
            ensureOpen();
            MemorySegment slice = view.asSlice(offset, byteSize);
            return switch (pages.leastAccess(firstPage, endPage)) {
                case READ_WRITE -> slice;
                case READ -> slice.asReadOnly();
                case NONE -> throw new IllegalStateException(String.format(Locale.ROOT,
                    "bytes [%d, %d) include PROT_NONE pages; any access to them would crash the JVM, so no segment"
                        + " is handed out for them: %s", offset, offset + byteSize, describe(firstPage, endPage)));
            };
        }
    }

    /**
     * Changes the protection of the whole region: {@code mprotect(address, byteSize, prot)}.
     *
     * @param protection the new protection
     * @throws IllegalStateException if the region is closed or has sealed pages
     * @throws SystemCallException if {@code mprotect} fails
     * @see #protect(long, long, Protection)
     */
    public void protect(Protection protection) {
        protect(0, byteSize, protection);
    }

    /**
     * Changes the protection of whole pages: {@code mprotect(address + offset, byteSize, prot)}.
     *
     * <p>If the range holds a sealed page, nothing is changed and {@link IllegalStateException} is thrown
     * without calling the kernel: it would answer EPERM, and since Linux 6.12 only after changing the pages
     * before the sealed one. If the new protection takes access away from any page, every segment obtained
     * from this region before is invalidated first (see the class documentation).
     *
     * @param offset the first byte; a multiple of the page size
     * @param byteSize the number of bytes; a positive multiple of the page size
     * @param protection the new protection
     * @throws IndexOutOfBoundsException if the range is not inside the region
     * @throws IllegalArgumentException if {@code offset} or {@code byteSize} is not page-aligned, or zero-length
     * @throws IllegalStateException if the region is closed, the range has sealed pages, or a segment of the
     *     region is in use by a native call and cannot be invalidated
     * @throws SystemCallException if {@code mprotect} fails
     */
    public void protect(long offset, long byteSize, Protection protection) {
        Objects.requireNonNull(protection, "protection");
        checkPageRange(offset, byteSize);
        long from = offset >>> pageShift;
        long to = from + (byteSize >>> pageShift);
        synchronized (lock) {
            ensureOpen();
            if (pages.any(from, to, Page::sealed)) {
                throw new IllegalStateException(String.format(Locale.ROOT,
                    "cannot change the protection of bytes [%d, %d) to %s: the range has sealed pages, whose"
                        + " protection can never change (the kernel would answer EPERM): %s", offset,
                    offset + byteSize, protection, describe(from, to)));
            }
            if (pages.any(from, to, page -> page.protection().compareTo(protection) > 0)) {
                revokeSegments();
            }
            mprotect(from, to, protection);
        }
    }

    /**
     * Seals the whole region: {@code mseal(address, byteSize, 0)}.
     *
     * @throws IllegalStateException if the region is closed
     * @throws UnsupportedOperationException if mseal is not available here ({@link Mseal#support()} says why)
     *     and the {@linkplain SealPolicy policy} is strict
     * @throws SystemCallException if {@code mseal} fails
     * @see #seal(long, long)
     */
    public void seal() {
        seal(0, byteSize);
    }

    /**
     * Seals whole pages: {@code mseal(address + offset, byteSize, 0)}. From then on, until the process exits,
     * the kernel refuses with EPERM to unmap, remap, re-protect or map over these pages, and to discard their
     * contents with {@code madvise} unless they are writable. Sealing again is allowed and changes nothing.
     *
     * <p>Sealing does not make memory read-only: seal {@link Protection#READ} pages for that, or use
     * {@link #sealReadOnly()}. Guard pages ({@link MappingOption#GUARD_PAGES}) are sealed with the first seal.
     *
     * <p>Where mseal is unavailable, this throws under the default {@linkplain SealPolicy#STRICT strict}
     * policy; under {@linkplain SealPolicy#BEST_EFFORT best-effort} it returns without sealing, and the pages
     * are treated as sealed by the library (never re-protected or unmapped) while {@link #isSealed()} stays
     * false.
     *
     * @param offset the first byte; a multiple of the page size
     * @param byteSize the number of bytes; a positive multiple of the page size
     * @throws IndexOutOfBoundsException if the range is not inside the region
     * @throws IllegalArgumentException if {@code offset} or {@code byteSize} is not page-aligned, or zero-length
     * @throws IllegalStateException if the region is closed
     * @throws UnsupportedOperationException if mseal is not available here ({@link Mseal#support()} says why)
     *     and the {@linkplain SealPolicy policy} is strict
     * @throws SystemCallException if {@code mseal} fails; with ENOMEM the range may be partly sealed
     */
    public void seal(long offset, long byteSize) {
        checkPageRange(offset, byteSize);
        boolean byKernel = Sealing.byKernel();
        long from = offset >>> pageShift;
        long to = from + (byteSize >>> pageShift);
        if (sealedAlready(from, to)) {
            // Nothing to track or to race with: ask the kernel again, without the lock.
            ensureOpen();
            if (!byKernel || LibC.mseal(address + offset, byteSize) == 0) {
                return;
            }
        }
        synchronized (lock) {
            ensureOpen();
            mseal(from, to, byKernel);
        }
    }

    /**
     * Makes the whole region read-only and seals it: {@code mprotect(PROT_READ)}, then {@code mseal}. The
     * contents can then never be changed again through this mapping (see the class documentation for what
     * remains possible). Calling it again returns the same segment.
     *
     * <p>Segments obtained earlier from {@link #segment()} are invalidated if the region was writable. The
     * returned segment is read-only and, because sealed memory is never unmapped, valid forever: it survives
     * {@link #close()}.
     *
     * @return a read-only segment over the whole region that is never invalidated
     * @throws IllegalStateException if the region is closed, or has pages already sealed with another
     *     protection (they can never become read-only)
     * @throws UnsupportedOperationException if mseal is not available here ({@link Mseal#support()} says why)
     *     and the {@linkplain SealPolicy policy} is strict
     * @throws SystemCallException if {@code mprotect} or {@code mseal} fails
     */
    public MemorySegment sealReadOnly() {
        boolean byKernel = Sealing.byKernel();
        synchronized (lock) {
            ensureOpen();
            long all = pages.pages();
            if (sealedReadOnlyView != null) {
                return sealedReadOnlyView;
            }
            if (pages.any(0, all, page -> page.sealed() && page.protection() != Protection.READ)) {
                throw new IllegalStateException("cannot seal the region read-only: some pages are already sealed"
                    + " with another protection, which can never change: " + describe(0, all));
            }
            if (pages.any(0, all, page -> page.protection() == Protection.READ_WRITE)) {
                revokeSegments();
            }
            for (Run run : pages.runs()) {
                if (run.page().protection() != Protection.READ) {
                    mprotect(run.from(), run.to(), Protection.READ);
                }
            }
            mseal(0, all, byKernel);
            sealedReadOnlyView = LibC.foreverView(address, byteSize).asReadOnly();
            return sealedReadOnlyView;
        }
    }

    /**
     * Whether every page of the region is sealed, as the kernel reports it: each mapping that covers the
     * region shows {@code sl} in {@code /proc/self/smaps}. This reads smaps (about a millisecond), so it
     * suits checks and tests, not hot paths. After {@code close()} of a region that was not wholly sealed,
     * the unsealed pages are gone and this returns false. Under the best-effort policy on a host without
     * mseal, it is false: nothing was sealed. Guard pages are not counted.
     *
     * @return true when the kernel reports every page sealed
     */
    public boolean isSealed() {
        synchronized (lock) {
            if (closed && pages.any(0, pages.pages(), page -> !page.sealed())) {
                return false;
            }
        }
        return Smaps.coveredAndSealed(Smaps.read(address, address + byteSize), address, address + byteSize);
    }

    /**
     * Unmaps the pages from {@code newByteSize} to the end; the region then ends there. Invalidates every
     * segment obtained from this region first. For {@link SealedArena}, before it seals what it used.
     *
     * @throws IllegalArgumentException if {@code newByteSize} is not a positive multiple of the page size
     * @throws IndexOutOfBoundsException if it is larger than the region
     * @throws IllegalStateException if the region is closed or a page past {@code newByteSize} is sealed
     */
    void truncate(long newByteSize) {
        checkPageRange(0, newByteSize);
        if (guardBytes > 0) {
            throw new IllegalStateException("a region with guard pages cannot be truncated");
        }
        synchronized (lock) {
            ensureOpen();
            long oldByteSize = byteSize;
            if (newByteSize == oldByteSize) {
                return;
            }
            long from = newByteSize >>> pageShift;
            if (pages.any(from, pages.pages(), Page::sealed)) {
                throw new IllegalStateException("cannot unmap sealed pages: " + describe(from, pages.pages()));
            }
            closeGeneration();
            int errno = LibC.munmap(address + newByteSize, oldByteSize - newByteSize);
            if (errno == 0) {
                pages.truncate(from);
                byteSize = newByteSize;
            }
            openGeneration();
            if (errno != 0) {
                throw new SystemCallException("munmap", address + newByteSize, oldByteSize - newByteSize, "", errno);
            }
        }
    }

    /**
     * Releases the region. Invalidates every segment obtained from {@link #segment()}, then unmaps every
     * unsealed page. Sealed pages stay mapped until the process exits, and the segment from
     * {@link #sealReadOnly()} stays valid. Does not fail because of sealed pages. Idempotent.
     *
     * @throws IllegalStateException if a segment of the region is in use by a native call right now (for
     *     example a channel read into it); the region then stays open and {@code close()} can be retried
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closeGeneration();
            closed = true;
            List<long[]> unmap = new ArrayList<>();
            for (Run run : pages.runs()) {
                if (!run.page().sealed()) {
                    unmap.add(new long[] {address + run.from() * pageSize, (run.to() - run.from()) * pageSize});
                }
            }
            if (guardBytes > 0 && !guardsSealed) {
                unmap.add(new long[] {address - guardBytes, guardBytes});
                unmap.add(new long[] {address + byteSize, guardBytes});
            }
            for (long[] range : unmap) {
                int errno = LibC.munmap(range[0], range[1]);
                if (errno != 0) {
                    // Sealed behind the library's back (EPERM), or worse: leave it mapped, never crash.
                    LOG.log(System.Logger.Level.WARNING, () -> new SystemCallException("munmap", range[0], range[1],
                        "", errno).getMessage() + "; the pages stay mapped");
                }
            }
        }
    }

    @Override
    public String toString() {
        synchronized (lock) {
            return String.format(Locale.ROOT, "MappedRegion[%s, %d bytes%s%s: %s]", Errno.hex(address), byteSize,
                options.isEmpty() ? "" : ", " + options, closed ? ", closed" : "", describe(0, pages.pages()));
        }
    }

    // ---- internals; the caller holds the lock for all of these ----

    private void mprotect(long from, long to, Protection protection) {
        long start = address + from * pageSize;
        long length = (to - from) * pageSize;
        int errno = LibC.mprotect(start, length, Mman.prot(protection));
        if (errno != 0) {
            // Since Linux 6.12 a failed mprotect may have changed a prefix of the range: ask the kernel.
            resynchronize();
            throw new SystemCallException("mprotect", start, length, Mman.protName(protection), errno);
        }
        pages.update(from, to, page -> page.withProtection(protection));
        Events.protectionChanged(start, length, Mman.protName(protection));
    }

    /**
     * Seals pages {@code [from, to)}, and the guard pages the first time. Without {@code byKernel} (the
     * best-effort policy on a host without mseal) nothing is sealed, but the pages are treated as sealed from
     * then on: never re-protected, never unmapped.
     */
    private void mseal(long from, long to, boolean byKernel) {
        long start = address + from * pageSize;
        long length = (to - from) * pageSize;
        if (byKernel) {
            int errno = LibC.mseal(start, length);
            if (errno != 0) {
                // A failed split can leave the range partly sealed: ask the kernel what it did.
                resynchronize();
                throw new SystemCallException("mseal", start, length, "0", errno);
            }
        }
        if (guardBytes > 0 && !guardsSealed) {
            if (byKernel) {
                check(LibC.mseal(address - guardBytes, guardBytes), "mseal", address - guardBytes, guardBytes, "0");
                check(LibC.mseal(address + byteSize, guardBytes), "mseal", address + byteSize, guardBytes, "0");
            }
            guardsSealed = true;
        }
        long newlySealed = pages.count(from, to, page -> !page.sealed());
        if (pages.update(from, to, Page::sealedPage)) {
            publishSealedRuns();
            Events.sealed(start, length, byKernel);
            if (byKernel) {
                SealCounters.sealed(newlySealed * pageSize, !counted);
                counted = true;
            }
        }
    }

    /** True when the last published sealed runs cover pages {@code [from, to)}. */
    private boolean sealedAlready(long from, long to) {
        long[] runs = sealedRuns;
        for (int i = 0; i < runs.length; i += 2) {
            if (runs[i] <= from && to <= runs[i + 1]) {
                return true;
            }
        }
        return false;
    }

    private void publishSealedRuns() {
        List<Long> bounds = new ArrayList<>();
        for (Run run : pages.runs()) {
            if (!run.page().sealed()) {
                continue;
            }
            if (!bounds.isEmpty() && bounds.getLast() == run.from()) {
                bounds.set(bounds.size() - 1, run.to());
            } else {
                bounds.add(run.from());
                bounds.add(run.to());
            }
        }
        sealedRuns = bounds.stream().mapToLong(Long::longValue).toArray();
    }

    /**
     * Replaces what the library believes about its pages with what the kernel reports. Where the kernel
     * cannot be asked, assumes the worst: no access, sealed (so nothing is handed out or unmapped).
     */
    private void resynchronize() {
        long end = address + byteSize;
        try {
            List<Smaps.Vma> vmas = Smaps.read(address, end);
            // Holes are inaccessible; a seal, once known, is never forgotten (best-effort ones included).
            pages.update(0, pages.pages(), page -> new Page(Protection.NONE, page.sealed()));
            for (Smaps.Vma vma : vmas) {
                long from = (Math.max(vma.start(), address) - address) / pageSize;
                long to = (Math.min(vma.end(), end) - address) / pageSize;
                pages.update(from, to, page -> new Page(vma.protection(), page.sealed() || vma.sealed()));
            }
        } catch (RuntimeException e) {
            pages.set(0, pages.pages(), new Page(Protection.NONE, true));
        }
        publishSealedRuns();
    }

    private void revokeSegments() {
        closeGeneration();
        openGeneration();
    }

    private void openGeneration() {
        generation = Arena.ofShared();
        view = LibC.view(address, byteSize, generation);
    }

    private void closeGeneration() {
        try {
            generation.close();
        } catch (IllegalStateException e) {
            throw new IllegalStateException("a segment of " + this + " is in use by a native call (for example"
                + " I/O into it), so its segments cannot be invalidated now; retry when the call has returned", e);
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the region at " + Errno.hex(address) + " is closed");
        }
    }

    private void checkPageRange(long offset, long byteSize) {
        Objects.checkFromIndexSize(offset, byteSize, this.byteSize);
        if ((offset & pageMask) != 0) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                "offset %d is not a multiple of the page size %d (the page starts at %d)", offset, pageSize,
                offset & ~pageMask));
        }
        if (byteSize == 0 || (byteSize & pageMask) != 0) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                "byteSize %d is not a positive multiple of the page size %d (whole pages would be %d)", byteSize,
                pageSize, Math.max(pageSize, roundUp(byteSize, pageSize))));
        }
    }

    /** Pages {@code [from, to)} as runs, for messages: {@code pages [0, 2) READ sealed, [2, 4) READ_WRITE}. */
    private String describe(long from, long to) {
        List<Run> runs = pages.runs(from, to);
        StringBuilder text = new StringBuilder("pages ");
        for (Run run : runs) {
            if (text.length() > "pages ".length()) {
                text.append(", ");
            }
            text.append('[').append(run.from()).append(", ").append(run.to()).append(") ")
                .append(run.page().protection()).append(run.page().sealed() ? " sealed" : "");
        }
        return text.toString();
    }

    private static long roundUp(long value, long pageSize) {
        return (value + pageSize - 1) / pageSize * pageSize;
    }
}
