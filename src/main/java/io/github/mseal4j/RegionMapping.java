package io.github.mseal4j;

import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.MapReserve;
import io.github.mseal4j.internal.Mman;
import java.util.Locale;
import java.util.Set;

/**
 * How a {@link MappedRegion} comes to be: the {@code mmap} (or memfd and {@code mmap}), guard pages and alignment
 * carved out of one reservation, and the hardening options applied in the order the kernel requires (advice
 * before any seal). It either returns a region's mapping with every option in place or leaves nothing mapped.
 */
final class RegionMapping {
    /**
     * No mapping made without an address hint can be this large: 64-bit Linux places those below 2^47 (x86-64)
     * or 2^48 (arm64), also where the address space is larger (5-level paging, 52-bit addresses need a hint),
     * and never at page 0.
     */
    static final long LARGEST_MAPPING = 1L << 48;

    private RegionMapping() {
    }

    /**
     * A region's mapping: the data at {@code address}, {@code size} bytes of pages of {@code pageSize}, a guard
     * page of {@code guard} bytes (0 or a page) on each side, and its memfd (null: anonymous memory).
     */
    record Mapped(long address, long size, long pageSize, long guard, Memfd.File file) {
        /** The memfd's descriptor, or -1 for anonymous memory. */
        int fd() {
            return file == null ? -1 : file.fd();
        }
    }

    /**
     * Maps the region. Anonymous memory is one {@code mmap}; with guards or a large alignment, a
     * {@code PROT_NONE} span is reserved first and the data made accessible (anonymous) or mapped over it
     * (memfd) at the right place. Everything is unmapped and closed again if a later step fails.
     */
    static Mapped map(long byteSize, long alignment, Protection protection, Set<MappingOption> options,
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
        MapReserve.ensureRoom("mapping " + total + " bytes", 3, SealCounters::regions);
        Memfd.File file = immutable ? Memfd.create(size) : null;
        int fd = file == null ? -1 : file.fd();
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
                CheckedCalls.mappedAt(mapped, address, size, "PROT_READ|PROT_WRITE, MAP_SHARED|MAP_FIXED, memfd", "");
            } else if (!simple && protection != Protection.NONE) {
                CheckedCalls.check(LibC.mprotect(address, size, Mman.prot(protection)), "mprotect", address, size,
                    Mman.protName(protection));
                CheckedCalls.verifyProtected(address, size, address, pageSize, Protection.NONE, protection);
            }
            if (immutable && !options.contains(MappingOption.NO_FORK)) {
                // No fork()ed child may hold a writable mapping of the file: it could write the data, and
                // it would make sealing the file fail with EBUSY. Asked-for NO_FORK covers the guards too.
                CheckedCalls.check(LibC.madvise(address, size, Mman.MADV_DONTFORK), "madvise", address, size, "MADV_DONTFORK");
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
        return new Mapped(address, size, pageSize, guard, file);
    }

    /** Applies the advice (guards included, so it never meets a seal), then locks the data. */
    static void applyOptions(long base, long total, long address, long size, Set<MappingOption> options) {
        if (options.contains(MappingOption.NO_FORK)) {
            CheckedCalls.check(LibC.madvise(base, total, Mman.MADV_DONTFORK), "madvise", base, total, "MADV_DONTFORK");
        }
        if (options.contains(MappingOption.NO_DUMP)) {
            CheckedCalls.check(LibC.madvise(base, total, Mman.MADV_DONTDUMP), "madvise", base, total, "MADV_DONTDUMP");
        }
        if (options.contains(MappingOption.LOCKED)) {
            CheckedCalls.check(LibC.mlock(address, size), "mlock", address, size, "");
        }
    }

    private static void unmapQuietly(long start, long length) {
        if (length > 0) {
            // Address space the library reserved a moment ago and nobody else knows about; a failure would
            // only leave a PROT_NONE reservation, never touch anything else.
            LibC.munmap(start, length);
        }
    }

    private static long roundUp(long value, long pageSize) {
        return (value + pageSize - 1) / pageSize * pageSize;
    }
}
