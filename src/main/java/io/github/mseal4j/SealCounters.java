package io.github.mseal4j;

/**
 * What the library has sealed (through the kernel) in this process: never decreases. A lock rather than
 * atomics: the counters change once per seal, and a cold (interpreted) caller pays less for an uncontended
 * monitor than for two compare-and-set loops.
 */
final class SealCounters {
    private static final Object LOCK = new Object();
    private static long regions;
    private static long bytes;

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
}
