package io.github.mseal4j;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.internal.LibC;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The memory of a {@link SealedArena}: reservations of address space (or of a memfd) that allocations are bumped
 * into, chunk by chunk ({@link Chunk}), regions of their own for allocations too large for a chunk
 * ({@link Whole}), the one {@link Arena} every building segment belongs to, and the steps of a seal done to all of
 * them (trim, make read-only, seal; and undo). The arena decides when, holds the lock, and keeps the state; this
 * class knows how. Every method but the reads of {@link #current()} is called with the arena's lock held.
 */
final class ArenaChunks {
    /** Reservations are this many chunks of address space (without committing memory), at most 1 GiB. */
    static final long CHUNKS_PER_RESERVATION = 256;
    static final long MAX_RESERVATION = 1L << 30;
    /** {@link Chunk#next} while sealing, and once sealed or closed: no allocation can succeed. */
    static final long FROZEN = -1;

    private final long chunkSize;
    private final long reservationSize;
    private final long pageSize;
    /** Memory in memfds, frozen by a seal; false: anonymous memory. */
    private final boolean immutable;
    private final List<Chunk> chunks = new ArrayList<>();
    private final List<Whole> wholes = new ArrayList<>();
    private volatile Chunk current; // read without the lock by allocate
    /** The arena of every segment handed out while building: closing it invalidates them all at once. */
    private Arena building;

    ArenaChunks(long chunkSize, long pageSize, boolean immutable) {
        this.chunkSize = chunkSize;
        this.pageSize = pageSize;
        this.reservationSize = Math.max(chunkSize, Math.min(MAX_RESERVATION, chunkSize * CHUNKS_PER_RESERVATION));
        this.immutable = immutable;
    }

    /**
     * A reservation in use: allocations bump {@code next} up to {@code committed}, the end of the accessible
     * pages; {@code view} covers them; {@code end} is where the reservation ends.
     */
    static final class Chunk {
        final MappedRegion region;
        final long base;
        /**
         * The offset of the next free byte. Once a seal has frozen it, it stays {@link #FROZEN}: should the seal
         * fail, allocations resume in a new {@code Chunk} of the same region (see {@link #resumed()}).
         */
        final AtomicLong next = new AtomicLong();
        volatile long committed;
        volatile MemorySegment view;
        /** The chunk allocations resumed in after a failed seal ({@link #resumed()}); null until then. */
        volatile Chunk successor;
        long end;
        long used;
        MemorySegment sealedView;
        long sealedBytes;

        Chunk(MappedRegion region, long committed) {
            this.region = region;
            this.base = region.address();
            this.committed = committed;
            this.end = region.mappedSize();
        }

        boolean contains(long address, long byteSize) {
            return address >= base && address + byteSize <= base + sealedBytes;
        }

        /**
         * This chunk, for allocations to resume after a failed seal: the same region and state, a new
         * {@code next}. An allocation that read this chunk's {@code next} and {@code committed} before the seal
         * then fails its compare-and-set against {@link #FROZEN}, instead of succeeding against the
         * {@code committed} it read before the seal trimmed the chunk, as it would if {@code next} were set back
         * to the same offset.
         */
        Chunk resumed() {
            Chunk fresh = new Chunk(region, committed);
            fresh.end = end;
            fresh.used = used;
            fresh.next.set(used);
            return fresh;
        }

        /** The chunk that allocations in this one resumed in after the seals that failed since; this one if none. */
        Chunk latest() {
            Chunk chunk = this;
            for (Chunk next = chunk.successor; next != null; next = chunk.successor) {
                chunk = next;
            }
            return chunk;
        }
    }

    /** An allocation too large for a chunk, in a region of its own. */
    static final class Whole {
        final MappedRegion region;
        final long byteSize;
        MemorySegment sealedView;

        Whole(MappedRegion region, long byteSize) {
            this.region = region;
            this.byteSize = byteSize;
        }

        boolean contains(long address, long length) {
            long start = region.address();
            return address >= start && address + length <= start + byteSize;
        }
    }

    /** The chunk allocations are bumped into now, or null before the first; read without the lock. */
    Chunk current() {
        return current;
    }

    /**
     * Makes room for an allocation that did not fit {@code seen}, the current chunk then: commits more of the
     * reservation, or starts a new one. Nothing to do where another thread grew the arena meanwhile.
     *
     * @throws IllegalStateException if {@code seen} was frozen by a seal meanwhile (from {@code frozen})
     */
    void grow(Chunk seen, long byteSize, long byteAlignment, Supplier<IllegalStateException> frozen) {
        Chunk chunk = current;
        if (chunk != seen) {
            return;
        }
        if (chunk != null) {
            long next = chunk.next.get();
            if (next == FROZEN) {
                throw frozen.get();
            }
            long end = alignUp(chunk.base + next, byteAlignment) - chunk.base + byteSize;
            if (end <= chunk.committed) {
                return;
            }
            if (end <= chunk.end) {
                long committed = Math.min(chunk.end, alignUp(end, chunkSize));
                chunk.region.protect(chunk.committed, committed - chunk.committed, Protection.READ_WRITE);
                chunk.view = LibC.view(chunk.base, committed, buildingArena());
                chunk.committed = committed;
                return;
            }
        }
        Chunk fresh = reserve();
        fresh.view = LibC.view(fresh.base, fresh.committed, buildingArena());
        chunks.add(fresh);
        current = fresh;
    }

    /**
     * A new reservation. An immutable one is a memfd mapped whole (its pages cost nothing until written);
     * an anonymous one is {@code PROT_NONE} address space whose first chunk is made accessible. Nothing is
     * left mapped if that fails.
     */
    private Chunk reserve() {
        if (immutable) {
            MappedRegion region = reserved(() -> MappedRegion.allocateAligned(reservationSize, pageSize, true));
            return new Chunk(region, reservationSize);
        }
        MappedRegion region = reserved(() -> MappedRegion.reserve(reservationSize));
        try {
            region.protect(0, chunkSize, Protection.READ_WRITE);
        } catch (RuntimeException e) {
            closeAfterFailure(region, e);
            throw e;
        }
        return new Chunk(region, chunkSize);
    }

    /**
     * {@code reservation.get()}; where a process limit may have refused it (EFBIG: the memfd's size against
     * {@code RLIMIT_FSIZE}; ENOMEM while {@code RLIMIT_AS} is set), the exception also says how much the arena
     * reserves at a time, and how to reserve less.
     */
    private MappedRegion reserved(Supplier<MappedRegion> reservation) {
        try {
            return reservation.get();
        } catch (SystemCallException e) {
            boolean fileSize = e.errno() == Errno.EFBIG;
            if (!fileSize && !(e.errno() == Errno.ENOMEM && Errno.addressSpaceLimit().endsWith(" bytes"))) {
                throw e;
            }
            throw e.withNote("the arena reserves " + reservationSize + " bytes of " + (fileSize ? "file size"
                : "address space") + " at a time (a reservation is " + CHUNKS_PER_RESERVATION + " chunks, but at"
                + " most " + MAX_RESERVATION + " bytes and at least one chunk; the chunk here is " + chunkSize
                + " bytes): SealedArena.create(chunkSize) with a chunk of at most 1/" + CHUNKS_PER_RESERVATION
                + " of the " + (fileSize ? "RLIMIT_FSIZE" : "RLIMIT_AS headroom") + " keeps a reservation within it");
        }
    }

    private static void closeAfterFailure(MappedRegion region, RuntimeException failure) {
        try {
            region.close();
        } catch (RuntimeException again) {
            failure.addSuppressed(again);
        }
    }

    /** An allocation too large for a chunk, in a region of its own mapped at its alignment. */
    MemorySegment allocateWhole(long byteSize, long byteAlignment) {
        MappedRegion region = MappedRegion.allocateAligned(Math.max(1, byteSize), byteAlignment, immutable);
        wholes.add(new Whole(region, byteSize));
        return LibC.view(region.address(), byteSize, buildingArena());
    }

    private Arena buildingArena() {
        if (building == null) {
            building = Arena.ofShared();
        }
        return building;
    }

    /**
     * The first, undoable steps of a seal: stop allocating, then invalidate every building segment, all at once
     * or not at all.
     *
     * @param beforeInvalidating run once allocations are stopped and before any segment is invalidated (the
     *     budget's check of what they hold); if it throws, allocations resume and nothing else has changed
     * @throws IllegalStateException if a segment is in use by a native call; allocations are resumed then
     */
    void stopAllocating(Runnable beforeInvalidating) {
        for (Chunk chunk : chunks) {
            chunk.used = chunk.next.getAndSet(FROZEN);
        }
        try {
            beforeInvalidating.run(); // what was allocated is known now, and every segment still valid
        } catch (RuntimeException e) {
            resume();
            throw e;
        }
        if (building != null) {
            try {
                building.close();
            } catch (IllegalStateException e) {
                resume();
                throw new IllegalStateException("a segment of this arena is in use by a native call (for example"
                    + " I/O into it), so the arena cannot be sealed now; nothing was changed: retry when the call"
                    + " has returned", e);
            }
            building = null;
        }
    }

    /**
     * The other undoable steps: give back the unused part of each reservation, and make anonymous memory
     * read-only. The tail is trimmed first: it ends where the mapping ends, so neither this nor the mprotect of
     * the whole rest needs a split, which the kernel refuses at {@code vm.max_map_count}.
     */
    void trimAndProtect() {
        for (Chunk chunk : chunks) {
            if (chunk.used == 0) {
                continue; // only empty allocations, if any: released once everything else is sealed
            }
            chunk.sealedBytes = alignUp(chunk.used, pageSize);
            try {
                chunk.region.truncate(chunk.sealedBytes);
            } finally {
                // Whatever happened, allocate only where the region still is mapped.
                chunk.end = chunk.region.mappedSize();
                chunk.committed = Math.min(chunk.committed, chunk.end);
            }
            if (!immutable) {
                chunk.region.protect(0, chunk.sealedBytes, Protection.READ);
            }
        }
    }

    /**
     * The bytes a seal would seal now, for the budget: every chunk in use (allocated bytes, in whole pages) and
     * every region of its own, not sealed yet. Read before the seal stops allocations, so an allocation racing it
     * can still add a page the check did not see; the regions' own checks, under the same permit, count those.
     */
    long bytesToSeal() {
        long bytes = 0;
        for (Chunk chunk : chunks) {
            long next = chunk.next.get();
            long used = next == FROZEN ? chunk.used : next;
            if (chunk.sealedView == null && used > 0) {
                bytes += alignUp(used, pageSize);
            }
        }
        for (Whole whole : wholes) {
            if (whole.sealedView == null) {
                bytes += Math.max(pageSize, alignUp(whole.byteSize, pageSize)); // an empty one maps a page too
            }
        }
        return bytes;
    }

    /** The permanent steps: seal every region read-only (freezing immutable ones). Resumable. */
    void sealRegions() {
        for (Chunk chunk : chunks) {
            if (chunk.used > 0 && chunk.sealedView == null) {
                chunk.sealedView = chunk.region.sealReadOnly();
            }
        }
        for (Whole whole : wholes) {
            if (whole.sealedView == null) {
                whole.sealedView = whole.region.sealReadOnly().asSlice(0, whole.byteSize);
            }
        }
    }

    /** After a completed seal: unmaps the reservations that held nothing (a failure is logged: only address space). */
    void releaseEmpty() {
        for (Chunk chunk : chunks) {
            if (chunk.used == 0 && chunk.sealedView == null) {
                try {
                    chunk.region.close();
                } catch (RuntimeException e) {
                    System.getLogger("io.github.mseal4j").log(System.Logger.Level.WARNING,
                        "mseal4j: an empty arena reservation could not be unmapped: " + e.getMessage());
                }
                chunk.sealedView = MemorySegment.ofAddress(chunk.base).asReadOnly();
            }
        }
    }

    /** True once anything permanent has happened to some region that holds allocations. */
    boolean anythingPermanent() {
        for (Chunk chunk : chunks) {
            if (chunk.used > 0 && chunk.region.sealedOrFreezing()) {
                return true;
            }
        }
        for (Whole whole : wholes) {
            if (whole.region.sealedOrFreezing()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Undoes {@link #trimAndProtect()} after a failure: anonymous memory writable again, failures of that added to
     * {@code failure}. True when every chunk can be written again (the kernel may refuse to undo, or an immutable
     * region could not map its file back).
     */
    boolean makeWritable(RuntimeException failure) {
        boolean writable = true;
        for (Chunk chunk : chunks) {
            try {
                if (!immutable && chunk.used > 0) {
                    chunk.region.protect(0, chunk.sealedBytes, Protection.READ_WRITE);
                }
            } catch (RuntimeException again) {
                failure.addSuppressed(again);
            }
            writable &= chunk.region.writableThroughout(0, chunk.committed);
        }
        // (A large allocation's region gets no new view: its segment stays invalidated, and a retry seals it
        // from whatever state its own rollback left, its data safe in memory or, immutable, in the file.)
        return writable;
    }

    /**
     * Allocations resume where they stopped, in {@linkplain Chunk#resumed() new chunk objects} with new views;
     * each old chunk links to its successor first, so an allocation made before the seal that is still taking
     * its view finds the new one. The caller sets its state to building after.
     */
    void resume() {
        Chunk was = current;
        for (int i = 0; i < chunks.size(); i++) {
            Chunk old = chunks.get(i);
            Chunk fresh = old.resumed();
            fresh.view = LibC.view(fresh.base, fresh.committed, buildingArena());
            old.successor = fresh;
            chunks.set(i, fresh);
            if (old == was) {
                current = fresh;
            }
        }
    }

    /** True when the kernel says {@code test} of every region that holds allocations (each reads smaps). */
    boolean everyRegion(Predicate<MappedRegion> test) {
        for (Chunk chunk : chunks) {
            if (chunk.used > 0 && !test.test(chunk.region)) {
                return false;
            }
        }
        for (Whole whole : wholes) {
            if (!test.test(whole.region)) {
                return false;
            }
        }
        return true;
    }

    /** The sealed view of {@code [address, address + length)}, or null where it is not the arena's memory. */
    MemorySegment sealedView(long address, long length) {
        for (Chunk chunk : chunks) {
            if (chunk.sealedView != null && chunk.contains(address, length)) {
                return chunk.sealedView.asSlice(address - chunk.base, length);
            }
        }
        for (Whole whole : wholes) {
            if (whole.contains(address, length)) {
                return whole.sealedView.asSlice(address - whole.region.address(), length);
            }
        }
        return null;
    }

    /**
     * Invalidates every building segment, without waiting for one in use.
     *
     * @throws IllegalStateException if a segment is in use by a native call; nothing is changed then
     */
    void closeBuilding() {
        if (building != null) {
            try {
                building.close();
            } catch (IllegalStateException e) {
                throw new IllegalStateException("a segment of this arena is in use by a native call (for example I/O"
                    + " into it), so the arena cannot be closed now; retry when the call has returned", e);
            }
            building = null;
        }
    }

    /**
     * Closes every region (unmapping what is not sealed) and stops allocations for good; forgets them unless
     * {@code keepSealed}. Returns the first failure, the others suppressed by it, or null.
     */
    RuntimeException closeAll(boolean keepSealed) {
        RuntimeException failure = null;
        for (Chunk chunk : chunks) {
            chunk.next.set(FROZEN);
            failure = closeCollecting(chunk.region, failure);
        }
        for (Whole whole : wholes) {
            failure = closeCollecting(whole.region, failure);
        }
        if (!keepSealed) {
            chunks.clear();
            wholes.clear();
        }
        return failure;
    }

    private static RuntimeException closeCollecting(MappedRegion region, RuntimeException failure) {
        try {
            region.close();
        } catch (RuntimeException e) {
            if (failure == null) {
                return e;
            }
            failure.addSuppressed(e);
        }
        return failure;
    }

    /** The number of kernel mappings (regions) made so far; for budgets and tests. */
    int regionCount() {
        return chunks.size() + wholes.size();
    }

    /** The regions mapped now: after a completed seal, the reservations that held nothing are released. */
    long regionsMapped(boolean sealCompleted) {
        return wholes.size() + chunks.stream().filter(chunk -> chunk.used > 0 || !sealCompleted).count();
    }

    static long alignUp(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }
}
