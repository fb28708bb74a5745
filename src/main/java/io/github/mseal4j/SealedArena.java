package io.github.mseal4j;

import io.github.mseal4j.internal.Errno;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Packs many small allocations into a few mappings, then seals them all read-only at once: the way to seal
 * thousands of keys, configuration values or table entries without spending a page and a kernel mapping on
 * each (a process gets {@code vm.max_map_count}, 65530 by default, and sealed mappings are never freed).
 *
 * {@snippet :
 * try (SealedArena arena = SealedArena.create()) {
 *     MemorySegment key = arena.allocateFrom(ValueLayout.JAVA_BYTE, secretBytes);  // writable while building
 *     MemorySegment port = arena.allocateFrom(ValueLayout.JAVA_INT, 8443);
 *     arena.seal();                                   // read-only and sealed, all of it
 *     MemorySegment frozenKey = arena.sealedView(key); // the read-only view; `key` itself now throws
 * }
 * }
 *
 * <h2>Building</h2>
 * {@link #allocate(long, long)} hands out zeroed, writable memory of any size and alignment, packed with a
 * bump pointer into a reservation of address space that is made accessible a chunk at a time: no system
 * call on the fast path, safe from many threads. An allocation larger than the chunk size gets a region of
 * its own. As a {@link SegmentAllocator}, the arena also offers {@code allocateFrom(...)} and the rest.
 *
 * <h2>Sealing</h2>
 * {@link #seal()} makes every page in use read-only, unmaps the unused rest of each reservation, and seals
 * what remains: the memory can never again be written, unmapped or re-protected through its mapping.
 * Every segment handed out while building is <strong>invalidated</strong>: using it afterwards throws
 * {@link IllegalStateException} (it never crashes the JVM). {@link #sealedView(MemorySegment)} maps it to its
 * read-only view, which is valid for the life of the process. {@code allocate} after {@code seal()} throws
 * {@link IllegalStateException}.
 *
 * <h2>Lifetime and cost</h2>
 * Sealed memory is never freed: it stays mapped until the process exits, {@code close()} included. Each
 * reservation becomes one sealed mapping of its used bytes rounded up to a page, so 100,000 allocations of
 * 64 bytes become one mapping of 6.4 MB. {@link #close()} before {@code seal()} unmaps everything; after, it
 * only drops the arena's Java state.
 */
public final class SealedArena implements SegmentAllocator, AutoCloseable {
    /** The default chunk size: 1 MiB. */
    public static final long DEFAULT_CHUNK_SIZE = 1L << 20;
    /** Reservations are this many chunks of address space (without committing memory), at most 1 GiB. */
    private static final long CHUNKS_PER_RESERVATION = 256;
    private static final long MAX_RESERVATION = 1L << 30;
    /** {@link Chunk#next} once the arena is sealed or closed: no allocation can succeed any more. */
    private static final long FROZEN = -1;

    private final long chunkSize;
    private final long reservationSize;
    private final long pageSize;
    private final Object lock = new Object();

    // Guarded by lock, except where marked.
    private final List<Chunk> chunks = new ArrayList<>();
    private final List<Whole> wholes = new ArrayList<>();
    private volatile Chunk current;  // read without the lock by allocate
    private volatile boolean sealed;
    private boolean closed;

    /**
     * Part of a reservation in use: allocations bump {@code next} up to {@code committed}, the end of the
     * accessible pages; {@code view} covers them.
     */
    private static final class Chunk {
        final MappedRegion region;
        final long base;
        final AtomicLong next = new AtomicLong();
        volatile long committed;
        volatile MemorySegment view;
        MemorySegment sealedView;
        long sealedBytes;

        Chunk(MappedRegion region) {
            this.region = region;
            this.base = region.address();
        }

        boolean contains(long address, long byteSize) {
            return address >= base && address + byteSize <= base + sealedBytes;
        }
    }

    /** An allocation too large for a chunk, in a region of its own. */
    private static final class Whole {
        final MappedRegion region;
        final long offset;
        final long byteSize;
        MemorySegment sealedView;

        Whole(MappedRegion region, long offset, long byteSize) {
            this.region = region;
            this.offset = offset;
            this.byteSize = byteSize;
        }

        boolean contains(long address, long length) {
            long start = region.address() + offset;
            return address >= start && address + length <= start + byteSize;
        }
    }

    private SealedArena(long chunkSize) {
        this.pageSize = Mseal.pageSize();
        this.chunkSize = chunkSize;
        this.reservationSize = Math.max(chunkSize, Math.min(MAX_RESERVATION, chunkSize * CHUNKS_PER_RESERVATION));
    }

    /**
     * An arena with the {@linkplain #DEFAULT_CHUNK_SIZE default chunk size} of 1 MiB.
     *
     * @return a new, empty arena
     * @throws UnsupportedOperationException if native calls are impossible here
     */
    public static SealedArena create() {
        return create(DEFAULT_CHUNK_SIZE);
    }

    /**
     * An arena that makes memory accessible {@code chunkSize} bytes at a time, from reservations of 256 chunks
     * of address space (at most 1 GiB); allocations larger than a chunk get a region of their own.
     *
     * @param chunkSize a positive multiple of the page size
     * @return a new, empty arena
     * @throws IllegalArgumentException if {@code chunkSize} is not a positive multiple of the page size
     * @throws UnsupportedOperationException if native calls are impossible here
     */
    public static SealedArena create(long chunkSize) {
        long pageSize = Mseal.pageSize();
        if (chunkSize <= 0 || chunkSize % pageSize != 0) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                "chunkSize %d is not a positive multiple of the page size %d", chunkSize, pageSize));
        }
        return new SealedArena(chunkSize);
    }

    /**
     * Allocates zeroed, writable memory, valid until {@link #seal()} or {@link #close()}. Thread-safe; no
     * system call unless a new chunk is needed.
     *
     * @param byteSize the size; zero is allowed
     * @param byteAlignment a power of two
     * @return the memory, writable until {@code seal()}
     * @throws IllegalArgumentException if {@code byteSize} is negative or {@code byteAlignment} is not a
     *     positive power of two
     * @throws IllegalStateException if the arena is sealed or closed
     * @throws SystemCallException if the kernel refuses to map more memory
     */
    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        if (byteSize < 0) {
            throw new IllegalArgumentException("byteSize must not be negative: " + byteSize);
        }
        if (byteAlignment <= 0 || Long.bitCount(byteAlignment) != 1) {
            throw new IllegalArgumentException("byteAlignment must be a positive power of two: " + byteAlignment);
        }
        if (byteSize > chunkSize || byteAlignment > chunkSize) {
            return allocateWhole(byteSize, byteAlignment);
        }
        while (true) {
            Chunk chunk = current;
            if (chunk != null) {
                long next = chunk.next.get();
                if (next == FROZEN) {
                    throw frozen();
                }
                long start = alignUp(chunk.base + next, byteAlignment) - chunk.base;
                long end = start + byteSize;
                if (end <= chunk.committed && chunk.next.compareAndSet(next, end)) {
                    MemorySegment segment = chunk.view.asSlice(start, byteSize);
                    if (sealed) {
                        throw frozen(); // seal() ran meanwhile: the segment is already invalid
                    }
                    return segment;
                }
                if (end <= chunk.committed) {
                    continue; // lost a race with another allocation: try again
                }
            }
            grow(chunk, byteSize, byteAlignment);
        }
    }

    /** Makes room for an allocation that does not fit: commits more of the reservation, or starts a new one. */
    private void grow(Chunk seen, long byteSize, long byteAlignment) {
        synchronized (lock) {
            ensureBuilding();
            Chunk chunk = current;
            if (chunk != seen) {
                return; // another thread already grew the arena
            }
            if (chunk != null) {
                long next = chunk.next.get();
                long end = alignUp(chunk.base + next, byteAlignment) - chunk.base + byteSize;
                if (end <= chunk.committed) {
                    return;
                }
                if (end <= reservationSize) {
                    long committed = Math.min(reservationSize, alignUp(end, chunkSize));
                    chunk.region.protect(chunk.committed, committed - chunk.committed, Protection.READ_WRITE);
                    chunk.view = chunk.region.segment(0, committed);
                    chunk.committed = committed;
                    return;
                }
            }
            Chunk fresh = new Chunk(MappedRegion.reserve(reservationSize));
            fresh.region.protect(0, chunkSize, Protection.READ_WRITE);
            fresh.view = fresh.region.segment(0, chunkSize);
            fresh.committed = chunkSize;
            chunks.add(fresh);
            current = fresh;
        }
    }

    private MemorySegment allocateWhole(long byteSize, long byteAlignment) {
        // Regions start on a page; a larger alignment is met by mapping enough to slide to it.
        long slack = byteAlignment > pageSize ? byteAlignment - pageSize : 0;
        if (byteSize > Long.MAX_VALUE - pageSize - slack) {
            throw new IllegalArgumentException("byteSize is too large to map: " + byteSize);
        }
        synchronized (lock) {
            ensureBuilding();
            MappedRegion region = MappedRegion.allocate(Math.max(1, byteSize + slack));
            long offset = alignUp(region.address(), byteAlignment) - region.address();
            wholes.add(new Whole(region, offset, byteSize));
            return region.segment(offset, byteSize);
        }
    }

    /**
     * Seals everything allocated so far: makes it read-only, unmaps what is unused, and seals the rest.
     * Every segment handed out by {@code allocate} is invalidated; {@link #sealedView(MemorySegment)} gives its
     * read-only view. Idempotent.
     *
     * @throws IllegalStateException if the arena is closed
     * @throws UnsupportedOperationException if mseal is not available here ({@link Mseal#support()} says why)
     *     and the {@linkplain SealPolicy policy} is strict; the arena is then unchanged and still building
     * @throws SystemCallException if a system call fails
     */
    public void seal() {
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("the arena is closed");
            }
            if (sealed) {
                return;
            }
            Sealing.byKernel(); // refuses here, before anything changes, if the policy is strict
            sealed = true;
            for (Chunk chunk : chunks) {
                long used = chunk.next.getAndSet(FROZEN);
                if (used == 0) {
                    // Only empty allocations, if any: give the memory back; they map to empty views.
                    chunk.region.close();
                    chunk.sealedView = MemorySegment.ofAddress(chunk.base).asReadOnly();
                    continue;
                }
                chunk.sealedBytes = alignUp(used, pageSize);
                // Read-only first (this also invalidates every segment handed out), then give back the rest.
                chunk.region.protect(0, chunk.sealedBytes, Protection.READ);
                chunk.region.truncate(chunk.sealedBytes);
                chunk.sealedView = chunk.region.sealReadOnly();
            }
            for (Whole whole : wholes) {
                whole.sealedView = whole.region.sealReadOnly().asSlice(whole.offset, whole.byteSize);
            }
        }
    }

    /**
     * Whether {@link #seal()} has completed and the kernel reports every page of the arena sealed (it reads
     * {@code /proc/self/smaps}).
     *
     * @return true when sealed
     */
    public boolean isSealed() {
        synchronized (lock) {
            if (!sealed) {
                return false;
            }
            for (Chunk chunk : chunks) {
                if (chunk.sealedBytes > 0 && !chunk.region.isSealed()) {
                    return false;
                }
            }
            for (Whole whole : wholes) {
                if (!whole.region.isSealed()) {
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * The sealed, read-only view of memory this arena handed out before {@link #seal()}: same address, same
     * size, valid for the life of the process.
     *
     * @param building a segment returned by {@link #allocate(long, long)} (or a slice of one)
     * @return the read-only view of the same bytes
     * @throws IllegalStateException if the arena is not sealed yet
     * @throws IllegalArgumentException if the segment is not memory of this arena
     */
    public MemorySegment sealedView(MemorySegment building) {
        Objects.requireNonNull(building, "building");
        if (!building.isNative()) {
            throw new IllegalArgumentException("not memory of this arena: a heap segment");
        }
        long address = building.address();
        long length = building.byteSize();
        synchronized (lock) {
            if (!sealed) {
                throw new IllegalStateException("the arena is not sealed yet");
            }
            for (Chunk chunk : chunks) {
                if (chunk.contains(address, length)) {
                    return chunk.sealedView.asSlice(address - chunk.base, length);
                }
            }
            for (Whole whole : wholes) {
                if (whole.contains(address, length)) {
                    return whole.sealedView.asSlice(address - whole.region.address() - whole.offset, length);
                }
            }
        }
        throw new IllegalArgumentException("not memory of this arena: " + Errno.hex(address) + ", " + length
            + " bytes");
    }

    /**
     * Before {@link #seal()}: unmaps everything and invalidates every segment handed out. After: releases the
     * arena's Java state; the sealed memory and its views stay. Idempotent.
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            for (Chunk chunk : chunks) {
                chunk.next.set(FROZEN);
                chunk.region.close();
            }
            for (Whole whole : wholes) {
                whole.region.close();
            }
            if (!sealed) {
                chunks.clear();
                wholes.clear();
            }
        }
    }

    /** The number of kernel mappings (regions) the arena has made so far; for budgets and tests. */
    int regionCount() {
        synchronized (lock) {
            return chunks.size() + wholes.size();
        }
    }

    @Override
    public String toString() {
        synchronized (lock) {
            return String.format(Locale.ROOT, "SealedArena[chunk %d bytes, %d regions%s]", chunkSize,
                chunks.size() + wholes.size(), closed ? ", closed" : sealed ? ", sealed" : "");
        }
    }

    private void ensureBuilding() {
        if (closed || sealed) {
            throw frozen();
        }
    }

    private IllegalStateException frozen() {
        return new IllegalStateException(closed ? "the arena is closed" : "the arena is sealed: no more allocations");
    }

    private static long alignUp(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }
}
