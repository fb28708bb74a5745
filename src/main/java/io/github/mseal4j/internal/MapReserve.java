package io.github.mseal4j.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The mappings kept for the JVM under {@code vm.max_map_count}. The JVM needs new mappings to live (thread
 * stacks, heap and code cache commits, malloc arenas); a process that reaches the limit through memory the
 * library sealed (which is never given back) dies in the JVM ("Native memory allocation (mmap) failed"), not
 * with an exception. So the library refuses, before any system call, an operation that could take the process
 * within {@link #reserve()} mappings of the limit.
 *
 * <p>Counting the process's mappings means reading {@code /proc/self/maps}, which costs a few hundred
 * microseconds in a small JVM and tens of milliseconds near the default limit. It is not read at every
 * operation: after a count, the library lets itself take half of the room left above the reserve before it
 * counts again (the other half is slack for what the rest of the process maps meanwhile), and counts again at
 * least once a second while it is being asked. Far from the limit a check is a few arithmetic operations; near
 * it the counts come closer together. The file is kept open once opened, and the limit
 * ({@code vm.max_map_count}) read with each count only, so neither a shortage of descriptors nor the check
 * itself costs a file open per call; where the mappings cannot be counted all the same, the last count and what
 * the library took since decide.
 */
public final class MapReserve {
    /** The system property that sets the reserve, a number of mappings; 0 turns the check off. */
    public static final String PROPERTY = "io.github.mseal4j.mappingReserve";
    /** The least default reserve; see {@link #reserve()}. */
    static final long MINIMUM = 1024;
    private static final long RECOUNT_NANOS = 1_000_000_000L;
    private static final Path MAPS = Path.of("/proc/self/maps");
    private static final Object LOCK = new Object();

    // Guarded by LOCK.
    /** {@code /proc/self/maps}, kept open once it is, so a shortage of descriptors cannot stop a count. */
    private static FileChannel maps;
    private static boolean counted;
    /** {@code vm.max_map_count} as last read (-1 before), kept where it cannot be read again. */
    private static long limit = -1;
    private static long mappings;
    private static long roomAtCount;
    private static long takenSinceCount;
    private static long countedAt;
    private static long regionsHeld;

    private MapReserve() {
    }

    /**
     * The reserve: {@value #PROPERTY} when set; otherwise {@code max(1024, vm.max_map_count / 64)}, so 1,024 at
     * the default limit of 65,530. A default JVM measured here took 40 mappings to start 20 threads and about 60
     * for a burst of threads, allocation, a full GC and JIT compilation: 1,024 leaves room for hundreds of
     * threads more.
     *
     * @throws IllegalArgumentException if the property is not a whole number of at least 0
     */
    public static long reserve() {
        if (Configured.PROBLEM != null) {
            throw new IllegalArgumentException(Configured.PROBLEM);
        }
        if (Configured.RESERVE >= 0) {
            return Configured.RESERVE;
        }
        long max;
        synchronized (LOCK) {
            if (limit < 0) {
                limit = maxMapCount();
            }
            max = limit;
        }
        return max < 0 ? MINIMUM : Math.max(MINIMUM, max / 64);
    }

    /**
     * Refuses, with an {@link IllegalStateException} that names the limit, the mappings in use and the library's
     * share, an operation of {@code operation} that may add up to {@code newMappings} mappings to the process when
     * that could leave fewer than {@link #reserve()} below {@code vm.max_map_count}. Where the mappings cannot be
     * counted ({@code /proc} unreadable), lets it through: the kernel's own ENOMEM then reports the limit.
     *
     * @param sealedRegions how many regions the library has sealed, for the message only
     */
    public static void ensureRoom(String operation, int newMappings, LongSupplier sealedRegions) {
        long reserve = reserve();
        if (reserve == 0) {
            return;
        }
        synchronized (LOCK) {
            long now = System.nanoTime();
            if (counted && now - countedAt < RECOUNT_NANOS
                    && takenSinceCount + newMappings <= (roomAtCount - reserve) / 2) {
                takenSinceCount += newMappings;
                return;
            }
            if (!count(now)) {
                // Not counted just now (no descriptor left for /proc, say): go by the last count and what the
                // library took since, which is all that can be known; with no count ever, nothing can be.
                if (counted && roomAtCount - takenSinceCount - newMappings < reserve) {
                    throw refusal(operation, reserve, sealedRegions.getAsLong());
                }
                takenSinceCount += newMappings;
                return;
            }
            if (roomAtCount - newMappings < reserve) {
                throw refusal(operation, reserve, sealedRegions.getAsLong());
            }
            takenSinceCount = newMappings;
        }
    }

    /** A region was mapped. */
    public static void mapped() {
        synchronized (LOCK) {
            regionsHeld++;
        }
    }

    /** A region was unmapped whole. */
    public static void unmapped() {
        synchronized (LOCK) {
            regionsHeld--;
        }
    }

    /** Counts the process's mappings and reads the limit again; false when they cannot be counted. */
    private static boolean count(long now) {
        long max = maxMapCount();
        if (max >= 0) {
            limit = max;
        }
        long lines = countMappings();
        if (limit < 0 || lines < 0) {
            return false;
        }
        counted = true;
        countedAt = now;
        mappings = lines;
        roomAtCount = limit - lines;
        takenSinceCount = 0;
        return true;
    }

    private static IllegalStateException refusal(String operation, long reserve, long sealed) {
        return new IllegalStateException(String.format(Locale.ROOT, "%s refused before the process reaches"
            + " vm.max_map_count (%d mappings): %d are in use, and mseal4j holds %d regions of them (%d sealed, which"
            + " are never given back; a region is one mapping or a few); the last %d are kept for the JVM, which dies"
            + " when it cannot map memory for a thread, its heap or its code (-D%s=%d). Close regions and arenas that"
            + " are not sealed, seal fewer and larger things (a SealedArena packs many values into few mappings; an"
            + " arena's lifetime frees them), or raise the limit: sysctl -w vm.max_map_count=<more>; nothing was"
            + " changed", operation, limit, mappings, regionsHeld, sealed, reserve, PROPERTY, reserve));
    }

    /** The number of lines of {@code /proc/self/maps}, read from its start through the descriptor kept; or -1. */
    private static long countMappings() {
        try {
            if (maps == null) {
                maps = FileChannel.open(MAPS, StandardOpenOption.READ);
            }
            ByteBuffer buffer = ByteBuffer.allocate(64 << 10);
            long lines = 0;
            long position = 0;
            for (int read; (read = maps.read(buffer.clear(), position)) > 0; position += read) {
                for (int i = 0; i < read; i++) {
                    if (buffer.get(i) == '\n') {
                        lines++;
                    }
                }
            }
            return lines;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private static long maxMapCount() {
        try {
            return Long.parseLong(Errno.maxMapCount());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** The property, parsed once; an invalid value is kept as a message and reported at each use. */
    private static final class Configured {
        static final long RESERVE;
        static final String PROBLEM;

        static {
            String value = System.getProperty(PROPERTY);
            long reserve = -1;
            String problem = null;
            if (value != null) {
                try {
                    reserve = Long.parseLong(value.strip());
                } catch (NumberFormatException e) {
                    reserve = -2;
                }
                if (reserve < 0) {
                    problem = "-D" + PROPERTY + "=" + value.strip() + " is not a number of mappings (0 or more;"
                        + " 0 turns the reserve off)";
                    reserve = -1;
                }
            }
            RESERVE = reserve;
            PROBLEM = problem;
        }
    }
}
