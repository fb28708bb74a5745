package io.github.mseal4j;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.internal.Events;
import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.MapReserve;
import io.github.mseal4j.internal.Mman;
import io.github.mseal4j.internal.PageMap;
import io.github.mseal4j.internal.PageMap.Page;
import io.github.mseal4j.internal.PageMap.Run;
import io.github.mseal4j.internal.Smaps;
import io.github.mseal4j.internal.SupportProbe;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

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
 * multiples of {@link Mseal#pageSize()} and lie inside the region; anything else is refused with an exception
 * before any system call. Unaligned lengths are refused, not rounded: rounding would silently protect or seal
 * more than was asked for. Only {@link #allocate(long)} rounds, up to whole pages.
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
    private static final System.Logger LOG = System.getLogger("io.github.mseal4j");
    private static final Predicate<Page> SEALED = Page::sealed;
    private static final Predicate<Page> UNSEALED = page -> !page.sealed();
    private static final LongSupplier SEALED_REGIONS = SealCounters::regions;
    /**
     * No mapping made without an address hint can be this large: 64-bit Linux places those below 2^47 (x86-64)
     * or 2^48 (arm64), also where the address space is larger (5-level paging, 52-bit addresses need a hint),
     * and never at page 0.
     */
    static final long LARGEST_MAPPING = 1L << 48;
    /** How many runs a message lists at each end of a range before it says how many more there are. */
    private static final int RUNS_SHOWN = 3;

    /** How far freezing an immutable region has come; each step is permanent once done. */
    private enum Freeze {
        /** Writable shared mapping of a writable memfd. */
        WRITABLE,
        /** The file is sealed; a placeholder (or nothing the library trusts) is mapped over the data. */
        FILE_SEALED,
        /** The sealed file is mapped read-only again, with the region's options. */
        MAPPED_READ_ONLY,
        /** The mapping is sealed and the file descriptor closed. */
        FROZEN
    }

    private final long address;
    private final long pageSize;
    private final long pageMask;
    private final int pageShift;
    /** 0, or one page: the size of each guard page below and above the data. */
    private final long guardBytes;
    /** The options asked for; {@link MappingOption#IMMUTABLE} stays here even where it fell back. */
    private final Set<MappingOption> options;
    /** {@code options} has {@link MappingOption#IMMUTABLE}: asked on every seal, so kept as a field. */
    private final boolean immutable;
    private final Object lock = new Object();

    // Guarded by lock; the volatiles are also read without it.
    private final PageMap pages;
    /** Only {@link #truncate} shrinks it. */
    private volatile long byteSize;
    /** The arena of every segment handed out, created on first use; null when none is live. */
    private Arena generation;
    private MemorySegment view;
    private MemorySegment sealedReadOnlyView;
    private volatile boolean closed;
    /** Every page is sealed: re-sealing needs neither the lock nor a look-up. */
    private volatile boolean wholeSealed;
    /** How many pages are sealed (or, under the best-effort policy, treated as sealed). */
    private long sealedPages;
    private boolean guardsSealed;
    private boolean counted;
    /** The memfd behind an immutable region until it is frozen; -1 otherwise. */
    private int fd;
    private Freeze freeze;

    private MappedRegion(long address, long byteSize, long pageSize, Protection protection, long guardBytes,
                         Set<MappingOption> options, int fd) {
        this.address = address;
        this.byteSize = byteSize;
        this.pageSize = pageSize;
        this.guardBytes = guardBytes;
        this.options = options;
        this.immutable = options.contains(MappingOption.IMMUTABLE);
        this.pageMask = pageSize - 1;
        this.pageShift = Long.numberOfTrailingZeros(pageSize);
        this.pages = new PageMap(byteSize >>> pageShift, Page.of(protection, false));
        this.fd = fd;
        this.freeze = fd >= 0 ? Freeze.WRITABLE : null;
    }

    /**
     * Maps fresh, zeroed, private anonymous memory, readable and writable:
     * {@code mmap(NULL, size, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)}.
     *
     * @param byteSize the size wanted; rounded up to a whole number of pages
     * @return the new region
     * @throws IllegalArgumentException if {@code byteSize} is not positive, or more than can be mapped (2^48
     *     bytes, 256 TiB, or more)
     * @throws UnsupportedOperationException if native calls are impossible here (the message says why)
     * @throws IllegalStateException if it would need mappings the library keeps for the JVM under
     *     {@code vm.max_map_count} ({@code -Dio.github.mseal4j.mappingReserve}); nothing is changed
     * @throws SystemCallException if {@code mmap} fails, for example with ENOMEM
     */
    public static MappedRegion allocate(long byteSize) {
        return map(byteSize, 0, Protection.READ_WRITE, EnumSet.noneOf(MappingOption.class), false);
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
     * @param byteSize the size wanted; rounded up to a whole number of pages (guard pages come on top)
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
        EnumSet<MappingOption> chosen = EnumSet.noneOf(MappingOption.class);
        for (MappingOption option : Objects.requireNonNull(options, "options")) {
            chosen.add(Objects.requireNonNull(option, "option"));
        }
        boolean immutable = chosen.contains(MappingOption.IMMUTABLE) && Sealing.immutableOrFallBack();
        return map(byteSize, 0, Protection.READ_WRITE, chosen, immutable);
    }

    /**
     * Maps {@code byteSize} bytes starting at a multiple of {@code alignment}, immutable-backed or not, with no
     * other option: for {@link SealedArena}'s large allocations. The alignment slack is unmapped again.
     */
    static MappedRegion allocateAligned(long byteSize, long alignment, boolean immutable) {
        EnumSet<MappingOption> chosen = immutable ? EnumSet.of(MappingOption.IMMUTABLE)
            : EnumSet.noneOf(MappingOption.class);
        return map(byteSize, alignment, Protection.READ_WRITE, chosen, immutable);
    }

    /**
     * Reserves address space: like {@link #allocate(long)}, but {@code PROT_NONE}, so the kernel neither
     * commits nor charges memory until pages are made accessible with {@link #protect}. For
     * {@link SealedArena}, which grows into a reservation and trims it with {@link #truncate} before sealing.
     */
    static MappedRegion reserve(long byteSize) {
        return map(byteSize, 0, Protection.NONE, EnumSet.noneOf(MappingOption.class), false);
    }

    /**
     * Maps the region. Anonymous memory is one {@code mmap}; with guards or a large alignment, a
     * {@code PROT_NONE} span is reserved first and the data made accessible (anonymous) or mapped over it
     * (memfd) at the right place. Everything is unmapped and closed again if a later step fails.
     */
    private static MappedRegion map(long byteSize, long alignment, Protection protection, Set<MappingOption> options,
                                    boolean immutable) {
        if (byteSize <= 0) {
            throw new IllegalArgumentException("byteSize must be positive: " + byteSize);
        }
        long pageSize = Mseal.pageSize();
        long guard = options.contains(MappingOption.GUARD_PAGES) ? pageSize : 0;
        long slack = alignment > pageSize ? alignment - pageSize : 0;
        if (byteSize > Long.MAX_VALUE - pageSize - 2 * guard - slack) {
            throw new IllegalArgumentException("byteSize is too large to round up to whole pages: " + byteSize);
        }
        long size = roundUp(byteSize, pageSize);
        long total = size + 2 * guard;
        if (total + slack >= LARGEST_MAPPING) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "%d bytes%s%s are too large to map: a"
                + " mapping made without an address hint, as here, lies below 2^48 (256 TiB) on every 64-bit Linux",
                byteSize, guard > 0 ? " with guard pages" : "", slack > 0 ? " at an alignment of " + alignment : ""));
        }
        // A region is one mapping, or three with guard pages or an alignment.
        MapReserve.ensureRoom("mapping " + total + " bytes", 3, SEALED_REGIONS);
        int fd = immutable ? Memfd.create(size) : -1;
        boolean simple = guard == 0 && slack == 0;
        long base;
        if (simple && immutable) {
            base = LibC.mmap(0, size, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, fd, 0);
        } else {
            Protection first = simple ? protection : Protection.NONE;
            base = LibC.mmap(0, total + slack, Mman.prot(first), Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, -1, 0);
        }
        if (LibC.failed(base) || base == 0) {
            if (fd >= 0) {
                Memfd.close(fd);
            }
            String flags = simple && immutable ? "PROT_READ|PROT_WRITE, MAP_SHARED, memfd"
                : Mman.protName(simple ? protection : Protection.NONE) + ", MAP_PRIVATE|MAP_ANONYMOUS";
            if (base == 0) {
                // Without MAP_FIXED the kernel never places a mapping at address 0.
                throw new IllegalStateException("mmap(0x0, " + (total + slack) + ", " + flags + ") returned 0x0:"
                    + " nothing was mapped (a seccomp filter answering mmap with success would do this)");
            }
            throw new SystemCallException("mmap", 0, total + slack, flags, (int) -base);
        }
        if (slack > 0) {
            // Keep the aligned part of the span; give back what lies before and after it.
            long aligned = ((base + guard + alignment - 1) & -alignment) - guard;
            unmapQuietly(base, aligned - base);
            unmapQuietly(aligned + total, base + slack - aligned);
            base = aligned;
        }
        long address = base + guard;
        try {
            if (!simple && immutable) {
                long mapped = LibC.mmap(address, size, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED | Mman.MAP_FIXED,
                    fd, 0);
                checkMappedAt(mapped, address, size, "PROT_READ|PROT_WRITE, MAP_SHARED|MAP_FIXED, memfd", "");
            } else if (!simple && protection != Protection.NONE) {
                check(LibC.mprotect(address, size, Mman.prot(protection)), "mprotect", address, size,
                    Mman.protName(protection));
                verifyProtected(address, size, address, pageSize, Protection.NONE, protection);
            }
            if (immutable && !options.contains(MappingOption.NO_FORK)) {
                // No fork()ed child may hold a writable mapping of the file: it could write the data, and
                // it would make sealing the file fail with EBUSY. Asked-for NO_FORK covers the guards too.
                check(LibC.madvise(address, size, Mman.MADV_DONTFORK), "madvise", address, size, "MADV_DONTFORK");
            }
            applyOptions(base, total, address, size, options);
        } catch (RuntimeException e) {
            LibC.munmap(base, total); // never hand out a region with an option silently missing
            if (fd >= 0) {
                Memfd.close(fd);
            }
            throw e;
        }
        MapReserve.mapped();
        return new MappedRegion(address, size, pageSize, protection, guard, Set.copyOf(options), fd);
    }

    /** Applies the advice (guards included, so it never meets a seal), then locks the data. */
    private static void applyOptions(long base, long total, long address, long size, Set<MappingOption> options) {
        if (options.contains(MappingOption.NO_FORK)) {
            check(LibC.madvise(base, total, Mman.MADV_DONTFORK), "madvise", base, total, "MADV_DONTFORK");
        }
        if (options.contains(MappingOption.NO_DUMP)) {
            check(LibC.madvise(base, total, Mman.MADV_DONTDUMP), "madvise", base, total, "MADV_DONTDUMP");
        }
        if (options.contains(MappingOption.LOCKED)) {
            check(LibC.mlock(address, size), "mlock", address, size, "");
        }
    }

    private static void unmapQuietly(long start, long length) {
        if (length > 0) {
            // Address space the library reserved a moment ago and nobody else knows about; a failure would
            // only leave a PROT_NONE reservation, never touch anything else.
            LibC.munmap(start, length);
        }
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
     * The segment is invalidated by {@link #close()} and by a {@link #protect} or {@link #sealReadOnly()} call
     * that takes access away.
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
            Protection least = pages.leastAccess(firstPage, endPage);
            if (least == Protection.NONE) {
                throw new IllegalStateException(String.format(Locale.ROOT,
                    "bytes [%d, %d) include PROT_NONE pages; any access to them would crash the JVM, so no segment"
                        + " is handed out for them: %s", offset, offset + byteSize, describe(firstPage, endPage)));
            }
            if (view == null) {
                generation = Arena.ofShared();
                view = LibC.view(address, this.byteSize, generation);
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
            if (freeze == Freeze.FILE_SEALED || freeze == Freeze.MAPPED_READ_ONLY) {
                throw new IllegalStateException("an earlier sealReadOnly() of this IMMUTABLE region stopped after"
                    + " sealing its file; only sealReadOnly() can go on from there");
            }
            if (pages.any(from, to, SEALED)) {
                throw new IllegalStateException(String.format(Locale.ROOT,
                    "cannot change the protection of bytes [%d, %d) to %s: %s: %s", offset, offset + byteSize,
                    protection, Mseal.support().available()
                        ? "the range has sealed pages, whose protection can never change (the kernel would answer EPERM)"
                        : "the range has pages that were to be sealed; with no mseal here (best-effort) they are not,"
                            + " but their protection never changes all the same",
                    describe(from, to)));
            }
            MapReserve.ensureRoom("mprotect", 2, SEALED_REGIONS); // a split at each end
            if (pages.any(from, to, page -> page.protection().compareTo(protection) > 0)) {
                revokeSegments();
            }
            mprotect(from, to, protection);
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
     * @throws SystemCallException if {@code mseal} fails
     * @see #seal(long, long)
     */
    public void seal() {
        // The common case, kept short: a cold caller runs this interpreted, and every call here costs it.
        checkNotImmutable();
        boolean byKernel = Sealing.byKernel();
        if (wholeSealed) {
            ensureOpen();
            if (!byKernel || LibC.mseal(address, byteSize) == 0) {
                return;
            }
        }
        synchronized (lock) {
            ensureOpen();
            MapReserve.ensureRoom("mseal", 2, SEALED_REGIONS); // a region merged with a neighbour splits off
            mseal(0, pages.pages(), byKernel, null);
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
     * @throws SystemCallException if {@code mseal} fails; with ENOMEM the range may be partly sealed
     */
    public void seal(long offset, long byteSize) {
        checkPageRange(offset, byteSize);
        checkNotImmutable();
        boolean byKernel = Sealing.byKernel();
        long from = offset >>> pageShift;
        long to = from + (byteSize >>> pageShift);
        if (wholeSealed || sealedAlready(from, to)) {
            // Nothing to track or to race with: ask the kernel again, without the lock.
            ensureOpen();
            if (!byKernel || LibC.mseal(address + offset, byteSize) == 0) {
                return;
            }
        }
        synchronized (lock) {
            ensureOpen();
            MapReserve.ensureRoom("mseal", 2, SEALED_REGIONS);
            mseal(from, to, byKernel, null);
        }
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
     * @return a read-only segment over the whole region that is never invalidated
     * @throws IllegalStateException if the region is closed, has pages already sealed with another protection
     *     (they can never become read-only), or a segment of it is in use by a native call right now
     * @throws IllegalArgumentException if the {@linkplain SealPolicy policy} property names no policy
     * @throws UnsupportedOperationException if mseal is not available here ({@link Mseal#support()} says why)
     *     and the {@linkplain SealPolicy policy} is strict
     * @throws IllegalStateException if it would need mappings the library keeps for the JVM under
     *     {@code vm.max_map_count} ({@code -Dio.github.mseal4j.mappingReserve}); nothing is changed
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
            if (freeze != null) {
                freeze(populate);
            } else {
                sealAnonymousReadOnly(byKernel);
            }
            sealedReadOnlyView = LibC.foreverView(address, byteSize).asReadOnly();
            return sealedReadOnlyView;
        }
    }

    private void sealAnonymousReadOnly(boolean byKernel) {
        long all = pages.pages();
        if (pages.any(0, all, page -> page.sealed() && page.protection() != Protection.READ)) {
            throw new IllegalStateException("cannot seal the region read-only: some pages are already sealed"
                + " with another protection, which can never change: " + describe(0, all));
        }
        if (byKernel) {
            checkMsealStillWorks();
        }
        List<Run> before = pages.runs();
        if (pages.any(0, all, page -> page.protection() == Protection.READ_WRITE)) {
            revokeSegments();
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

    /** Puts back the protection of every page that is not sealed; a failure is added to {@code cause}. */
    private void restoreProtections(List<Run> before, RuntimeException cause) {
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
     * Freezes an immutable region, from wherever an earlier attempt stopped. Until the file is sealed,
     * a failure puts the writable mapping back; after, the steps only go forward. The read-only map goes through a
     * descriptor opened read-only where {@code /proc} gives one (see {@link SupportProbe#openReadOnly}); that
     * descriptor is opened first, so a shortage of descriptors changes nothing.
     */
    private void freeze(boolean populate) {
        long all = pages.pages();
        if (freeze == Freeze.WRITABLE) {
            checkMsealStillWorks();
        }
        int readOnly = SupportProbe.openReadOnly(fd);
        if (readOnly == -Errno.EMFILE || readOnly == -Errno.ENFILE || readOnly == -Errno.ENOMEM) {
            throw new SystemCallException("open", 0, 0, "\"/proc/self/fd/" + fd + "\", O_RDONLY|O_CLOEXEC|O_NOCTTY",
                -readOnly).withNote(freeze == Freeze.WRITABLE ? "nothing was changed: sealReadOnly() can be retried"
                    + " once a descriptor is free" : "sealReadOnly() can be retried once a descriptor is free");
        }
        try {
            if (freeze == Freeze.WRITABLE) {
                sealFile();
            }
            try {
                if (freeze == Freeze.FILE_SEALED) {
                    revokeSegments(); // of the readable copy an earlier attempt may have left: it is replaced now
                    try {
                        mapFile(Mman.PROT_READ, populate, readOnly);
                    } catch (RuntimeException e) {
                        throw readableCopyAfter(e);
                    }
                    pages.setAll(Page.of(Protection.READ, false));
                    freeze = Freeze.MAPPED_READ_ONLY;
                }
                mseal(0, all, true, Protection.READ);
            } catch (SystemCallException e) {
                if (freeze == Freeze.FILE_SEALED) {
                    throw e; // readableCopyAfter said what is left and what a retry can do
                }
                throw e.withNote("the memfd is already sealed against writing, so the region can only go forward:"
                    + " sealReadOnly() again continues from here (the data is safe in the file)");
            }
        } finally {
            if (readOnly >= 0) {
                Memfd.close(readOnly);
            }
        }
        Memfd.close(fd);
        fd = -1;
        freeze = Freeze.FROZEN;
    }

    /**
     * The steps that can be undone: the writable mapping is replaced by a placeholder, then the file sealed
     * against writing. Should the seal fail, the file is still writable and is mapped back as it was.
     */
    private void sealFile() {
        List<Run> before = pages.runs();
        revokeSegments();
        long placeholder = LibC.mmap(address, byteSize, Mman.PROT_NONE,
            Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED | Mman.MAP_NORESERVE, -1, 0);
        try {
            checkMappedAt(placeholder, address, byteSize, "PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED|"
                + "MAP_NORESERVE", "");
        } catch (RuntimeException e) {
            resynchronize();
            throw e;
        }
        try {
            Memfd.sealContents(fd);
        } catch (RuntimeException e) {
            // The file is still writable: map it back as it was. Nothing is lost; it holds the data.
            try {
                mapFile(Mman.PROT_READ | Mman.PROT_WRITE, false, fd);
                pages.setAll(Page.of(Protection.READ_WRITE, false));
                restoreProtections(before, e);
            } catch (RuntimeException again) {
                e.addSuppressed(again);
                pages.setAll(Page.of(Protection.NONE, false));
            }
            throw e;
        }
        pages.setAll(Page.of(Protection.NONE, false));
        freeze = Freeze.FILE_SEALED;
    }

    /**
     * After the sealed file could not be mapped read-only and shared ({@code failure}), keeps the data readable:
     * a private read-only mapping of the file at the same address, over the placeholder (or, where the kernel
     * unmapped the placeholder before refusing, as kernels before 6.7 do, into the hole it left, never over
     * anything else), unless an earlier attempt left that copy already. Returns {@code failure} to throw, with a
     * note saying what is left. Where the range holds none of these, the pages are taken as not the region's own any more: never handed out or unmapped.
     */
    private RuntimeException readableCopyAfter(RuntimeException failure) {
        String kept;
        try {
            List<Smaps.Vma> vmas = Smaps.read(address, address + byteSize);
            boolean copied = Smaps.coveredBy(vmas, address, address + byteSize, vma -> vma.isPrivate()
                && vma.protection() == Protection.READ && vma.path().equals(Smaps.MEMFD_PATH));
            boolean placeholder = Smaps.coveredBy(vmas, address, address + byteSize,
                vma -> vma.isPrivate() && vma.protection() == Protection.NONE && vma.path().isEmpty());
            boolean hole = vmas.isEmpty();
            long copy = copied ? address : placeholder || hole ? LibC.mmap(address, byteSize, Mman.PROT_READ, Mman.MAP_PRIVATE
                | (placeholder ? Mman.MAP_FIXED : Mman.MAP_FIXED_NOREPLACE), fd, 0) : -Errno.EEXIST;
            if (copy == address) {
                pages.setAll(Page.of(Protection.READ, false));
                kept = "the data stays readable at the same address, through a private read-only mapping of the"
                    + " sealed file, which is neither immutable nor sealed (close() unmaps it)";
            } else {
                if (!LibC.failed(copy)) {
                    LibC.munmap(copy, byteSize); // a kernel that took MAP_FIXED_NOREPLACE as a hint
                }
                pages.setAll(Page.of(Protection.NONE, true));
                kept = "the data is in the sealed file but no longer mapped here, and the region's address range may"
                    + " hold another mapping now, so the region never hands it out or unmaps it";
            }
        } catch (RuntimeException e) {
            failure.addSuppressed(e);
            pages.setAll(Page.of(Protection.NONE, true));
            kept = "what the range holds now cannot be read (/proc/self/smaps), so the region never hands it out or"
                + " unmaps it";
        }
        sealedPages = 0;
        noteSealed(pages.count(0, pages.pages(), SEALED));
        String note = kept + "; sealReadOnly() again tries the read-only map again, which succeeds only once its"
            + " cause is gone (Mseal.immutability() says whether this kernel maps a write-sealed file read-only)";
        return failure instanceof SystemCallException e ? e.withNote(note)
            : new IllegalStateException(failure.getMessage() + "; " + note, failure);
    }

    /**
     * Maps the memfd over the data at the same address, with the region's options, as {@code prot} says, through
     * descriptor {@code through} (the memfd's own, or, for the read-only map, one opened read-only when there is).
     */
    private void mapFile(int prot, boolean populate, int through) {
        int descriptor = through >= 0 ? through : fd;
        int flags = Mman.MAP_SHARED | Mman.MAP_FIXED | (populate ? Mman.MAP_POPULATE : 0);
        long mapped = LibC.mmap(address, byteSize, prot, flags, descriptor, 0);
        checkMappedAt(mapped, address, byteSize, prot == Mman.PROT_READ
            ? SupportProbe.readOnlyMapArguments(through >= 0 && through != fd ? through : -1)
            : "PROT_READ|PROT_WRITE, MAP_SHARED|MAP_FIXED, memfd " + fd, "");
        // A new mapping carries none of the old one's advice or lock.
        if ((prot & Mman.PROT_WRITE) != 0 || options.contains(MappingOption.NO_FORK)) {
            check(LibC.madvise(address, byteSize, Mman.MADV_DONTFORK), "madvise", address, byteSize, "MADV_DONTFORK");
        }
        if (options.contains(MappingOption.NO_DUMP)) {
            check(LibC.madvise(address, byteSize, Mman.MADV_DONTDUMP), "madvise", address, byteSize, "MADV_DONTDUMP");
        }
        if (options.contains(MappingOption.LOCKED)) {
            check(LibC.mlock(address, byteSize), "mlock", address, byteSize, "");
        }
    }

    /**
     * Checks what an {@code mmap} with {@code MAP_FIXED} at {@code address} returned: the kernel answers with
     * {@code address} or an error. Anything else (a seccomp filter answering with success, 0, without running
     * the call) means nothing was mapped there, and nothing must be handed out over it.
     */
    private static void checkMappedAt(long mapped, long address, long length, String arguments, String remedy) {
        if (LibC.failed(mapped)) {
            throw new SystemCallException("mmap", address, length, arguments + remedy, (int) -mapped);
        }
        if (mapped != address) {
            throw new IllegalStateException(String.format(Locale.ROOT, "mmap(%s, %d, %s) returned %s instead of the"
                + " fixed address it was given: nothing was mapped there (a seccomp filter answering mmap with success"
                + " would do this)%s", Errno.hex(address), length, arguments, Errno.hex(mapped), remedy));
        }
    }

    /**
     * A segment over the whole region in the global scope, for {@link SealedMap}'s build only, which writes
     * through it before {@link #sealReadOnly()} and drops it then (or before {@link #close()} on failure).
     * Never handed out: nothing else could know when it stops being valid.
     */
    MemorySegment unscopedView() {
        return LibC.foreverView(address, byteSize);
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
            return !closed && !pages.any(from, to, page -> page.sealed() || page.protection() != Protection.READ_WRITE);
        }
    }

    /** True once anything permanent has happened: a page is sealed, or an immutable region's file. */
    boolean sealedOrFreezing() {
        synchronized (lock) {
            return (freeze != null && freeze != Freeze.WRITABLE) || pages.any(0, pages.pages(), SEALED);
        }
    }

    /**
     * A seccomp filter or security module installed after the probe can refuse mseal. Multi-step operations
     * ask with {@code mseal(0, 0, 0)} (which seals nothing) before they change anything.
     */
    static void checkMsealStillWorks() {
        int errno = LibC.mseal(0, 0);
        if (errno != 0) {
            throw new SystemCallException("mseal", 0, 0, "0 (asked before changing anything; nothing was changed)",
                errno);
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
            if (closed && pages.any(0, pages.pages(), UNSEALED)) {
                return false;
            }
        }
        return Smaps.coveredAndSealed(Smaps.read(address, address + byteSize), address, address + byteSize);
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
            if (freeze != Freeze.FROZEN) {
                return false; // only the library's own frozen memfd counts, whatever else smaps shows
            }
        }
        return Smaps.coveredAndImmutable(Smaps.read(address, address + byteSize), address, address + byteSize);
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
            if (pages.any(from, pages.pages(), SEALED)) {
                throw new IllegalStateException("cannot unmap sealed pages: " + describe(from, pages.pages()));
            }
            revokeSegments();
            // The tail ends where the region ends, so unmapping it needs no split unless the kernel merged the
            // region with the mapping above; should it refuse one at vm.max_map_count, nothing has changed
            // (munmap is all-or-nothing).
            check(LibC.munmap(address + newByteSize, oldByteSize - newByteSize), "munmap", address + newByteSize,
                oldByteSize - newByteSize, "");
            pages.truncate(from);
            byteSize = newByteSize;
            noteSealed(0); // only unsealed pages went: what is left may now be sealed whole
            if (fd >= 0) {
                int errno = LibC.ftruncate(fd, newByteSize);
                if (errno != 0) {
                    // The region is consistent without it: the file's tail is no longer mapped, and it was
                    // never written (an arena's unused reservation), so it holds no memory. Only say so.
                    LOG.log(System.Logger.Level.WARNING, () -> "mseal4j: "
                        + new SystemCallException("ftruncate", 0, newByteSize, "memfd " + fd + ", " + newByteSize,
                            errno).getMessage() + "; the file keeps its unmapped, unwritten tail");
                }
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
            Unmapped result = unmap(unsealedRanges(guardsSealed, guardsSealed));
            if (result.refusedAsSealed()) {
                // munmap changes nothing when it fails, and EPERM means part of the range is sealed: by someone
                // else than this region (it knows its own seals). Ask the kernel which pages, then unmap the
                // rest of the ranges that failed, and only those (the others are gone, and their addresses may
                // belong to someone else by now). If the kernel cannot be asked, change nothing more.
                List<Smaps.Vma> vmas;
                try {
                    vmas = Smaps.read(address - guardBytes, address + byteSize + guardBytes);
                } catch (RuntimeException e) {
                    result.failure().addSuppressed(e);
                    SystemCallException failure = result.failure().withNote("some of these pages were sealed outside"
                        + " this region, and /proc/self/smaps could not be read to learn which: "
                        + (result.anyUnmapped() ? "the region is closed, and the ranges named stay mapped"
                            : "nothing was unmapped and the region stays open; retry close() when smaps can be read"));
                    if (result.anyUnmapped()) {
                        closed = true;
                        closeFile();
                    }
                    throw failure;
                }
                resynchronize(vmas);
                boolean below = guardsSealed
                    || guardBytes > 0 && Smaps.coveredAndSealed(vmas, address - guardBytes, address);
                boolean above = guardsSealed || guardBytes > 0
                    && Smaps.coveredAndSealed(vmas, address + byteSize, address + byteSize + guardBytes);
                List<long[]> again = new ArrayList<>();
                for (long[] range : unsealedRanges(below, above)) {
                    for (long[] failed : result.failed()) {
                        if (failed[0] <= range[0] && range[0] + range[1] <= failed[0] + failed[1]) {
                            again.add(range);
                        }
                    }
                }
                Unmapped retry = unmap(again);
                result = new Unmapped(result.anyUnmapped() || retry.anyUnmapped(), retry.failed(), retry.failure(),
                    retry.refusedAsSealed());
            }
            if (result.failure() != null && !result.anyUnmapped()) {
                throw result.failure(); // nothing changed: still open, retry later
            }
            closed = true;
            closeFile();
            if (result.failure() == null && !pages.any(0, pages.pages(), SEALED)) {
                MapReserve.unmapped();
            }
            if (result.failure() != null) {
                throw result.failure(); // closed; the ranges named stay mapped
            }
        }
    }

    /** Closes an immutable region's file descriptor, if it still has one. */
    private void closeFile() {
        if (fd >= 0) {
            Memfd.close(fd);
            fd = -1;
        }
    }

    /**
     * The ranges of unsealed pages, each guard page unless it is sealed, adjacent ones merged: what
     * {@link #close()} unmaps, one call per range.
     */
    private List<long[]> unsealedRanges(boolean guardBelowSealed, boolean guardAboveSealed) {
        List<long[]> ranges = new ArrayList<>();
        for (Run run : pages.runs()) {
            if (!run.page().sealed()) {
                addRange(ranges, address + run.from() * pageSize, (run.to() - run.from()) * pageSize);
            }
        }
        if (guardBytes > 0 && !guardBelowSealed) {
            addRange(ranges, address - guardBytes, guardBytes);
        }
        if (guardBytes > 0 && !guardAboveSealed) {
            addRange(ranges, address + byteSize, guardBytes);
        }
        return ranges;
    }

    /**
     * What {@link #unmap} did: whether any range went, the ranges that did not, why (the first failure, the
     * others suppressed by it), and whether any was refused with EPERM (sealed).
     */
    private record Unmapped(boolean anyUnmapped, List<long[]> failed, SystemCallException failure,
                            boolean refusedAsSealed) {
    }

    /** Unmaps each range with its own call; a failure is collected (later ones suppressed by the first). */
    private static Unmapped unmap(List<long[]> ranges) {
        boolean anyUnmapped = false;
        List<long[]> failed = new ArrayList<>();
        SystemCallException failure = null;
        boolean sealed = false;
        for (long[] range : ranges) {
            int errno = LibC.munmap(range[0], range[1]);
            if (errno == 0) {
                anyUnmapped = true;
                continue;
            }
            failed.add(range);
            sealed |= errno == Errno.EPERM;
            SystemCallException e = new SystemCallException("munmap", range[0], range[1], "", errno);
            if (failure == null) {
                failure = e;
            } else {
                failure.addSuppressed(e);
            }
        }
        return new Unmapped(anyUnmapped, failed, failure, sealed);
    }

    /** Adds {@code [start, start + length)} to sorted {@code ranges}, merging it with a range it touches. */
    private static void addRange(List<long[]> ranges, long start, long length) {
        for (long[] range : ranges) {
            if (range[0] + range[1] == start) {
                range[1] += length;
                mergeFollowing(ranges);
                return;
            }
            if (start + length == range[0]) {
                range[0] = start;
                range[1] += length;
                return;
            }
        }
        ranges.add(new long[] {start, length});
        ranges.sort((a, b) -> Long.compareUnsigned(a[0], b[0]));
        mergeFollowing(ranges);
    }

    private static void mergeFollowing(List<long[]> ranges) {
        for (int i = 0; i + 1 < ranges.size(); ) {
            long[] here = ranges.get(i);
            long[] next = ranges.get(i + 1);
            if (here[0] + here[1] == next[0]) {
                here[1] += next[1];
                ranges.remove(i + 1);
            } else {
                i++;
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
            return String.format(Locale.ROOT, "MappedRegion[%s, %d bytes%s%s: %s]", Errno.hex(address), byteSize,
                options.isEmpty() ? "" : ", " + shown, closed ? ", closed" : "", describe(0, pages.pages()));
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
            // The mapping's kind too, for the remedy: a shared memfd mapping is not charged for being writable.
            throw new SystemCallException("mprotect", start, length, Mman.protName(protection)
                + (fd >= 0 ? " of a MAP_SHARED memfd mapping" : ""), errno);
        }
        try {
            // A call is faked whole: one page that had another protection tells whether this one took.
            for (Run run : pages.runs(from, to)) {
                if (run.page().protection() != protection) {
                    verifyProtected(start, length, address + run.from() * pageSize, pageSize,
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

    /**
     * Makes sure an {@code mprotect(start, length)} that returned 0 changed the protection of the page at
     * {@code probe} from {@code before} to {@code after}, asking the kernel to fault that page in for the one
     * access that tells
     * the two apart ({@code MADV_POPULATE_READ} or {@code MADV_POPULATE_WRITE}, which it refuses with EINVAL or
     * EFAULT where the protection forbids the access). A seccomp filter answering mprotect with success without
     * running it would otherwise make the library hand out a writable segment over memory that is not (the JVM
     * dies at the first write), or seal memory writable that it reports read-only. One system call. The probe
     * is chosen to change nothing where the mprotect was real, except from read-only to writable, where the
     * write probe faults the page in, as the first write would. Where the advices cannot answer just now (an
     * answer that says nothing, such as ENOMEM; no scratch page for their calibration at the mapping limit), or
     * do not answer as they should here at all (refused by a filter; a kernel before Linux 5.14), the check reads
     * {@code /proc/self/maps} instead.
     */
    private static void verifyProtected(long start, long length, long probe, long pageSize, Protection before,
                                        Protection after) {
        if (before == after) {
            return;
        }
        // Between readable protections only write access differs; to or from PROT_NONE, read access does.
        boolean write = before != Protection.NONE && after != Protection.NONE;
        boolean allowed = write ? after == Protection.READ_WRITE : after != Protection.NONE;
        int answer = Populate.known() != Populate.YES ? -1
            : LibC.madvise(probe, pageSize, write ? Mman.MADV_POPULATE_WRITE : Mman.MADV_POPULATE_READ);
        // Advices that do not answer as they should here (refused, or a kernel before 5.14), no calibration just
        // now (no scratch mapping at the limit), or an answer that tells nothing (ENOMEM under memory pressure,
        // EINTR): ask /proc/self/maps instead.
        boolean wrong = answer == 0 || refused(answer) ? (answer == 0) != allowed
            : protectionInKernel(start, length, probe, after) != after;
        if (wrong) {
            throw new IllegalStateException(String.format(Locale.ROOT, "mprotect(%s, %d, %s) returned 0, but the"
                + " kernel then treated the page at %s as %s: the protection did not change (a seccomp filter"
                + " answering mprotect with success would do this)", Errno.hex(start), length, Mman.protName(after),
                Errno.hex(probe), before));
        }
    }

    /**
     * The protection {@code /proc/self/maps} shows for the page at {@code probe} (null where nothing is mapped):
     * the slower check, for when the populate advices cannot answer (maps, not smaps: the same permissions
     * without a walk of every page table, read only up to that page's mapping). Where it cannot be read either,
     * the mprotect of {@code [start, start + length)} to {@code after} cannot be checked, and is not relied on:
     * an {@link IllegalStateException}, as for a change that did not happen.
     */
    private static Protection protectionInKernel(long start, long length, long probe, Protection after) {
        try {
            return Smaps.protectionAt(probe).orElse(null);
        } catch (RuntimeException e) {
            throw new IllegalStateException(String.format(Locale.ROOT, "mprotect(%s, %d, %s) returned 0, but whether"
                + " the protection changed cannot be checked here: the populate advices do not answer, and"
                + " /proc/self/maps cannot be read (%s); the change is not relied on", Errno.hex(start), length,
                Mman.protName(after), e.getMessage()), e);
        }
    }

    /** The kernel's answer to a populate advice on a page whose protection does not allow that access. */
    private static boolean refused(int errno) {
        return errno == Errno.EINVAL || errno == Errno.EFAULT;
    }

    /**
     * Whether the populate advices answer here as {@link #verifyProtected} reads them, tried on scratch pages
     * mapped with each protection (no mprotect, whose answers are what is being checked): both succeed on a
     * writable page, the write advice is refused on a read-only one, the read advice on an inaccessible one.
     * A kernel without them (before 5.14), or a sandbox that implements them differently, has its checks read
     * {@code /proc/self/maps} instead, rather than raise false alarms. A scratch mapping that cannot be made (at
     * {@code vm.max_map_count}, say) decides nothing: that check reads maps, and the advices are tried again
     * next time.
     */
    private static final class Populate {
        static final int UNKNOWN = 0;
        static final int YES = 1;
        static final int NO = 2;
        private static volatile int answer = UNKNOWN;

        /** {@link #YES}, {@link #NO}, or {@link #UNKNOWN} when no scratch page could be mapped just now. */
        static int known() {
            int known = answer;
            if (known == UNKNOWN) {
                known = calibrate();
                if (known != UNKNOWN) {
                    answer = known;
                }
            }
            return known;
        }

        private static int calibrate() {
            try {
                long page = LibC.pageSize();
                long[] scratch = new long[3];
                int[] protections = {Mman.PROT_READ | Mman.PROT_WRITE, Mman.PROT_READ, Mman.PROT_NONE};
                try {
                    for (int i = 0; i < 3; i++) {
                        long at = LibC.mmap(0, page, protections[i], Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, -1, 0);
                        if (LibC.failed(at) || at == 0) {
                            return UNKNOWN;
                        }
                        scratch[i] = at;
                    }
                    boolean expected = LibC.madvise(scratch[0], page, Mman.MADV_POPULATE_READ) == 0
                        && LibC.madvise(scratch[0], page, Mman.MADV_POPULATE_WRITE) == 0
                        && LibC.madvise(scratch[1], page, Mman.MADV_POPULATE_READ) == 0
                        && refused(LibC.madvise(scratch[1], page, Mman.MADV_POPULATE_WRITE))
                        && refused(LibC.madvise(scratch[2], page, Mman.MADV_POPULATE_READ));
                    if (!expected) {
                        LOG.log(System.Logger.Level.DEBUG, "mseal4j: the populate advices do not answer as"
                            + " expected here; what mprotect reports is checked in /proc/self/maps instead");
                    }
                    return expected ? YES : NO;
                } finally {
                    for (long at : scratch) {
                        if (at != 0) {
                            LibC.munmap(at, page);
                        }
                    }
                }
            } catch (RuntimeException e) {
                return NO;
            }
        }
    }

    /**
     * Seals pages {@code [from, to)}, and the guard pages the first time (in the same call when the whole
     * region is sealed). Without {@code byKernel} (the best-effort policy on a host without mseal) nothing is
     * sealed, but the pages are treated as sealed from then on: never re-protected, never unmapped. With
     * {@code verifyAs}, the protection every page of the range has, the multi-step operations make sure the
     * seal took: see {@link #verifySealed}.
     */
    private void mseal(long from, long to, boolean byKernel, Protection verifyAs) {
        long start = address + from * pageSize;
        long length = (to - from) * pageSize;
        long all = pages.pages();
        boolean withGuards = guardBytes > 0 && !guardsSealed && from == 0 && to == all;
        if (byKernel) {
            // Pages sealed already answer the check's mprotect with EPERM whatever this call does: check the
            // others, run by run (one run, the whole range, in the common case).
            List<Run> unsealedBefore = verifyAs == null ? List.of()
                : pages.runs(from, to).stream().filter(run -> !run.page().sealed()).toList();
            int errno = withGuards ? LibC.mseal(address - guardBytes, length + 2 * guardBytes)
                : LibC.mseal(start, length);
            if (errno != 0) {
                // A failed split can leave the range partly sealed: ask the kernel what it did.
                resynchronize();
                throw new SystemCallException("mseal", withGuards ? address - guardBytes : start,
                    withGuards ? length + 2 * guardBytes : length, "0", errno);
            }
            for (Run run : unsealedBefore) {
                verifySealed(withGuards ? address - guardBytes : start, withGuards ? length + 2 * guardBytes : length,
                    address + run.from() * pageSize, (run.to() - run.from()) * pageSize, verifyAs);
            }
            faultInReadOnly(from, to);
        }
        guardsSealed |= withGuards || guardBytes == 0;
        // One call whatever the shape: for the common case (all pages alike, sealed whole) it sets one field.
        long newlySealed = pages.seal(from, to);
        if (newlySealed > 0) {
            noteSealed(newlySealed);
            Events.sealed(start, length, byKernel);
            if (byKernel) {
                SealCounters.sealed(newlySealed * pageSize, !counted);
                counted = true;
            }
        }
        if (!guardsSealed) {
            guardsSealed = true; // only after the data: a failure here leaves the data's seal recorded
            if (byKernel) {
                check(LibC.mseal(address - guardBytes, guardBytes), "mseal", address - guardBytes, guardBytes, "0");
                check(LibC.mseal(address + byteSize, guardBytes), "mseal", address + byteSize, guardBytes, "0");
            }
        }
    }

    /**
     * Faults in every read-only page of {@code [from, to)}, now sealed: userfaultfd, which mseal does not check,
     * can place any bytes into a page of private memory that was never faulted in ({@code UFFDIO_COPY}) or
     * poison it ({@code UFFDIO_POISON}), but not into one that is present (EEXIST). {@code MADV_POPULATE_READ}
     * maps the shared zero page where nothing was written (no memory, only page tables), in one call; and once
     * the pages are sealed read-only, nothing can discard them again (mseal refuses the discarding advices), so
     * they stay present. Where the advice is refused, each page is read instead. Writable pages need none of this:
     * the process can write them anyway. Memory of a memfd is never private (and immutable memory refuses
     * userfaultfd altogether).
     */
    private void faultInReadOnly(long from, long to) {
        if (fd >= 0 || freeze != null) {
            return;
        }
        if (pages.uniform()) {
            if (pages.pageAt(from).protection() == Protection.READ) {
                faultIn(address + from * pageSize, (to - from) * pageSize, pageSize);
            }
            return;
        }
        for (Run run : pages.runs(from, to)) {
            if (run.page().protection() == Protection.READ) {
                faultIn(address + run.from() * pageSize, (run.to() - run.from()) * pageSize, pageSize);
            }
        }
    }

    /** {@code MADV_POPULATE_READ}, or, where it is refused, a read of each page. */
    static void faultIn(long start, long length, long pageSize) {
        if (LibC.madvise(start, length, Mman.MADV_POPULATE_READ) == 0) {
            return;
        }
        MemorySegment pages = LibC.foreverView(start, length); // readable, and sealed: it stays mapped
        byte seen = 0;
        for (long at = 0; at < length; at += pageSize) {
            seen |= pages.get(ValueLayout.JAVA_BYTE, at);
        }
        touched = seen; // a load whose value is never used could be left out by the compiler
    }

    /** Where {@link #faultIn} leaves what it read. */
    @SuppressWarnings("unused")
    private static volatile byte touched;

    /**
     * Makes sure mseal did what it reported: an {@code mprotect} to the protection the pages already have
     * changes nothing, and must be refused with EPERM on sealed memory. A seccomp filter that answers mseal
     * with 0 without running it would otherwise make the library report sealed what is not. (One system call;
     * the plain {@code seal()} leaves this to {@link #isSealed()}.)
     */
    private static void verifySealed(long callStart, long callLength, long start, long length,
                                     Protection protection) {
        int errno = LibC.mprotect(start, length, Mman.prot(protection));
        if (errno != Errno.EPERM) {
            throw new IllegalStateException(String.format(Locale.ROOT, "mseal(%s, %d, 0) returned 0, but the kernel"
                + " then answered a no-op mprotect(%s, %d) with %s instead of EPERM: the range is not sealed (a"
                + " seccomp filter answering mseal with success would do this); nothing is reported sealed",
                Errno.hex(callStart), callLength, Errno.hex(start), length,
                errno == 0 ? "success" : Errno.name(errno)));
        }
    }

    /** True when pages {@code [from, to)} are known to be sealed; asked without the lock (see {@link PageMap#allSealed}). */
    private boolean sealedAlready(long from, long to) {
        return pages.allSealed(from, to);
    }

    /** Counts pages newly sealed; once every page is, re-sealing needs no look-up. */
    private void noteSealed(long newlySealed) {
        sealedPages += newlySealed;
        if (sealedPages == pages.pages()) {
            wholeSealed = true;
        }
    }

    /**
     * Replaces what the library believes about its pages with what the kernel reports. Where the kernel
     * cannot be asked, assumes the worst: no access, sealed (so nothing is handed out or unmapped).
     */
    private void resynchronize() {
        try {
            resynchronize(Smaps.read(address, address + byteSize));
        } catch (RuntimeException e) {
            pages.setAll(Page.of(Protection.NONE, true));
            sealedPages = 0;
            noteSealed(pages.count(0, pages.pages(), SEALED));
        }
    }

    /** {@link #resynchronize()} from what smaps said about the region. */
    private void resynchronize(List<Smaps.Vma> vmas) {
        long end = address + byteSize;
        // Holes are inaccessible; a seal, once known, is never forgotten (best-effort ones included).
        pages.update(0, pages.pages(), page -> Page.of(Protection.NONE, page.sealed()));
        for (Smaps.Vma vma : vmas) {
            long from = (Math.max(vma.start(), address) - address) / pageSize;
            long to = (Math.min(vma.end(), end) - address) / pageSize;
            pages.update(from, to, page -> Page.of(vma.protection(), page.sealed() || vma.sealed()));
        }
        sealedPages = 0;
        noteSealed(pages.count(0, pages.pages(), SEALED));
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

    /**
     * Pages {@code [from, to)} as runs, for messages: {@code pages [0, 2) READ sealed, [2, 4) READ_WRITE}. Long
     * lists show the first and last few runs and how many lie between.
     */
    private String describe(long from, long to) {
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

    private static long roundUp(long value, long pageSize) {
        return (value + pageSize - 1) / pageSize * pageSize;
    }
}
