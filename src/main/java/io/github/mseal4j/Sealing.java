package io.github.mseal4j;

import java.util.concurrent.atomic.AtomicBoolean;

/** Where the {@link SealPolicy} is decided: whether a seal goes to the kernel, is refused, or is degraded. */
final class Sealing {
    private static final AtomicBoolean WARNED = new AtomicBoolean();
    private static final AtomicBoolean WARNED_IMMUTABLE = new AtomicBoolean();

    private Sealing() {
    }

    /**
     * The library's logger, asked for when something is to be logged: not in a static field, as getting one
     * starts the JDK's logging machinery, which a process's first call into the library should not pay for.
     */
    static System.Logger log() {
        return System.getLogger("io.github.mseal4j");
    }

    /** The policy {@link SealPolicy#PROPERTY} names. */
    static SealPolicy policy() {
        if (Configured.POLICY == null) {
            throw new IllegalArgumentException(Configured.PROBLEM);
        }
        return Configured.POLICY;
    }

    /**
     * Whether the kernel will seal: true where mseal works. Elsewhere, under {@link SealPolicy#STRICT}, throws
     * {@link UnsupportedOperationException} with the reason; under {@link SealPolicy#BEST_EFFORT}, warns once
     * per process and returns false.
     *
     * @throws IllegalArgumentException if the policy property names no policy
     */
    static boolean byKernel() {
        SealPolicy policy = policy();
        SealSupport support = Mseal.support();
        if (support.available()) {
            return true;
        }
        if (policy == SealPolicy.STRICT) {
            throw new UnsupportedOperationException("cannot seal: " + support.reason());
        }
        if (WARNED.compareAndSet(false, true)) {
            Sealing.log().log(System.Logger.Level.WARNING, "mseal4j: memory is made read-only where asked but NOT sealed, because "
                + support.reason() + "; the policy is best-effort (-D" + SealPolicy.PROPERTY + "=best-effort)");
        }
        return false;
    }

    /**
     * How a description ({@code toString}, messages) names memory the library sealed: "sealed" where mseal
     * works; under the best-effort policy on a host without it, such memory is only treated as sealed (read-only
     * where asked, never re-protected or unmapped), and is never called sealed.
     */
    static String sealedLabel() {
        return Mseal.support().available() ? "sealed" : "NOT sealed (no mseal here: best-effort)";
    }

    /**
     * Whether an explicit {@link MappingOption#IMMUTABLE} gets immutable memory: true where
     * {@link Mseal#immutability()} is available. Elsewhere, under {@link SealPolicy#STRICT}, throws
     * {@link UnsupportedOperationException} with the reason; under {@link SealPolicy#BEST_EFFORT}, warns once per
     * process and returns false (ordinary memory instead).
     *
     * @throws IllegalArgumentException if the policy property names no policy
     */
    static boolean immutableOrFallBack() {
        if (Mseal.immutableExpected()) {
            return true; // available, or a passing shortage that the memfd call will report itself
        }
        SealSupport immutability = Mseal.immutability();
        if (policy() == SealPolicy.STRICT) {
            throw new UnsupportedOperationException("cannot map immutable memory: " + immutability.reason());
        }
        if (WARNED_IMMUTABLE.compareAndSet(false, true)) {
            Sealing.log().log(System.Logger.Level.WARNING, "mseal4j: memory asked to be IMMUTABLE is ordinary memory instead,"
                + " because " + immutability.reason() + "; the policy is best-effort (-D" + SealPolicy.PROPERTY
                + "=best-effort)");
        }
        return false;
    }

    /** The property, parsed once; an unknown value is kept as a message and reported at each use. */
    private static final class Configured {
        static final SealPolicy POLICY;
        static final String PROBLEM;

        static {
            SealPolicy policy = null;
            String problem = null;
            try {
                policy = SealPolicy.parse(System.getProperty(SealPolicy.PROPERTY, "strict"));
            } catch (IllegalArgumentException e) {
                problem = e.getMessage();
            }
            POLICY = policy;
            PROBLEM = problem;
        }
    }
}
