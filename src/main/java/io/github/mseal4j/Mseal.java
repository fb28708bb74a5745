package io.github.mseal4j;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.Smaps;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import io.github.mseal4j.internal.SupportProbe;

/**
 * Entry point: whether sealing works here, and the page size everything is measured in.
 *
 * {@snippet :
 * if (!Mseal.isSupported()) {
 *     System.err.println("memory will not be sealed: " + Mseal.support().reason());
 * }
 * }
 */
public final class Mseal {

    private Mseal() {
    }

    /**
     * Whether {@code mseal(2)} works in this JVM, and why not. Probed once per process, on first use, with
     * {@code mseal(NULL, 0, 0)}: a call the kernel answers without sealing anything. Never throws.
     *
     * @return the probe's verdict
     */
    public static SealSupport support() {
        return Probe.RESULT;
    }

    /**
     * Whether sealing works here.
     *
     * @return {@code support().available()}
     */
    public static boolean isSupported() {
        return support().available();
    }

    /**
     * The size of a page, as {@code sysconf(_SC_PAGESIZE)} reports it at run time: 4096 on x86_64, but 4, 16
     * or 64 KiB on aarch64. Offsets and lengths given to {@link MappedRegion} are multiples of it.
     *
     * @return the page size in bytes
     * @throws UnsupportedOperationException when native calls are impossible here (not Linux, or native
     *     access not enabled); the message says why
     */
    public static long pageSize() {
        if (PageSize.VALUE <= 0) {
            throw new UnsupportedOperationException(PageSize.PROBLEM);
        }
        return PageSize.VALUE;
    }

    /**
     * The policy for hosts without mseal, from the system property {@value SealPolicy#PROPERTY}.
     *
     * @return {@link SealPolicy#STRICT} unless the property says {@code best-effort}
     * @throws IllegalArgumentException if the property names no policy; the message lists the valid ones
     */
    public static SealPolicy policy() {
        return Sealing.policy();
    }

    /**
     * What this process has sealed so far, and its mapping headroom. Reads {@code /proc/self/smaps} and
     * {@code /proc/self/maps}, so it costs a few milliseconds: for monitoring, not hot paths.
     *
     * @return the current figures
     */
    public static SealStatistics statistics() {
        long sealedMappings = -1;
        long mappings = -1;
        try {
            sealedMappings = Smaps.read(0, Long.MAX_VALUE).stream().filter(Smaps.Vma::sealed).count();
            try (var lines = Files.lines(Path.of("/proc/self/maps"))) {
                mappings = lines.count();
            }
        } catch (IOException | RuntimeException e) {
            // Not Linux, or /proc unavailable: report what is known.
        }
        long maxMapCount;
        try {
            maxMapCount = Long.parseLong(Errno.maxMapCount());
        } catch (NumberFormatException e) {
            maxMapCount = -1;
        }
        return new SealStatistics(SealCounters.regions(), SealCounters.bytes(), sealedMappings, mappings, maxMapCount);
    }

    private static final class Probe {
        static final SealSupport RESULT = SupportProbe.probe();

        static {
            System.getLogger("io.github.mseal4j").log(System.Logger.Level.DEBUG, "mseal probe: {0}: {1}",
                RESULT.status(), RESULT.reason());
        }
    }

    /** Asked once; a failure is kept and reported at each call, never thrown from class initialisation. */
    private static final class PageSize {
        static final long VALUE;
        static final String PROBLEM;

        static {
            long value = -1;
            String problem = null;
            try {
                value = LibC.pageSize();
            } catch (RuntimeException e) {
                problem = e.getMessage();
            }
            VALUE = value;
            PROBLEM = problem;
        }
    }
}
