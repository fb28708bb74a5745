package io.github.mseal4j;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.MapReserve;
import io.github.mseal4j.internal.Platform;
import io.github.mseal4j.internal.PageMap.Page;
import io.github.mseal4j.internal.Smaps;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * Memory that mseal4j mapped itself, whose protection can be changed and which can be sealed with
 * {@code mseal(2)}, wholly or in page-aligned parts. By default it is private anonymous memory
 * ({@code mmap(MAP_PRIVATE | MAP_ANONYMOUS)}); with {@link MappingOption#IMMUTABLE} it is a shared mapping of
 * a {@code memfd}, which {@link #sealReadOnly()} makes immutable.
 *
 * {@snippet :
 * try (MappedRegion region = MappedRegion.allocate(4096, MappingOption.IMMUTABLE)) {
 *     region.segment().setString(0, "allow: api.example.com");
 *     MemorySegment config = region.sealReadOnly();   // frozen for good, /proc/self/mem included
 *     publish(config);                                // stays valid after close()
 * }
 * }
 *
 * <h2>Ranges</h2>
 * Offsets and lengths given to {@link #protect(long, long, Protection)} and {@link #seal(long, long)} must be
 * multiples of {@link Mseal#pageSize()} and lie inside the mapping ({@link #mappedSize()}); anything else is
 * refused with an exception before any system call. Unaligned lengths are refused, not rounded: rounding would
 * silently protect or seal more than was asked for. Only the mapping is rounded up to whole pages: the segments
 * a region hands out are exactly as long as asked ({@link #byteSize()}), and offsets past that are out of
 * bounds.
 *
 * <h2>Lifetime</h2>
 * <ul>
 *   <li>Segments from {@link #segment()} belong to the region. {@link #close()} invalidates them: using one
 *       afterwards throws {@link IllegalStateException}, never a crash. So does a {@link #protect} call that
 *       takes access away from any page (for example READ_WRITE to READ), and {@link #sealReadOnly()} of a
 *       writable region, since a segment that still allowed the old access would crash the JVM on use: obtain
 *       fresh segments afterwards.</li>
 *   <li>Sealed pages can never be unmapped: they stay mapped until the process exits (or calls
 *       {@code execve}). {@link #close()} of a wholly or partly sealed region unmaps the unsealed pages and
 *       keeps the sealed ones. The segment returned by {@link #sealReadOnly()} is never invalidated, not even
 *       by {@code close()}.</li>
 *   <li>Sealed memory is never freed, so every sealed region costs its pages and at least one kernel mapping
 *       (of {@code vm.max_map_count}, 65530 by default) for the life of the process.</li>
 * </ul>
 *
 * <h2>Failures</h2>
 * Every multi-step operation ({@link #sealReadOnly()}, {@link #close()}) either completes or leaves the region
 * as it was, except where the kernel itself fails half-way (the exception then says what state it left),
 * and a retry is always possible. Segments handed out before a failed {@code sealReadOnly()} of a writable
 * region may have been invalidated; obtain fresh ones.
 *
 * <h2>What sealing does not do</h2>
 * Sealing freezes the mapping and its protection, not the contents: sealed READ_WRITE memory stays writable.
 * For read-only data use {@link #sealReadOnly()}. Without {@link MappingOption#IMMUTABLE}, the kernel still
 * lets the process write sealed read-only memory through {@code /proc/self/mem} (unless it is booted with
 * {@code proc_mem.force_override=never}) and lets debuggers write it through {@code ptrace}; with it, it
 * refuses both.
 *
 * <h2>Threads</h2>
 * All methods are safe to call from many threads; changes to one region are serialized.
 */
public final class MappedRegion implements AutoCloseable {
    private static final LongSupplier SEALED_REGIONS = SealCounters::regions;

    private final long address;
    private final long pageSize;
    private final long pageMask;
    private final int pageShift;
    /** The options asked for; {@link MappingOption#IMMUTABLE} stays here even where it fell back. */
    private final Set<MappingOption> options;
    /** {@code options} has {@link MappingOption#IMMUTABLE}: asked on every seal, so kept as a field. */
    private final boolean immutable;
    /** The freeze of an immutable region (its memfd, and how far it has come); null for other memory. */
    private final MemfdFreeze freeze;
    private final Object lock = new Object();

    // Guarded by lock; the volatiles (here and in pages) are also read without it.
    /** The pages, their protections and seals, and the calls that change them. */
    private final RegionPages pages;
    /** The arena of every segment handed out, created on first use; null when none is live. */
    private Arena generation;
    private MemorySegment view;
    private MemorySegment sealedReadOnlyView;
    private volatile boolean closed;
    /** The bytes asked for: what every segment is bounded by ({@link #truncate} sets it to a page multiple). */
    private volatile long length;

    private MappedRegion(RegionMapping.Mapped mapped, Protection protection, Set<MappingOption> options,
                         long length) {
        this.address = mapped.address();
        this.length = length;
        this.pageSize = mapped.pageSize();
        this.options = Set.copyOf(options);
        this.immutable = options.contains(MappingOption.IMMUTABLE);
        this.pageMask = pageSize - 1;
        this.pageShift = Long.numberOfTrailingZeros(pageSize);
        this.pages = new RegionPages(address, mapped.size(), pageSize, mapped.guard(), protection, mapped.fd() >= 0);
        this.freeze = mapped.file() != null ? new MemfdFreeze(address, mapped.size(), this.options, mapped.file())
            : null;
    }

    private static MappedRegion of(long byteSize, long alignment, Protection protection, Set<MappingOption> options,
                                   boolean immutable) {
        return new MappedRegion(RegionMapping.map(byteSize, alignment, protection, options, immutable), protection,
            options, byteSize);
    }

    /**
     * Maps fresh, zeroed, private anonymous memory, readable and writable:
     * {@code mmap(NULL, size, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)}.
     *
     * @param byteSize the size wanted: every segment of the region is at most this long ({@link #byteSize()});
     *     the mapping is rounded up to a whole number of pages ({@link #mappedSize()})
     * @return the new region
     * @throws IllegalArgumentException if {@code byteSize} is not positive, or more than can be mapped (2^48
     *     bytes, 256 TiB, or more)
     * @throws UnsupportedOperationException if native calls are impossible here (the message says why)
     * @throws IllegalStateException if it would need mappings the library keeps for the JVM under
     *     {@code vm.max_map_count} ({@code -Dio.github.mseal4j.mappingReserve}); nothing is changed
     * @throws SystemCallException if {@code mmap} fails, for example with ENOMEM
     */
    public static MappedRegion allocate(long byteSize) {
        Platform.requireNativeCalls();
        return of(byteSize, 0, Protection.READ_WRITE, EnumSet.noneOf(MappingOption.class), false);
    }

    /**
     * Maps fresh, zeroed memory, readable and writable, hardened as {@code options} say: immutable once
     * frozen, guard pages around it, left out of core dumps, locked in memory, not inherited by child
     * processes. The options are applied right after {@code mmap}, in the order the kernel requires (advice
     * before any sealing). If one cannot be applied (for example {@link MappingOption#LOCKED} beyond
     * {@code RLIMIT_MEMLOCK}), everything is unmapped again and the exception says why: the region is never
     * returned with an option silently missing (the one exception is {@link MappingOption#IMMUTABLE} under the
     * best-effort policy where immutable memory is not available; see there). The {@code madvise} and
     * {@code mlock} that apply {@code NO_DUMP}, {@code NO_FORK} and {@code LOCKED} are taken at their word: a
     * seccomp filter answering them with success without running them would go unnoticed (smaps shows it).
     *
     * {@snippet :
     * try (MappedRegion secret = MappedRegion.allocate(32, MappingOption.IMMUTABLE, MappingOption.GUARD_PAGES,
     *         MappingOption.NO_DUMP, MappingOption.LOCKED, MappingOption.NO_FORK)) {
     *     secret.segment().copyFrom(MemorySegment.ofArray(keyBytes));
     *     MemorySegment key = secret.sealReadOnly();   // frozen, guards sealed too
     * }
     * }
     *
     * @param byteSize the size wanted: every segment of the region is at most this long ({@link #byteSize()}),
     *     so a 32-byte key is handed out as 32 bytes; the mapping is rounded up to whole pages
     *     ({@link #mappedSize()}; guard pages come on top)
     * @param options the hardening to apply; none is fine
     * @return the new region
     * @throws IllegalArgumentException if {@code byteSize} is not positive, or more than can be mapped (2^48
     *     bytes, 256 TiB, or more, guard pages included); or the
     *     {@linkplain SealPolicy policy} property is invalid and {@code IMMUTABLE} is asked where it is not
     *     available
     * @throws NullPointerException if {@code options} or one of them is null
     * @throws UnsupportedOperationException if native calls are impossible here, or {@code IMMUTABLE} is asked
     *     where {@link Mseal#immutability()} is not available and the policy is strict (the message says why)
     * @throws IllegalStateException if it would need mappings the library keeps for the JVM under
     *     {@code vm.max_map_count} ({@code -Dio.github.mseal4j.mappingReserve}); nothing is changed
     * @throws SystemCallException if {@code memfd_create}, {@code ftruncate}, {@code mmap}, {@code mprotect},
     *     {@code madvise} or {@code mlock} fails
     */
    public static MappedRegion allocate(long byteSize, MappingOption... options) {
        Platform.requireNativeCalls();
        EnumSet<MappingOption> chosen = EnumSet.noneOf(MappingOption.class);
        for (MappingOption option : Objects.requireNonNull(options, "options")) {
            chosen.add(Objects.requireNonNull(option, "option"));
        }
        boolean immutable = chosen.contains(MappingOption.IMMUTABLE) && Sealing.immutableOrFallBack();
        return of(byteSize, 0, Protection.READ_WRITE, chosen, immutable);
    }

    /**
     * Maps {@code byteSize} bytes starting at a multiple of {@code alignment}, immutable-backed or not, with no
     * other option: for {@link SealedArena}'s large allocations. The alignment slack is unmapped again.
     */
    static MappedRegion allocateAligned(long byteSize, long alignment, boolean immutable) {
        EnumSet<MappingOption> chosen = immutable ? EnumSet.of(MappingOption.IMMUTABLE)
            : EnumSet.noneOf(MappingOption.class);
        return of(byteSize, alignment, Protection.READ_WRITE, chosen, immutable);
    }

    /**
     * Reserves address space: like {@link #allocate(long)}, but {@code PROT_NONE}, so the kernel neither
     * commits nor charges memory until pages are made accessible with {@link #protect}. For
     * {@link SealedArena}, which grows into a reservation and trims it with {@link #truncate} before sealing.
     */
    static MappedRegion reserve(long byteSize) {
        return of(byteSize, 0, Protection.NONE, EnumSet.noneOf(MappingOption.class), false);
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
     * The size asked for: how long {@link #segment()} and {@link #sealReadOnly()} are. A key allocated with 32
     * bytes is 32 bytes long, though its page is not.
     *
     * @return the size in bytes
     */
    public long byteSize() {
        return length;
    }

    /**
     * The size of the mapping: {@link #byteSize()} rounded up to whole pages (guard pages not included). Page
     * ranges given to {@link #protect(long, long, Protection)} and {@link #seal(long, long)} lie within it; the
     * bytes between {@code byteSize()} and it are never handed out.
     *
     * @return the mapped size in bytes, a multiple of {@link Mseal#pageSize()}
     */
    public long mappedSize() {
        return pages.byteSize();
    }

    /**
     * The region's bytes, as {@code segment(0, byteSize())}.
     *
     * @return a segment of exactly {@link #byteSize()} bytes; read-only if some page is {@link Protection#READ}
     * @throws IllegalStateException if the region is closed, or some page is {@link Protection#NONE}
     */
    public MemorySegment segment() {
        return segment(0, length);
    }

    /**
     * Part of the mapping. The segment is writable only if every page it touches is
     * {@link Protection#READ_WRITE}, and read-only if some is {@link Protection#READ}; if some page is
     * {@link Protection#NONE}, no segment is handed out, because any access would crash the JVM.
     * The segment is invalidated by {@link #close()} and by a {@link #protect} or {@link #sealReadOnly()} call
     * that takes access away.
     *
     * @param offset the first byte, from the start of the region
     * @param byteSize the number of bytes; need not be page-aligned
     * @return a segment over {@code [offset, offset + byteSize)}
     * @throws IndexOutOfBoundsException if the range is not inside {@code [0, byteSize())}
     * @throws IllegalStateException if the region is closed, or some page of the range is {@link Protection#NONE}
     */
    public MemorySegment segment(long offset, long byteSize) {
        Objects.checkFromIndexSize(offset, byteSize, length);
        // The size is read outside the lock; should a truncate race this check, view.asSlice below still rejects it.
        long firstPage = offset >>> pageShift;
        long endPage = (offset + byteSize + pageMask) >>> pageShift;
        synchronized (lock) {
            ensureOpen();
            Protection least = pages.map().leastAccess(firstPage, endPage);
            if (least == Protection.NONE) {
                throw new IllegalStateException(String.format(Locale.ROOT,
                    "bytes [%d, %d) include PROT_NONE pages; any access to them would crash the JVM, so no segment"
                        + " is handed out for them: %s", offset, offset + byteSize, pages.describe(firstPage,
                        endPage)));
            }
            if (view == null) {
                generation = Arena.ofShared();
                view = LibC.view(address, pages.byteSize(), generation);
            }
            MemorySegment slice = view.asSlice(offset, byteSize);
            return least == Protection.READ ? slice.asReadOnly() : slice;
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
        protect(0, pages.byteSize(), protection);
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
     * @throws IllegalStateException if it would need mappings the library keeps for the JVM under
     *     {@code vm.max_map_count} ({@code -Dio.github.mseal4j.mappingReserve}); nothing is changed
     * @throws SystemCallException if {@code mprotect} fails
     */
    public void protect(long offset, long byteSize, Protection protection) {
        Objects.requireNonNull(protection, "protection");
        checkPageRange(offset, byteSize);
        long from = offset >>> pageShift;
        long to = from + (byteSize >>> pageShift);
        synchronized (lock) {
            ensureOpen();
            if (freeze != null && freeze.halfway()) {
                throw new IllegalStateException("an earlier sealReadOnly() of this IMMUTABLE region stopped after"
                    + " sealing its file; only sealReadOnly() can go on from there");
            }
            if (pages.map().any(from, to, Page::sealed)) {
                throw new IllegalStateException(String.format(Locale.ROOT,
                    "cannot change the protection of bytes [%d, %d) to %s: %s: %s", offset, offset + byteSize,
                    protection, Mseal.support().available()
                        ? "the range has sealed pages, whose protection can never change (the kernel would answer EPERM)"
                        : "the range has pages that were to be sealed; with no mseal here (best-effort) they are not,"
                            + " but their protection never changes all the same",
                    pages.describe(from, to)));
            }
            MapReserve.ensureRoom("mprotect", 2, SEALED_REGIONS); // a split at each end
            if (pages.map().any(from, to, page -> page.protection().compareTo(protection) > 0)) {
                revokeSegments();
            }
            pages.mprotect(from, to, protection);
        }
    }

    /**
     * Seals the whole region: {@code mseal(address, byteSize, 0)}. Guard pages, if any, are sealed by the same
     * call. mseal's answer of 0 is taken as the seal: checking it would cost another system call (the
     * multi-step operations, such as {@link #sealReadOnly()}, do check). Where a seccomp filter might answer
     * mseal with 0 without sealing, ask {@link #isSealed()}, which reads what the kernel reports.
     *
     * @throws IllegalStateException if the region is closed, or was allocated {@link MappingOption#IMMUTABLE}
     *     (seal it with {@link #sealReadOnly()})
     * @throws IllegalArgumentException if the {@linkplain SealPolicy policy} property names no policy
     * @throws UnsupportedOperationException if mseal is not available here ({@link Mseal#support()} says why)
     *     and the {@linkplain SealPolicy policy} is strict
     * @throws IllegalStateException if it would need mappings the library keeps for the JVM under
     *     {@code vm.max_map_count} ({@code -Dio.github.mseal4j.mappingReserve}); nothing is changed
     * @throws IllegalStateException if it would seal more than the budget for memory sealed for good allows
     *     ({@code -Dio.github.mseal4j.maxSealedBytes}); nothing is changed
     * @throws SystemCallException if {@code mseal} fails
     * @see #seal(long, long)
     */
    public void seal() {
        // The common case, kept short: a cold caller runs this interpreted, and every call here costs it.
        checkNotImmutable();
        boolean byKernel = Sealing.byKernel();
        if (pages.wholeSealed()) {
            ensureOpen();
            if (!byKernel || LibC.mseal(address, pages.byteSize()) == 0) {
                return;
            }
        }
        synchronized (lock) {
            ensureOpen();
            MapReserve.ensureRoom("mseal", 2, SEALED_REGIONS); // a region merged with a neighbour splits off
            try (var _ = budget(byKernel, 0, pages.count())) {
                pages.mseal(0, pages.count(), byKernel, null);
            }
        }
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
     * @throws IllegalArgumentException if {@code offset} or {@code byteSize} is not page-aligned, or zero-length;
     *     or the {@linkplain SealPolicy policy} property names no policy
     * @throws IllegalStateException if the region is closed, or was allocated {@link MappingOption#IMMUTABLE}
     *     (seal it with {@link #sealReadOnly()})
     * @throws UnsupportedOperationException if mseal is not available here ({@link Mseal#support()} says why)
     *     and the {@linkplain SealPolicy policy} is strict
     * @throws IllegalStateException if it would need mappings the library keeps for the JVM under
     *     {@code vm.max_map_count} ({@code -Dio.github.mseal4j.mappingReserve}); nothing is changed
     * @throws IllegalStateException if it would seal more than the budget for memory sealed for good allows
     *     ({@code -Dio.github.mseal4j.maxSealedBytes}); nothing is changed
     * @throws SystemCallException if {@code mseal} fails; with ENOMEM the range may be partly sealed
     */
    public void seal(long offset, long byteSize) {
        checkPageRange(offset, byteSize);
        checkNotImmutable();
        boolean byKernel = Sealing.byKernel();
        long from = offset >>> pageShift;
        long to = from + (byteSize >>> pageShift);
        if (pages.wholeSealed() || pages.allSealed(from, to)) {
            // Nothing to track or to race with: ask the kernel again, without the lock.
            ensureOpen();
            if (!byKernel || LibC.mseal(address + offset, byteSize) == 0) {
                return;
            }
        }
        synchronized (lock) {
            ensureOpen();
            MapReserve.ensureRoom("mseal", 2, SEALED_REGIONS);
            try (var _ = budget(byKernel, from, to)) {
                pages.mseal(from, to, byKernel, null);
            }
        }
    }

    /** The budget's permit to seal pages {@code [from, to)}: only those not sealed yet count. */
    private SealCounters.Permit budget(boolean byKernel, long from, long to) {
        // The pages are counted only under a budget: this is the cold path of a process's first seals.
        return SealCounters.budget(byKernel && SealCounters.budgeted() ? pages.unsealedBytes(from, to) : 0);
    }

    private void checkNotImmutable() {
        if (immutable) {
            throw new IllegalStateException("an IMMUTABLE region is sealed whole and read-only, with sealReadOnly();"
                + " seal() and seal(offset, length) are refused");
        }
    }

    /**
     * Makes the whole region read-only and seals it; the contents can then never be changed again through
     * this mapping. Calling it again returns the same segment.
     *
     * <p>For ordinary memory: {@code mprotect(PROT_READ)}, then {@code mseal}. For a region allocated
     * {@link MappingOption#IMMUTABLE}, this <em>freezes</em> it: the writable mapping is replaced, the memfd
     * behind it sealed against writing, mapped again read-only at the same address with the same options, and
     * sealed; from then on not even {@code /proc/self/mem} or {@code ptrace} can write it (see
     * {@link MappingOption#IMMUTABLE}).
     *
     * <p>Segments obtained earlier from {@link #segment()} are invalidated if the region was writable, or
     * immutable. The returned segment is read-only and, because sealed memory is never unmapped, valid forever:
     * it survives {@link #close()}.
     *
     * <p>Before changing anything, the call makes sure mseal still works ({@code mseal(0, 0, 0)}: a filter
     * installed after the probe is caught here) and that no segment is in use by a native call. If a later
     * step fails, ordinary memory gets its old protection back; an immutable region either gets its writable
     * mapping back (if the file could not be sealed) or, once the file is sealed, stays read-only and can only
     * go forward: calling this again continues where it stopped. The exception says which.
     *
     * @return a read-only segment of exactly {@link #byteSize()} bytes that is never invalidated
     * @throws IllegalStateException if the region is closed, has pages already sealed with another protection
     *     (they can never become read-only), or a segment of it is in use by a native call right now
     * @throws IllegalArgumentException if the {@linkplain SealPolicy policy} property names no policy
     * @throws UnsupportedOperationException if mseal is not available here ({@link Mseal#support()} says why)
     *     and the {@linkplain SealPolicy policy} is strict
     * @throws IllegalStateException if it would need mappings the library keeps for the JVM under
     *     {@code vm.max_map_count} ({@code -Dio.github.mseal4j.mappingReserve}); nothing is changed
     * @throws IllegalStateException if it would seal more than the budget for memory sealed for good allows
     *     ({@code -Dio.github.mseal4j.maxSealedBytes}); nothing is changed
     * @throws SystemCallException if a system call fails ({@code mprotect}, {@code mseal}; for an immutable
     *     region also {@code mmap}, {@code fcntl}, {@code madvise}, {@code mlock})
     * @throws IllegalStateException also if the kernel reported a seal (of the memory, or of an immutable
     *     region's file) that a check right after shows it did not make; nothing is then reported sealed
     */
    public MemorySegment sealReadOnly() {
        return sealReadOnly(false);
    }

    /** {@link #sealReadOnly()}; with {@code populate}, an immutable region's read-only mapping is faulted in at once. */
    MemorySegment sealReadOnly(boolean populate) {
        boolean byKernel = Sealing.byKernel();
        synchronized (lock) {
            ensureOpen();
            if (sealedReadOnlyView != null) {
                return sealedReadOnlyView;
            }
            MapReserve.ensureRoom(freeze != null ? "freezing a region" : "sealReadOnly", 2, SEALED_REGIONS);
            try (var _ = budget(byKernel || freeze != null, 0, pages.count())) {
                if (freeze != null) {
                    freeze.freeze(pages, this::revokeSegments, populate);
                } else {
                    pages.sealOrdinaryReadOnly(byKernel, this::revokeSegments);
                }
            }
            sealedReadOnlyView = pages.sealedView().asSlice(0, length).asReadOnly();
            return sealedReadOnlyView;
        }
    }

    /**
     * A segment over the whole region in the global scope, for {@link SealedMap}'s build only, which writes
     * through it before {@link #sealReadOnly()} and drops it then (or before {@link #close()} on failure).
     * Never handed out: nothing else could know when it stops being valid.
     */
    MemorySegment unscopedView() {
        return LibC.foreverView(address, pages.byteSize());
    }

    /**
     * Whether every page of {@code [offset, offset + length)} is mapped read-write and unsealed, as far as the
     * region knows (after a failed call it asks the kernel): what {@link SealedArena} checks before it hands
     * out memory again after a failed seal.
     */
    boolean writableThroughout(long offset, long length) {
        synchronized (lock) {
            long from = offset >>> pageShift;
            long to = (offset + length + pageMask) >>> pageShift;
            return !closed && !pages.map().any(from, to,
                page -> page.sealed() || page.protection() != Protection.READ_WRITE);
        }
    }

    /** True once anything permanent has happened: a page is sealed, or an immutable region's file. */
    boolean sealedOrFreezing() {
        synchronized (lock) {
            return (freeze != null && freeze.stage() != MemfdFreeze.Stage.WRITABLE)
                || pages.map().any(0, pages.count(), Page::sealed);
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
            if (closed && pages.map().any(0, pages.count(), page -> !page.sealed())) {
                return false;
            }
        }
        long end = address + pages.byteSize();
        return Smaps.coveredAndSealed(Smaps.read(address, end), address, end);
    }

    /**
     * Whether the region is immutable, as the kernel reports it: every mapping that covers it is shared (a
     * memfd), sealed ({@code sl}), and neither writable nor able to become writable (no {@code wr} and no
     * {@code mw} in {@code VmFlags}). True once {@link #sealReadOnly()} has frozen a region allocated
     * {@link MappingOption#IMMUTABLE}; false for every other region, whatever smaps says of it. Reads smaps,
     * like {@link #isSealed()}.
     *
     * @return true when the kernel reports every page immutable
     */
    public boolean isImmutable() {
        synchronized (lock) {
            if (freeze == null || freeze.stage() != MemfdFreeze.Stage.FROZEN) {
                return false; // only the library's own frozen memfd counts, whatever else smaps shows
            }
        }
        long end = address + pages.byteSize();
        return Smaps.coveredAndImmutable(Smaps.read(address, end), address, end);
    }

    /**
     * Unmaps the pages from {@code newByteSize} to the end; the region then ends there (an immutable region's
     * file shrinks too). Invalidates every segment obtained from this region first. For {@link SealedArena},
     * before it seals what it used.
     *
     * @throws IllegalArgumentException if {@code newByteSize} is not a positive multiple of the page size
     * @throws IndexOutOfBoundsException if it is larger than the region
     * @throws IllegalStateException if the region is closed or a page past {@code newByteSize} is sealed
     */
    void truncate(long newByteSize) {
        checkPageRange(0, newByteSize);
        if (pages.guardBytes > 0) {
            throw new IllegalStateException("a region with guard pages cannot be truncated");
        }
        synchronized (lock) {
            ensureOpen();
            if (newByteSize == pages.byteSize()) {
                return;
            }
            long from = newByteSize >>> pageShift;
            if (pages.map().any(from, pages.count(), Page::sealed)) {
                throw new IllegalStateException("cannot unmap sealed pages: " + pages.describe(from, pages.count()));
            }
            revokeSegments();
            pages.truncate(from);
            length = Math.min(length, newByteSize);
            if (freeze != null) {
                freeze.truncate(newByteSize);
            }
        }
    }

    /**
     * Releases the region. Invalidates every segment obtained from {@link #segment()}, then unmaps every
     * unsealed page (adjacent ones, guard pages included, in one call, so that the region's own pages never
     * need the kernel to split a mapping) and closes an immutable region's file if it is not frozen. Sealed
     * pages stay mapped until the process exits, and the segment from {@link #sealReadOnly()} stays valid.
     * Does not fail because of sealed pages, even ones sealed outside mseal4j: when {@code munmap} answers
     * EPERM (and so has unmapped nothing), {@code close()} asks the kernel which pages are sealed and unmaps the
     * rest. Idempotent.
     *
     * <p>The kernel may merge a region with a neighbouring mapping of the same kind (for example two guarded
     * regions made {@link Protection#NONE} side by side). Unmapping a region from the middle of such a mapping
     * splits it, and at {@code vm.max_map_count} the kernel refuses that with ENOMEM; the region then stays
     * open, as described below, until mappings are released.
     *
     * @throws IllegalStateException if a segment of the region is in use by a native call right now (for
     *     example a channel read into it); the region then stays open and {@code close()} can be retried
     * @throws SystemCallException if the kernel refuses to unmap: when nothing could be unmapped the region
     *     stays open (its earlier segments are invalidated; {@link #segment()} hands out new ones) and
     *     {@code close()} can be retried; otherwise it is closed and the message names what stays mapped
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            revokeSegments();
            CheckedCalls.Unmapped result = pages.unmapUnsealed();
            if (result.failure() != null && !result.anyUnmapped()) {
                throw result.failure(); // nothing changed: still open, retry later
            }
            closed = true;
            if (freeze != null) {
                freeze.closeFile();
            }
            if (result.failure() == null && !pages.map().any(0, pages.count(), Page::sealed)) {
                MapReserve.unmapped();
            }
            if (result.failure() != null) {
                throw result.failure(); // closed; the ranges named stay mapped
            }
        }
    }

    @Override
    public String toString() {
        synchronized (lock) {
            // An IMMUTABLE that fell back (best-effort, no immutable memory here) is ordinary memory: say so.
            String shown = immutable && freeze == null
                ? options.toString().replace("IMMUTABLE", "IMMUTABLE (unavailable: ordinary memory)")
                : options.toString();
            return String.format(Locale.ROOT, "MappedRegion[%s, %d bytes%s%s%s: %s]", Errno.hex(address), length,
                length == pages.byteSize() ? "" : " (" + pages.byteSize() + " mapped)",
                options.isEmpty() ? "" : ", " + shown, closed ? ", closed" : "",
                pages.describe(0, pages.count()));
        }
    }

    /** Invalidates every segment handed out; the next {@link #segment} call starts a new generation. */
    private void revokeSegments() {
        if (generation == null) {
            return;
        }
        try {
            generation.close();
        } catch (IllegalStateException e) {
            throw new IllegalStateException("a segment of " + this + " is in use by a native call (for example"
                + " I/O into it), so its segments cannot be invalidated now; nothing was changed: retry when the"
                + " call has returned", e);
        }
        generation = null;
        view = null;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the region at " + Errno.hex(address) + " is closed");
        }
    }

    private void checkPageRange(long offset, long byteSize) {
        Objects.checkFromIndexSize(offset, byteSize, pages.byteSize());
        if ((offset & pageMask) != 0) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                "offset %d is not a multiple of the page size %d (the page starts at %d)", offset, pageSize,
                offset & ~pageMask));
        }
        if (byteSize == 0 || (byteSize & pageMask) != 0) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                "byteSize %d is not a positive multiple of the page size %d (whole pages would be %d)", byteSize,
                pageSize, Math.max(pageSize, (byteSize + pageMask) & ~pageMask)));
        }
    }
}
