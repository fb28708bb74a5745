package io.github.mseal4j.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mseal4j.internal.Smaps;
import java.util.List;
import java.util.Locale;

/**
 * Sealed memory can never be freed, so the whole test suite shares one budget, measured from the kernel:
 * the sealed mappings of this JVM, from {@code /proc/self/smaps}.
 */
public final class SealBudget {
    /** At most this many sealed bytes in the test JVM. */
    public static final long MAX_BYTES = 48L << 20;
    /** At most this many sealed mappings in the test JVM. */
    public static final int MAX_MAPPINGS = 5_000;

    /** What this process has sealed so far. */
    public record Usage(long bytes, int mappings) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%d sealed mappings, %.1f MiB", mappings, bytes / 1048576.0);
        }
    }

    private SealBudget() {
    }

    /** The sealed mappings of this process now. */
    public static Usage usage() {
        List<Smaps.Vma> sealed = Smaps.read(0, Long.MAX_VALUE).stream().filter(Smaps.Vma::sealed).toList();
        return new Usage(sealed.stream().mapToLong(vma -> vma.end() - vma.start()).sum(), sealed.size());
    }

    /** Fails when the suite has sealed more than its budget; prints the usage either way. */
    public static void check(String after) {
        Usage usage = usage();
        System.out.println("seal budget after " + after + ": " + usage);
        assertTrue(usage.bytes() <= MAX_BYTES && usage.mappings() <= MAX_MAPPINGS,
            "the test JVM has sealed " + usage + ", over the budget of " + MAX_MAPPINGS + " mappings and "
                + (MAX_BYTES >> 20) + " MiB: sealed memory is never freed, so keep what tests seal small");
    }
}
