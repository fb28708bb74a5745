package io.github.mseal4j;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.internal.LibC;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Packs many small allocations into a few mappings, then seals them all read-only at once: the way to seal
 * thousands of keys, configuration values or table entries without spending a page and a kernel mapping on
 * each (a process gets {@code vm.max_map_count}, 65530 by default, and sealed mappings are never freed).
 *
 * {@snippet :
 * try (SealedArena arena = SealedArena.create()) {
 *     MemorySegment key = arena.allocateFrom(ValueLayout.JAVA_BYTE, secretBytes);  // writable while building
 *     MemorySegment port = arena.allocateFrom(ValueLayout.JAVA_INT, 8443);
 *     arena.seal();                                   // read-only, sealed and immutable, all of it
 *     MemorySegment frozenKey = arena.sealedView(key); // the read-only view; `key` itself now throws
 * }
 * }
 *
 * <h2>Immutable by default</h2>
 * Where {@link Mseal#immutability()} is available, the arena's memory lives in {@code memfd}s and
 * {@link #seal()} freezes it like {@link MappingOption#IMMUTABLE}: after that nothing in the process can write
 * it, {@code /proc/self/mem} and {@code ptrace} included. Elsewhere it uses ordinary anonymous memory, sealed
 * read-only, and {@link #isImmutable()} is false.
 *
 * <h2>Building</h2>
 * {@link #allocate(long, long)} hands out zeroed, writable memory of any size and alignment, packed with a
 * bump pointer into a reservation of address space: no system call on the fast path, safe from many
 * threads. An allocation that does not fit a chunk even at the worst alignment (larger than the chunk size
 * less the alignment beyond a page) gets a region of its own, mapped at that alignment. As a
 * {@link SegmentAllocator}, the arena also offers {@code allocateFrom(...)} and the rest.
 *
 * <h2>Sealing</h2>
 * {@link #seal()} makes every page in use read-only, unmaps the unused rest of each reservation, and seals
 * what remains: the memory can never again be written, unmapped or re-protected through its mapping.
 * Every segment handed out while building is <strong>invalidated</strong>: using it afterwards throws
 * {@link IllegalStateException} with the JDK's message {@code Already closed} (it never crashes the JVM).
 * {@link #sealedView(MemorySegment)} maps it to its read-only view, which is valid for the life of the
 * process. {@code allocate} after {@code seal()} throws {@link IllegalStateException}.
 *
 * <h2>When sealing fails</h2>
 * A failed {@code seal()} never leaves the arena reporting sealed. Before changing anything it checks the
 * policy, that mseal still works, and that no segment is in use by a native call (such as a channel read into
 * it): a failure there leaves the arena exactly as it was. A failure after that, before any memory is sealed
 * for good, puts the arena back to building (usable, its data intact, sealable by a retry), except that the
 * segments handed out before were invalidated: {@link #sealedView(MemorySegment)} finds them after a
 * successful retry. Only a kernel failing half-way through the permanent steps leaves it part-sealed; then
 * {@code allocate} refuses, and {@code seal()} again continues from where it stopped, which succeeds once the
 * cause the exception names is gone (not at all on a kernel that refuses a step for good). Should the kernel
 * also refuse to undo the steps before (make the memory writable again, or map an immutable arena's file back),
 * the arena is
 * unusable: no memory is handed out that cannot be written, {@code allocate}, {@code seal} and
 * {@code sealedView} refuse, the exception says so, and {@code close()} releases it.
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
    /** The largest chunk size: far beyond any use, and small enough that no size computed from it overflows. */
    private static final long MAX_CHUNK_SIZE = 1L << 40;
    /** {@link Chunk#next} while sealing, and once sealed or closed: no allocation can succeed. */
    private static final long FROZEN = -1;

    private enum State { BUILDING, SEALING, PART_SEALED, UNUSABLE, SEALED, CLOSED }

    private final long chunkSize;
    private final long reservationSize;
    private final long pageSize;
    /** Memory in memfds, frozen by {@link #seal()}; false: anonymous memory. */
    private final boolean immutable;
    private final Object lock = new Object();

    // Guarded by lock, except where marked.
    private final List<Chunk> chunks = new ArrayList<>();
    private final List<Whole> wholes = new ArrayList<>();
    private volatile Chunk current;  // read without the lock by allocate
    private volatile State state = State.BUILDING;
    /** The arena of every segment handed out while building: closing it invalidates them all at once. */
    private Arena building;
    /** {@link #seal()} completed, so the lists describe sealed memory (also once closed). */
    private boolean sealedOnce;

    /**
     * A reservation in use: allocations bump {@code next} up to {@code committed}, the end of the accessible
     * pages; {@code view} covers them; {@code end} is where the reservation ends.
     */
    private static final class Chunk {
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
            this.end = region.byteSize();
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
    private static final class Whole {
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

    private SealedArena(long chunkSize, boolean immutable) {
        this.pageSize = Mseal.pageSize();
        this.chunkSize = chunkSize;
        this.reservationSize = Math.max(chunkSize, Math.min(MAX_RESERVATION, chunkSize * CHUNKS_PER_RESERVATION));
        this.immutable = immutable;
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
     * An arena that packs allocations into reservations of 256 chunks of address space (at most 1 GiB);
     * allocations that do not fit a chunk get a region of their own. Immutable memory where
     * {@link Mseal#immutability()} is available, otherwise anonymous memory made accessible a chunk at a time.
     *
     * @param chunkSize a positive multiple of the page size, at most 1 TiB
     * @return a new, empty arena
     * @throws IllegalArgumentException if {@code chunkSize} is not a positive multiple of the page size, or
     *     larger than 1 TiB
     * @throws UnsupportedOperationException if native calls are impossible here
     */
    public static SealedArena create(long chunkSize) {
        return create(chunkSize, Mseal.immutableExpected());
    }

    /** An arena backed by anonymous memory whatever the host offers; for tests of that fallback. */
    static SealedArena createAnonymous(long chunkSize) {
        return create(chunkSize, false);
    }

    private static SealedArena create(long chunkSize, boolean immutable) {
        long pageSize = Mseal.pageSize();
        if (chunkSize <= 0 || chunkSize % pageSize != 0) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                "chunkSize %d is not a positive multiple of the page size %d", chunkSize, pageSize));
        }
        if (chunkSize > MAX_CHUNK_SIZE) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                "chunkSize %d is larger than 1 TiB (%d); allocations larger than a chunk get a region of their own"
                    + " anyway", chunkSize, MAX_CHUNK_SIZE));
        }
        return new SealedArena(chunkSize, immutable);
    }

    /**
     * Allocates zeroed, writable memory, valid until {@link #seal()} or {@link #close()}: after either,
     * using it throws {@link IllegalStateException} with the JDK's message {@code Already closed}; after
     * {@code seal()}, {@link #sealedView(MemorySegment)} gives its read-only view. Thread-safe; no system call
     * unless a new reservation (or, for anonymous memory, chunk) is needed.
     *
     * @param byteSize the size; zero is allowed
     * @param byteAlignment a power of two
     * @return the memory, writable until {@code seal()}
     * @throws IllegalArgumentException if {@code byteSize} is negative or {@code byteAlignment} is not a
     *     positive power of two, or the two together are too large to map
     * @throws IllegalStateException if the arena is sealed, being sealed, or closed
     * @throws IllegalStateException if it would need mappings the library keeps for the JVM under
     *     {@code vm.max_map_count} ({@code -Dio.github.mseal4j.mappingReserve}); nothing is changed
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
        // Even a fresh reservation starts only page-aligned: a larger alignment may cost up to this much.
        long slack = byteAlignment > pageSize ? byteAlignment - pageSize : 0;
        if (byteSize > chunkSize - slack) {
            if (byteSize >= RegionMapping.LARGEST_MAPPING - slack) { // (chunks are far smaller: checked here only)
                throw new IllegalArgumentException(String.format(java.util.Locale.ROOT, "an allocation of %d bytes"
                    + " at an alignment of %d is too large to map: %s reaches 2^48 bytes (256 TiB), more than any"
                    + " mapping made without an address hint", byteSize, byteAlignment,
                    slack > 0 ? "with the slack its alignment needs it" : "it"));
            }
            return allocateWhole(byteSize, byteAlignment);
        }
        while (true) {
            Chunk chunk = current;
            if (chunk != null) {
                long next = chunk.next.get();
                if (next == FROZEN) {
                    State now = state;
                    if (now == State.BUILDING && chunk != current) {
                        continue; // a failed seal resumed allocations in a new chunk object meanwhile
                    }
                    throw frozen(now);
                }
                long start = alignUp(chunk.base + next, byteAlignment) - chunk.base;
                long end = start + byteSize;
                if (end <= chunk.committed && chunk.next.compareAndSet(next, end)) {
                    observe();
                    MemorySegment segment = chunk.view.asSlice(start, byteSize);
                    while (!segment.scope().isAlive()) {
                        // Seals that failed replaced the views meanwhile; the allocation itself stands. It ends:
                        // resumeAllocations links each chunk to its successor before it sets BUILDING, and a new
                        // seal sets SEALING before it invalidates the views; so each pass that reads BUILDING finds
                        // a newer chunk, whose view is valid unless yet another seal began (and failed) since.
                        observe();
                        if (state != State.BUILDING) {
                            throw frozen();
                        }
                        chunk = chunk.latest();
                        segment = chunk.view.asSlice(start, byteSize);
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

    /**
     * For tests only: run by {@link #allocate} right after it claims its bytes, and again each time it finds the
     * view it took them from invalidated, so a test can hold a thread between the two and count its retries.
     */
    static volatile Runnable allocationObserver;

    private static void observe() {
        Runnable observer = allocationObserver;
        if (observer != null) {
            observer.run();
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
                if (next == FROZEN) {
                    throw frozen();
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
                + " bytes):"
                + " SealedArena.create(chunkSize) with"
                + " a chunk of at most 1/" + CHUNKS_PER_RESERVATION + " of the " + (fileSize ? "RLIMIT_FSIZE"
                : "RLIMIT_AS headroom") + " keeps a reservation within it");
        }
    }

    private static void closeAfterFailure(MappedRegion region, RuntimeException failure) {
        try {
            region.close();
        } catch (RuntimeException again) {
            failure.addSuppressed(again);
        }
    }

    private MemorySegment allocateWhole(long byteSize, long byteAlignment) {
        synchronized (lock) {
            ensureBuilding();
            MappedRegion region = MappedRegion.allocateAligned(Math.max(1, byteSize), byteAlignment, immutable);
            wholes.add(new Whole(region, byteSize));
            return LibC.view(region.address(), byteSize, buildingArena());
        }
    }

    private Arena buildingArena() {
        if (building == null) {
            building = Arena.ofShared();
        }
        return building;
    }

    /**
     * Seals everything allocated so far: makes it read-only (immutable where the arena is), unmaps what is
     * unused, and seals the rest. Every segment handed out by {@code allocate} is invalidated (using one then
     * throws {@link IllegalStateException}: {@code Already closed}); {@link #sealedView(MemorySegment)} gives
     * its read-only view. Idempotent. See the class documentation for what a failure leaves.
     *
     * @throws IllegalStateException if the arena is closed, or a segment it handed out is in use by a native
     *     call right now (the arena is then unchanged)
     * @throws IllegalArgumentException if the {@linkplain SealPolicy policy} property names no policy
     * @throws UnsupportedOperationException if mseal is not available here ({@link Mseal#support()} says why)
     *     and the {@linkplain SealPolicy policy} is strict; the arena is then unchanged and still building
     * @throws IllegalStateException if it would need mappings the library keeps for the JVM under
     *     {@code vm.max_map_count} ({@code -Dio.github.mseal4j.mappingReserve}); nothing is changed
     * @throws SystemCallException if a system call fails; the message of an arena left part-sealed says so
     */
    public void seal() {
        synchronized (lock) {
            switch (state) {
                case CLOSED, UNUSABLE -> throw frozen();
                case SEALED -> {
                    return;
                }
                default -> {
                }
            }
            boolean byKernel = Sealing.byKernel(); // refuses here, before anything changes, if the policy is strict
            if (byKernel) {
                CheckedCalls.msealStillWorks(); // a filter installed after the probe: nothing changed yet
            }
            if (state == State.BUILDING) {
                prepare();
            }
            sealPrepared();
        }
    }

    /**
     * The steps that can be undone: stop allocating, invalidate every building segment (all at once, or not
     * at all), give back the unused part of each reservation, and make anonymous memory read-only.
     */
    private void prepare() {
        state = State.SEALING; // first: an allocation that finds its chunk frozen then says why
        for (Chunk chunk : chunks) {
            chunk.used = chunk.next.getAndSet(FROZEN);
        }
        if (building != null) {
            try {
                building.close();
            } catch (IllegalStateException e) {
                resumeAllocations();
                throw new IllegalStateException("a segment of this arena is in use by a native call (for example"
                    + " I/O into it), so the arena cannot be sealed now; nothing was changed: retry when the call"
                    + " has returned", e);
            }
            building = null;
        }
        try {
            for (Chunk chunk : chunks) {
                if (chunk.used == 0) {
                    continue; // only empty allocations, if any: released once everything else is sealed
                }
                chunk.sealedBytes = alignUp(chunk.used, pageSize);
                // Trim first: the tail ends where the mapping ends, so neither this nor the mprotect of the
                // whole rest needs a split, which the kernel refuses at vm.max_map_count.
                try {
                    chunk.region.truncate(chunk.sealedBytes);
                } finally {
                    // Whatever happened, allocate only where the region still is mapped.
                    chunk.end = chunk.region.byteSize();
                    chunk.committed = Math.min(chunk.committed, chunk.end);
                }
                if (!immutable) {
                    chunk.region.protect(0, chunk.sealedBytes, Protection.READ);
                }
            }
        } catch (RuntimeException e) {
            throw backToBuilding(e);
        }
    }

    /** The permanent steps: seal every region read-only (freezing immutable ones). Resumable. */
    private void sealPrepared() {
        try {
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
        } catch (RuntimeException e) {
            if (anythingPermanent()) {
                state = State.PART_SEALED;
                String note = "the arena is part-sealed: some of its memory is frozen or sealed for good;"
                    + " allocate() refuses, and seal() again continues from where this stopped, which succeeds once the cause"
                    + " above is gone";
                throw withNote(e, note);
            }
            throw backToBuilding(e);
        }
        for (Chunk chunk : chunks) {
            if (chunk.used == 0 && chunk.sealedView == null) {
                try {
                    chunk.region.close();
                } catch (RuntimeException e) {
                    // Nothing of it was handed out but empty views; a reservation left mapped is only address space.
                    System.getLogger("io.github.mseal4j").log(System.Logger.Level.WARNING,
                        "mseal4j: an empty arena reservation could not be unmapped: " + e.getMessage());
                }
                chunk.sealedView = MemorySegment.ofAddress(chunk.base).asReadOnly();
            }
        }
        state = State.SEALED;
        sealedOnce = true;
    }

    private boolean anythingPermanent() {
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
     * Undoes {@link #prepare()} after a failure: writable again, new views, allocations resume; returns
     * {@code failure} to throw. If the kernel refuses to make some of the memory writable again (or an immutable
     * region could not map its file back), no view is made over it: the arena is unusable, and the returned
     * exception says so.
     */
    private RuntimeException backToBuilding(RuntimeException failure) {
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
        if (!writable) {
            state = State.UNUSABLE;
            return withNote(failure, "the arena is unusable: the kernel refused to undo the steps before the"
                + " failure as well (see the suppressed exceptions), so some of its memory can no longer be written;"
                + " nothing more is handed out over it, allocate() and seal() refuse, and close() releases it");
        }
        for (Chunk chunk : chunks) {
            chunk.sealedBytes = 0;
        }
        resumeAllocations();
        return failure;
    }

    private static RuntimeException withNote(RuntimeException e, String note) {
        if (e instanceof SystemCallException failure) {
            return failure.withNote(note);
        }
        return new IllegalStateException(e.getMessage() + "; " + note, e);
    }

    /** Allocations resume where they stopped, in {@linkplain Chunk#resumed() new chunk objects} with new views. */
    private void resumeAllocations() {
        Chunk was = current;
        for (int i = 0; i < chunks.size(); i++) {
            Chunk old = chunks.get(i);
            Chunk fresh = old.resumed();
            fresh.view = LibC.view(fresh.base, fresh.committed, buildingArena());
            old.successor = fresh; // for an allocation made before the seal that is still taking its view
            chunks.set(i, fresh);
            if (old == was) {
                current = fresh;
            }
        }
        state = State.BUILDING;
    }

    /**
     * Whether {@link #seal()} has completed and the kernel reports every page of the arena sealed (it reads
     * {@code /proc/self/smaps}). An arena that holds no memory (nothing allocated, or only zero bytes) is
     * sealed once {@code seal()} has completed: it has no page to check, and can allocate nothing more.
     *
     * @return true when sealed
     */
    public boolean isSealed() {
        synchronized (lock) {
            if (!sealCompleted()) {
                return false;
            }
            return everyRegion(MappedRegion::isSealed);
        }
    }

    /**
     * Whether {@link #seal()} has completed and the kernel reports all of the arena's memory immutable:
     * shared, sealed, and never writable again (see {@link MappedRegion#isImmutable()}). False where the arena
     * fell back to anonymous memory because {@link Mseal#immutability()} is not available.
     *
     * @return true when sealed and immutable
     */
    public boolean isImmutable() {
        synchronized (lock) {
            if (!immutable || !sealCompleted()) {
                return false;
            }
            return everyRegion(MappedRegion::isImmutable);
        }
    }

    /** True when the kernel says {@code test} of every region that holds allocations (each reads smaps). */
    private boolean everyRegion(Predicate<MappedRegion> test) {
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

    /** {@link #seal()} completed: the arena is sealed, or was before it was closed. */
    private boolean sealCompleted() {
        return state == State.SEALED || (state == State.CLOSED && sealedOnce);
    }

    /**
     * The sealed, read-only view of memory this arena handed out before {@link #seal()}: same address, same
     * size, valid for the life of the process.
     *
     * @param building a segment returned by {@link #allocate(long, long)} (or a slice of one)
     * @return the read-only view of the same bytes
     * @throws IllegalStateException if the arena is not sealed (yet, or completely)
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
            if (!sealCompleted()) {
                throw state == State.PART_SEALED || state == State.UNUSABLE ? frozen()
                    : new IllegalStateException("the arena is not sealed yet");
            }
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
        }
        throw new IllegalArgumentException("not memory of this arena: " + Errno.hex(address) + ", " + length
            + " bytes");
    }

    /**
     * Before {@link #seal()}: unmaps everything and invalidates every segment handed out. After: releases the
     * arena's Java state; the sealed memory and its views stay. Idempotent.
     *
     * @throws IllegalStateException if a segment handed out is in use by a native call right now; the arena
     *     is then unchanged and {@code close()} can be retried
     * @throws SystemCallException if the kernel refuses to unmap a region (the arena is closed; the message
     *     names what stays mapped)
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (state == State.CLOSED) {
                return;
            }
            if (building != null) {
                try {
                    building.close();
                } catch (IllegalStateException e) {
                    throw new IllegalStateException("a segment of this arena is in use by a native call (for"
                        + " example I/O into it), so the arena cannot be closed now; retry when the call has"
                        + " returned", e);
                }
                building = null;
            }
            boolean wasSealed = state == State.SEALED;
            state = State.CLOSED;
            RuntimeException failure = null;
            for (Chunk chunk : chunks) {
                chunk.next.set(FROZEN);
                failure = closeCollecting(chunk.region, failure);
            }
            for (Whole whole : wholes) {
                failure = closeCollecting(whole.region, failure);
            }
            if (!wasSealed) {
                chunks.clear();
                wholes.clear();
            }
            if (failure != null) {
                throw failure;
            }
        }
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

    /** The number of kernel mappings (regions) the arena has made so far; for budgets and tests. */
    int regionCount() {
        synchronized (lock) {
            return chunks.size() + wholes.size();
        }
    }

    @Override
    public String toString() {
        synchronized (lock) {
            // Regions mapped now: a completed seal released the reservations that held nothing.
            long regions = wholes.size() + chunks.stream().filter(chunk -> chunk.used > 0 || !sealCompleted()).count();
            return String.format(Locale.ROOT, "SealedArena[%s, chunk %d bytes, %d regions%s]",
                immutable ? "immutable" : "anonymous", chunkSize, regions,
                switch (state) {
                    case CLOSED -> ", closed";
                    case SEALED -> ", " + Sealing.sealedLabel();
                    case PART_SEALED -> ", part-sealed";
                    case UNUSABLE -> ", unusable";
                    default -> "";
                });
        }
    }

    private void ensureBuilding() {
        if (state != State.BUILDING) {
            throw frozen();
        }
    }

    private IllegalStateException frozen() {
        return frozen(state);
    }

    private static IllegalStateException frozen(State state) {
        return new IllegalStateException(switch (state) {
            case CLOSED -> "the arena is closed";
            case PART_SEALED -> "the arena is part-sealed: a seal() failed half-way; call seal() again";
            case UNUSABLE -> "the arena is unusable: a seal() failed and the kernel refused to undo what it had"
                + " done; close() it";
            case SEALING, BUILDING -> "the arena is being sealed: no more allocations";
            default -> "the arena is sealed: no more allocations";
        });
    }

    private static long alignUp(long value, long alignment) {
        return (value + alignment - 1) & -alignment;
    }
}
