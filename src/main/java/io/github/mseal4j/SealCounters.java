package io.github.mseal4j;

import io.github.mseal4j.internal.Events;
import io.github.mseal4j.internal.LibC;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What the library has sealed (through the kernel) in this process, which never decreases; how much of it the
 * program no longer references; and the budget for it: the system property {@value #BUDGET_PROPERTY}. A lock
 * rather than atomics for the counters: they change once per seal, and a cold (interpreted) caller pays less for
 * an uncontended monitor than for two compare-and-set loops.
 *
 * <p>Every sealed byte belongs to one {@link Owner}: a region (and through its regions, an arena or a sealed
 * map), or a frozen copy. An owner's scope is an automatic arena that everything reaching the memory keeps
 * reachable (the owner, and every segment it hands out over the sealed memory); once the garbage collector finds
 * it unreachable, the owner's sealed bytes are counted as unreachable: mapped for good, and of no use.
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

    /** Counts {@code bytes} newly sealed, and one more region if this is the region's first seal. */
    static void sealed(long bytes, boolean firstForRegion) {
        synchronized (LOCK) {
            SealCounters.bytes += bytes;
            if (firstForRegion) {
                regions++;
            }
        }
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

    static long unreachable() {
        synchronized (LOCK) {
            return unreachable;
        }
    }

    /**
     * Waits up to {@code millis} for the unreachable count to change from {@code seen}; for tests, which make
     * owners unreachable and run the collector, and must then wait for the cleaner's thread.
     */
    static long awaitUnreachable(long seen, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        synchronized (LOCK) {
            for (long left = millis; unreachable == seen && left > 0;
                 left = (deadline - System.nanoTime()) / 1_000_000) {
                LOCK.wait(left);
            }
            return unreachable;
        }
    }

    /** An owner's sealed bytes became unreachable: counted, and the first time the total passes 64 MiB, said. */
    private static void becameUnreachable(long more) {
        if (more == 0) {
            return;
        }
        boolean warn;
        long total;
        synchronized (LOCK) {
            unreachable += more;
            total = unreachable;
            warn = !warned && total >= UNREACHABLE_WARNING;
            warned |= warn;
            LOCK.notifyAll();
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

    /**
     * The sealed bytes of one owner (a region, a frozen copy), and the scope that keeps them counted as reachable:
     * the owner holds it, and makes every segment it hands out over its sealed memory in it. Made at the owner's
     * first seal; never closed (sealed memory is never unmapped): the garbage collector retires it.
     */
    static final class Owner {
        private final AtomicLong sealed = new AtomicLong();
        private final Arena scope = Arena.ofAuto();

        Owner() {
            AtomicLong counted = sealed; // not this: the action must not keep the scope reachable
            LibC.onClose(scope, () -> becameUnreachable(counted.get()));
        }

        /** {@code more} bytes of the owner were newly sealed. */
        void sealed(long more) {
            sealed.addAndGet(more);
        }

        /** A segment over {@code [address, address + length)} that keeps the owner reachable while it is. */
        MemorySegment view(long address, long length) {
            return LibC.view(address, length, scope);
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
