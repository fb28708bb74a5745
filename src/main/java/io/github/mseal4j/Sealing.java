package io.github.mseal4j;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

/** Where the {@link SealPolicy} is decided: whether a seal goes to the kernel, is refused, or is degraded. */
final class Sealing {
    private static final System.Logger LOG = System.getLogger("io.github.mseal4j");
    private static final AtomicBoolean WARNED = new AtomicBoolean();

    private Sealing() {
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
            LOG.log(System.Logger.Level.WARNING, "mseal4j: memory is made read-only where asked but NOT sealed, because "
                + support.reason() + "; the policy is best-effort (-D" + SealPolicy.PROPERTY + "=best-effort)");
        }
        return false;
    }

    /** The property, parsed once; an unknown value is kept as a message and reported at each use. */
    private static final class Configured {
        static final SealPolicy POLICY;
        static final String PROBLEM;

        static {
            String value = System.getProperty(SealPolicy.PROPERTY, "strict").strip();
            SealPolicy policy = null;
            for (SealPolicy candidate : SealPolicy.values()) {
                if (candidate.propertyValue().equals(value.toLowerCase(Locale.ROOT))) {
                    policy = candidate;
                }
            }
            POLICY = policy;
            PROBLEM = policy != null ? null : "-D" + SealPolicy.PROPERTY + "=" + value
                + " is not a seal policy; use strict (the default) or best-effort";
        }
    }
}
