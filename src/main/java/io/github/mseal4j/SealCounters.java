package io.github.mseal4j;

import io.github.mseal4j.internal.Events;
import io.github.mseal4j.internal.LibC;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.Locale;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What the library has sealed (through the kernel) in this process, which never decreases; how much of it the
 * program no longer references; and the budget for it: the system property {@value #BUDGET_PROPERTY}. A lock
 * rather than atomics for the counters: they change once per seal, and a cold (interpreted) caller pays less for
 * an uncontended monitor than for two compare-and-set loops.
 *
 * <p>Every sealed byte belongs to one {@link Owner}: a region (and through its regions, an arena or a sealed
 * map), or a frozen copy. What keeps an owner's memory in use is weakly referenced: the object that holds it (a
 * region's pages), and the scope of every segment it hands out over it (a shared arena of its own, never closed,
 * that only those segments refer to). Once the collector has cleared all of them, the owner's sealed bytes are
 * counted as unreachable: mapped for good, and of no use. The references are counted at the next seal, or when
 * the figure is asked for: no thread of the library's own, and nothing but a weak reference on the cold path of a
 * first seal (a cleaner or an automatic arena per region doubled the cost of a process's first 4,000 seals).
 */
final class SealCounters {
    /** The system property that sets the budget for memory sealed for good: bytes, with an optional k, m or g. */
    static final String BUDGET_PROPERTY = "io.github.mseal4j.maxSealedBytes";
    private static final Object LOCK = new Object();
    private static long regions;
    private static long bytes;
    private static long unreachable;
    /** Unreachable sealed memory past this is worth one warning: data that is replaced wants an arena instead. */
    static final long UNREACHABLE_WARNING = 64L << 20;
    private static boolean warned;
    /**
     * Held by an operation that seals under a budget, from its check to its last seal, so that two cannot both
     * pass the check with room for one. Reentrant: an arena's seal holds it while each region seals.
     */
    private static final ReentrantLock BUDGET = new ReentrantLock();
    /** What a budget permit is where there is no budget: nothing to release. */
    private static final Permit NO_BUDGET = () -> { };

    private SealCounters() {
    }

    /**
     * Counts the first {@code bytes} a new owner sealed (a region's first seal, a frozen copy), and one more region;
     * returns the owner, whose memory {@code holder} keeps in use (null: only the segments it hands out will).
     */
    static Owner sealedFirst(Object holder, long bytes) {
        Owner owner = new Owner();
        synchronized (LOCK) {
            SealCounters.bytes += bytes;
            regions++;
            owner.sealed = bytes;
            if (holder != null) {
                owner.track(holder);
            }
        }
        collect();
        return owner;
    }

    /** Counts {@code bytes} more that {@code owner} sealed. */
    static void sealedMore(Owner owner, long bytes) {
        synchronized (LOCK) {
            SealCounters.bytes += bytes;
            owner.sealed += bytes;
        }
        collect();
    }

    static long regions() {
        synchronized (LOCK) {
            return regions;
        }
    }

    static long bytes() {
        synchronized (LOCK) {
            return bytes;
        }
    }

    /** The sealed bytes found unreachable so far (counting what the collector cleared since the last look). */
    static long unreachable() {
        collect();
        synchronized (LOCK) {
            return unreachable;
        }
    }

    /**
     * Waits up to {@code millis} for the collector to clear a reference to what keeps an owner's memory in use,
     * then counts; returns the unreachable count. For tests, which drop owners and run the collector: the
     * references are enqueued by the JVM's reference handler thread, after the collection.
     */
    static long awaitUnreachable(long millis) throws InterruptedException {
        Reference<?> cleared = COLLECTED.remove(millis);
        if (cleared != null) {
            count((Handle) cleared);
        }
        return unreachable();
    }

    /** Counts the owners whose last reference the collector cleared since the last call; cheap when none. */
    private static void collect() {
        for (Reference<?> cleared = COLLECTED.poll(); cleared != null; cleared = COLLECTED.poll()) {
            count((Handle) cleared);
        }
    }

    /**
     * One of an owner's references was cleared; if it was its last, the owner's sealed bytes are counted as
     * unreachable, recorded (JFR), and the first time the total passes 64 MiB, said.
     */
    private static void count(Handle cleared) {
        boolean warn;
        long more;
        long total;
        synchronized (LOCK) {
            if (!cleared.unlink()) {
                return;
            }
            Owner owner = cleared.owner;
            if (--owner.handles > 0 || owner.sealed == 0) {
                return;
            }
            more = owner.sealed;
            unreachable += more;
            total = unreachable;
            warn = !warned && total >= UNREACHABLE_WARNING;
            warned |= warn;
        }
        Events.unreachableSealed(more, total);
        if (warn) {
            System.getLogger("io.github.mseal4j").log(System.Logger.Level.WARNING, () -> String.format(Locale.ROOT,
                "mseal4j: %d MiB of sealed memory is no longer referenced by the program, yet stays mapped until the"
                + " process exits, as sealed memory must: data is being sealed for good and then replaced (a"
                + " configuration that reloads, keys that rotate). Give such data an Arena's lifetime instead:"
                + " SealedMap.copyOf(map, arena), SealedMap.builder()...build(arena), Mseal.freeze(data, arena),"
                + " or a Reloadable; it stays immutable and is unmapped when the arena closes (said once; watch"
                + " Mseal.statistics().unreachableSealedBytes())", total >> 20));
        }
    }

    /** Where the collector puts the references it cleared. */
    private static final ReferenceQueue<Object> COLLECTED = new ReferenceQueue<>();
    /**
     * The references not cleared yet, in a list through the references themselves (a reference must stay
     * reachable to be enqueued; a list costs a cold first seal less than a set would). Guarded by LOCK.
     */
    private static final Handle HANDLES = new Handle(null, null);

    static {
        HANDLES.next = HANDLES;
        HANDLES.previous = HANDLES;
    }

    /**
     * The sealed bytes of one owner (a region, a frozen copy), and how many of the things that keep them in use
     * are still reachable (weakly referenced, see the class documentation). Refers to none of them itself.
     */
    static final class Owner {
        private long sealed; // guarded by LOCK
        private int handles; // guarded by LOCK

        private Owner() {
        }

        /**
         * A segment over {@code [address, address + length)} in a scope of its own (a shared arena that nothing
         * closes), which keeps the owner counted as in use for as long as the segment, or a slice of it, is
         * reachable.
         */
        MemorySegment view(long address, long length) {
            Arena scope = Arena.ofShared();
            track(scope.scope());
            return LibC.view(address, length, scope);
        }

        private void track(Object referent) {
            synchronized (LOCK) {
                handles++;
                Handle handle = new Handle(referent, this);
                handle.next = HANDLES.next;
                handle.previous = HANDLES;
                HANDLES.next.previous = handle;
                HANDLES.next = handle;
            }
        }
    }

    /** A weak reference to one thing that keeps an owner's memory in use, linked into {@link #HANDLES}. */
    private static final class Handle extends WeakReference<Object> {
        final Owner owner;
        Handle previous; // guarded by LOCK
        Handle next; // guarded by LOCK

        Handle(Object referent, Owner owner) {
            super(referent, COLLECTED);
            this.owner = owner;
        }

        /** Takes it out of the list; false if it was out already. Called with LOCK held. */
        boolean unlink() {
            if (next == null) {
                return false;
            }
            previous.next = next;
            next.previous = previous;
            next = null;
            previous = null;
            return true;
        }
    }

    /** Held until closed by an operation about to seal memory under the budget. */
    interface Permit extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Lets an operation that will seal {@code more} bytes for good go on: where {@value #BUDGET_PROPERTY} is set,
     * only if what is sealed already and {@code more} fit within it, holding the budget until the permit is closed;
     * where it is not, at once.
     *
     * @throws IllegalStateException if {@code more} would pass the budget; nothing is changed
     * @throws IllegalArgumentException if the property is not a size
     */
    static Permit budget(long more) {
        if (more == 0) {
            return NO_BUDGET; // memory with an arena's lifetime, say: never counted
        }
        long max = Budget.max();
        if (max < 0) {
            return NO_BUDGET;
        }
        BUDGET.lock();
        long now = bytes();
        if (now + more > max) {
            BUDGET.unlock();
            throw new IllegalStateException(String.format(Locale.ROOT, "sealing %d more bytes would pass the budget"
                + " for memory sealed for good, -D%s=%s (%d bytes): %d bytes are sealed now and are never freed. Give"
                + " data that is replaced (configuration that reloads, keys that rotate) an Arena's lifetime instead"
                + " (SealedMap.copyOf(map, arena), Mseal.freeze(data, arena)), or raise the budget; nothing was changed",
                more, BUDGET_PROPERTY, Budget.VALUE, max, now));
        }
        return BUDGET::unlock;
    }

    /** Whether {@value #BUDGET_PROPERTY} is set (or invalid: the next {@link #budget} says so). */
    static boolean budgeted() {
        return Budget.VALUE != null;
    }

    /**
     * Refuses, as {@link #budget} does, {@code more} bytes that would pass the budget now, without holding it:
     * for an operation that does work before it seals, and takes the permit only around the seal.
     */
    static void checkBudget(long more) {
        budget(more).close();
    }

    /** The property, parsed once; an invalid value is kept as a message and reported at each use. */
    private static final class Budget {
        static final String VALUE = System.getProperty(BUDGET_PROPERTY);
        private static final long MAX;
        private static final String PROBLEM;

        static {
            long max = -1;
            String problem = null;
            if (VALUE != null) {
                max = parse(VALUE.strip());
                if (max < 0) {
                    problem = "-D" + BUDGET_PROPERTY + "=" + VALUE.strip() + " is not a size: a number of bytes, with"
                        + " an optional k, m or g (as -Xmx: 64m, 2g)";
                }
            }
            MAX = max;
            PROBLEM = problem;
        }

        static long max() {
            if (PROBLEM != null) {
                throw new IllegalArgumentException(PROBLEM);
            }
            return MAX;
        }

        /** {@code 123}, {@code 64k}, {@code 64M}, {@code 2g}: bytes; -1 for anything else or an overflow. */
        static long parse(String value) {
            if (value.isEmpty()) {
                return -1;
            }
            char last = Character.toLowerCase(value.charAt(value.length() - 1));
            int shift = switch (last) {
                case 'k' -> 10;
                case 'm' -> 20;
                case 'g' -> 30;
                default -> 0;
            };
            String digits = shift == 0 ? value : value.substring(0, value.length() - 1);
            if (digits.isEmpty() || !digits.chars().allMatch(Character::isDigit)) {
                return -1;
            }
            try {
                long number = Long.parseLong(digits);
                return number > Long.MAX_VALUE >> shift ? -1 : number << shift;
            } catch (NumberFormatException e) {
                return -1;
            }
        }
    }
}
