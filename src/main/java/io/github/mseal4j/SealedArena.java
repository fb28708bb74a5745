package io.github.mseal4j;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.internal.Platform;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.util.Locale;
import java.util.Objects;

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
    /** The largest chunk size: far beyond any use, and small enough that no size computed from it overflows. */
    private static final long MAX_CHUNK_SIZE = 1L << 40;

    private enum State { BUILDING, SEALING, PART_SEALED, UNUSABLE, SEALED, CLOSED }

    private final long chunkSize;
    private final long pageSize;
    /** Memory in memfds, frozen by {@link #seal()}; false: anonymous memory. */
    private final boolean immutable;
    private final Object lock = new Object();

    // Guarded by lock, except where marked.
    /** The reservations, chunks and large allocations, and the steps of a seal done to them. */
    private final ArenaChunks memory;
    private volatile State state = State.BUILDING; // read without the lock by allocate
    /** {@link #seal()} completed, so the memory describes sealed memory (also once closed). */
    private boolean sealedOnce;

    private SealedArena(long chunkSize, boolean immutable) {
        this.pageSize = Mseal.pageSize();
        this.chunkSize = chunkSize;
        this.immutable = immutable;
        this.memory = new ArenaChunks(chunkSize, pageSize, immutable);
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
        Platform.requireNativeCalls();
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
                throw new IllegalArgumentException(String.format(Locale.ROOT, "an allocation of %d bytes"
                    + " at an alignment of %d is too large to map: %s reaches 2^48 bytes (256 TiB), more than any"
                    + " mapping made without an address hint", byteSize, byteAlignment,
                    slack > 0 ? "with the slack its alignment needs it" : "it"));
            }
            synchronized (lock) {
                ensureBuilding();
                return memory.allocateWhole(byteSize, byteAlignment);
            }
        }
        while (true) {
            ArenaChunks.Chunk chunk = memory.current();
            if (chunk != null) {
                long next = chunk.next.get();
                if (next == ArenaChunks.FROZEN) {
                    State now = state;
                    if (now == State.BUILDING && chunk != memory.current()) {
                        continue; // a failed seal resumed allocations in a new chunk object meanwhile
                    }
                    throw frozen(now);
                }
                long start = ArenaChunks.alignUp(chunk.base + next, byteAlignment) - chunk.base;
                long end = start + byteSize;
                if (end <= chunk.committed && chunk.next.compareAndSet(next, end)) {
                    observe();
                    MemorySegment segment = chunk.view.asSlice(start, byteSize);
                    while (!segment.scope().isAlive()) {
                        // Seals that failed replaced the views meanwhile; the allocation itself stands. It ends:
                        // a failed seal links each chunk to its successor before it sets BUILDING, and a new seal
                        // sets SEALING before it invalidates the views; so each pass that reads BUILDING finds a
                        // newer chunk, whose view is valid unless yet another seal began (and failed) since.
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
            synchronized (lock) {
                ensureBuilding();
                memory.grow(chunk, byteSize, byteAlignment, this::frozen);
            }
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
     *     {@code vm.max_map_count} ({@code -Dio.github.mseal4j.mappingReserve}), or seal more than the budget for
     *     memory sealed for good allows ({@code -Dio.github.mseal4j.maxSealedBytes}); nothing is changed
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
            // Refused before anything changes, as the budget stands now; then, held until the last seal, checked
            // again once allocations are stopped and before any segment is invalidated (an allocation racing the
            // seal, or another seal taking the budget meanwhile, can have changed the figures).
            try (var _ = SealCounters.budget(byKernel ? memory.bytesToSeal() : 0)) {
                if (state == State.BUILDING) {
                    prepare(() -> SealCounters.checkBudget(byKernel ? memory.bytesToSeal() : 0));
                }
                sealPrepared();
            }
        }
    }

    /**
     * The steps that can be undone: stop allocating, invalidate every building segment (all at once, or not
     * at all), give back the unused part of each reservation, and make anonymous memory read-only.
     */
    private void prepare(Runnable beforeInvalidating) {
        state = State.SEALING; // first: an allocation that finds its chunk frozen then says why
        try {
            memory.stopAllocating(beforeInvalidating);
        } catch (IllegalStateException busy) {
            state = State.BUILDING; // allocations resumed: nothing was changed
            throw busy;
        }
        try {
            memory.trimAndProtect();
        } catch (RuntimeException e) {
            throw backToBuilding(e);
        }
    }

    /** The permanent steps: seal every region read-only (freezing immutable ones). Resumable. */
    private void sealPrepared() {
        try {
            memory.sealRegions();
        } catch (RuntimeException e) {
            if (memory.anythingPermanent()) {
                state = State.PART_SEALED;
                throw withNote(e, "the arena is part-sealed: some of its memory is frozen or sealed for good;"
                    + " allocate() refuses, and seal() again continues from where this stopped, which succeeds once"
                    + " the cause above is gone");
            }
            throw backToBuilding(e);
        }
        memory.releaseEmpty();
        state = State.SEALED;
        sealedOnce = true;
    }

    /**
     * Undoes {@link #prepare(Runnable)} after a failure: writable again, new views, allocations resume; returns
     * {@code failure} to throw. If the kernel refuses to make some of the memory writable again (or an immutable
     * region could not map its file back), no view is made over it: the arena is unusable, and the returned
     * exception says so.
     */
    private RuntimeException backToBuilding(RuntimeException failure) {
        if (!memory.makeWritable(failure)) {
            state = State.UNUSABLE;
            return withNote(failure, "the arena is unusable: the kernel refused to undo the steps before the"
                + " failure as well (see the suppressed exceptions), so some of its memory can no longer be written;"
                + " nothing more is handed out over it, allocate() and seal() refuse, and close() releases it");
        }
        memory.resume();
        state = State.BUILDING;
        return failure;
    }

    private static RuntimeException withNote(RuntimeException e, String note) {
        if (e instanceof SystemCallException failure) {
            return failure.withNote(note);
        }
        return new IllegalStateException(e.getMessage() + "; " + note, e);
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
            return sealCompleted() && memory.everyRegion(MappedRegion::isSealed);
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
            return immutable && sealCompleted() && memory.everyRegion(MappedRegion::isImmutable);
        }
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
        MemorySegment view;
        synchronized (lock) {
            if (!sealCompleted()) {
                throw state == State.PART_SEALED || state == State.UNUSABLE ? frozen()
                    : new IllegalStateException("the arena is not sealed yet");
            }
            view = memory.sealedView(address, length);
        }
        if (view == null) {
            throw new IllegalArgumentException("not memory of this arena: " + Errno.hex(address) + ", " + length
                + " bytes");
        }
        return view;
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
            memory.closeBuilding();
            boolean wasSealed = state == State.SEALED;
            state = State.CLOSED;
            RuntimeException failure = memory.closeAll(wasSealed);
            if (failure != null) {
                throw failure;
            }
        }
    }

    /** The number of kernel mappings (regions) the arena has made so far; for budgets and tests. */
    int regionCount() {
        synchronized (lock) {
            return memory.regionCount();
        }
    }

    @Override
    public String toString() {
        synchronized (lock) {
            return String.format(Locale.ROOT, "SealedArena[%s, chunk %d bytes, %d regions%s]",
                immutable ? "immutable" : "anonymous", chunkSize, memory.regionsMapped(sealCompleted()),
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
}
