package io.github.mseal4j;

import java.lang.foreign.Arena;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Data that is replaced from time to time (an allow-list, a configuration, keys that rotate), in immutable memory
 * with an {@link Arena}'s lifetime, swapped so that no read ever meets freed memory and nothing leaks: each
 * generation is loaded into a fresh shared arena; a {@link #read} runs against the current generation, which stays
 * mapped until the read returns; {@link #reload()} loads the next one, makes it current, and closes the previous
 * generation's arena (unmapping its memory) as soon as the last read still in it has returned.
 *
 * {@snippet :
 * Reloadable<SealedMap> allowList = Reloadable.of(arena -> SealedMap.copyOf(readHosts(), arena));
 *
 * boolean allowed = allowList.read(hosts -> hosts.containsKey(host));   // any thread, any time
 *
 * allowList.reload();   // when the file changes: 1,000 reloads leave memory and mappings as they were
 * }
 *
 * <h2>What it guarantees</h2>
 * A read sees one generation from start to end, never a mix, and never memory of a closed arena: its generation's
 * arena closes only after it returns. A reload that fails (the loader throws) leaves the current generation as it
 * was and closes the arena of the one it was loading. Reloads are serialised; reads never wait for them (a read
 * that starts during a reload uses the generation current at its start).
 *
 * <h2>What it asks of you</h2>
 * The generation must live in the arena it is given (for example {@link SealedMap#copyOf(java.util.Map, Arena)},
 * {@link Mseal#freeze(byte[], Arena)}), and must not be used outside {@code read}: a reference kept past it works
 * until its generation is replaced, and then throws {@link IllegalStateException} (the JDK's rule for a closed
 * arena's segments; it never reads freed memory). A reader should be short: a generation replaced while a read is
 * in it stays mapped until that read returns.
 *
 * <h2>Cost</h2>
 * A read is a volatile read and two atomic updates of a counter its generation keeps (9-12 ns over a plain
 * lookup in a 1,000-entry map here, uncontended: {@code docs/benchmarks.md}); threads reading at the same moment
 * share that counter's cache line. A reload costs the load, and the close of a shared arena (a handshake with every
 * thread and the unmap, 100-130 µs for a 1,000-entry map here), done by the reload or by the last read of the
 * replaced generation.
 *
 * @param <T> what a generation holds
 */
public final class Reloadable<T> implements AutoCloseable {
    private final Function<? super Arena, ? extends T> loader;
    private final Object reloading = new Object();
    /** The current generation; null once closed. */
    private volatile Generation<T> current;
    /** A generation is being loaded (guarded by {@code reloading}): the loader may not reload or close. */
    private boolean loading;

    private Reloadable(Function<? super Arena, ? extends T> loader) {
        this.loader = loader;
    }

    /**
     * Loads the first generation now, with {@code loader}, which is given a new shared arena and returns what
     * it made in it; {@link #reload()} calls it again for each next generation.
     *
     * @param loader makes a generation in the arena it is given; must not return null, nor close the arena
     * @param <T> what a generation holds
     * @return the first generation, current
     * @throws NullPointerException if {@code loader} is null or returns null
     * @throws RuntimeException whatever {@code loader} throws (its arena is closed then)
     */
    public static <T> Reloadable<T> of(Function<? super Arena, ? extends T> loader) {
        Objects.requireNonNull(loader, "loader");
        Reloadable<T> reloadable = new Reloadable<>(loader);
        reloadable.current = reloadable.load(1);
        return reloadable;
    }

    /**
     * Runs {@code reader} on the current generation, which stays mapped until it returns, and returns what it
     * returns. Safe from any number of threads, at the same time as {@link #reload()}.
     *
     * @param reader what to do with the generation; should not keep it (see the class documentation)
     * @param <R> what the reader returns
     * @return what {@code reader} returned
     * @throws IllegalStateException if this was closed
     * @throws NullPointerException if {@code reader} is null
     */
    public <R> R read(Function<? super T, ? extends R> reader) {
        Objects.requireNonNull(reader, "reader");
        while (true) {
            Generation<T> generation = current;
            if (generation == null) {
                throw new IllegalStateException("the Reloadable is closed");
            }
            if (generation.enter()) {
                try {
                    return reader.apply(generation.value);
                } finally {
                    generation.exit();
                }
            }
            // Replaced between the two reads: the next generation is current already.
            Thread.onSpinWait();
        }
    }

    /**
     * Loads the next generation into a new shared arena, makes it current, and closes the previous generation's
     * arena once no read is in it (at once when none is). If the loader throws, nothing changes: the current
     * generation stays, and the arena given to the loader is closed.
     *
     * @throws IllegalStateException if this was closed, or this is called from the loader itself
     * @throws NullPointerException if the loader returns null
     * @throws RuntimeException whatever the loader throws
     */
    public void reload() {
        synchronized (reloading) {
            Generation<T> previous = current;
            if (previous == null) {
                throw new IllegalStateException("the Reloadable is closed");
            }
            notFromTheLoader("reload()");
            Generation<T> next;
            loading = true;
            try {
                next = load(previous.number + 1);
            } finally {
                loading = false;
            }
            current = next;
            previous.retire();
        }
    }

    /**
     * The number of the current generation: 1 for the first, one more for each successful {@link #reload()}.
     *
     * @return the generation number
     * @throws IllegalStateException if this was closed
     */
    public long generation() {
        Generation<T> generation = current;
        if (generation == null) {
            throw new IllegalStateException("the Reloadable is closed");
        }
        return generation.number;
    }

    /**
     * Closes the current generation's arena once no read is in it; reads and reloads after this throw
     * {@link IllegalStateException}. Idempotent.
     *
     * @throws IllegalStateException if called from the loader itself
     */
    @Override
    public void close() {
        synchronized (reloading) {
            notFromTheLoader("close()");
            Generation<T> last = current;
            current = null;
            if (last != null) {
                last.retire();
            }
        }
    }

    @Override
    public String toString() {
        Generation<T> generation = current;
        return generation == null ? "Reloadable[closed]" : "Reloadable[generation " + generation.number + "]";
    }

    /** The monitor is reentrant: a loader that calls back into this would undo the swap in progress. */
    private void notFromTheLoader(String call) {
        if (loading) {
            throw new IllegalStateException(call + " was called from the loader, while it loads the next generation");
        }
    }

    private Generation<T> load(long number) {
        Arena arena = Arena.ofShared();
        try {
            T value = Objects.requireNonNull(loader.apply(arena), "the loader returned null");
            return new Generation<>(value, arena, number);
        } catch (Throwable e) { // also a checked exception thrown sneakily: the arena must not leak
            try {
                arena.close();
            } catch (RuntimeException again) {
                e.addSuppressed(again);
            }
            throw e;
        }
    }

    /**
     * One generation: its value, its arena, and the reads in it, counted in {@code state} with the sign bit set
     * once it is retired (replaced or closed). No read enters a retired generation; whoever brings the state to
     * exactly "retired, no reads" (the retirement itself, or the last read to leave) closes the arena, once.
     */
    private static final class Generation<T> {
        private static final long RETIRED = Long.MIN_VALUE;
        final T value;
        final Arena arena;
        final long number;
        private final AtomicLong state = new AtomicLong();

        Generation(T value, Arena arena, long number) {
            this.value = value;
            this.arena = arena;
            this.number = number;
        }

        boolean enter() {
            for (long now = state.get(); now >= 0; now = state.get()) {
                if (state.compareAndSet(now, now + 1)) {
                    return true;
                }
            }
            return false;
        }

        void exit() {
            if (state.decrementAndGet() == RETIRED) {
                release();
            }
        }

        void retire() {
            if (state.getAndUpdate(now -> now | RETIRED) == 0) {
                release();
            }
        }

        /**
         * Closes the arena. A refusal (a segment of it is in a native call that some code started outside
         * {@code read}) is logged: the generation then stays mapped until the process exits.
         */
        private void release() {
            try {
                arena.close();
            } catch (RuntimeException e) {
                System.getLogger("io.github.mseal4j").log(System.Logger.Level.WARNING, () -> "mseal4j: generation "
                    + number + " of a Reloadable could not be closed (" + e.getMessage() + "): a segment of it is in"
                    + " use by a native call made outside read(); its memory stays mapped");
            }
        }
    }
}
