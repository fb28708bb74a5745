package io.github.mseal4j;

import java.util.concurrent.atomic.AtomicLong;

/** What the library has sealed (through the kernel) in this process: never decreases. */
final class SealCounters {
    private static final AtomicLong REGIONS = new AtomicLong();
    private static final AtomicLong BYTES = new AtomicLong();

    private SealCounters() {
    }

    /** Counts {@code bytes} newly sealed, and one more region if this is the region's first seal. */
    static void sealed(long bytes, boolean firstForRegion) {
        BYTES.addAndGet(bytes);
        if (firstForRegion) {
            REGIONS.incrementAndGet();
        }
    }

    static long regions() {
        return REGIONS.get();
    }

    static long bytes() {
        return BYTES.get();
    }
}
