package io.github.mseal4j;

import io.github.mseal4j.internal.LibC;
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

    private static final class Probe {
        static final SealSupport RESULT = SupportProbe.probe();
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
