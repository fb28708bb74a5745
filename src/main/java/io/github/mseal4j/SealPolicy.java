package io.github.mseal4j;

/**
 * What sealing does where mseal is not available (see {@link Mseal#support()}), chosen with the system
 * property {@value #PROPERTY}: {@code strict} (the default) or {@code best-effort}.
 *
 * <p>Best-effort covers hosts where the library can still map memory but the kernel will not seal it:
 * {@code KERNEL_TOO_OLD}, {@code BLOCKED_BY_POLICY}, {@code UNKNOWN_ARCHITECTURE} and {@code PROBE_FAILED}.
 * It cannot help where nothing can be mapped at all: with {@code NATIVE_ACCESS_DISABLED}, {@code NOT_LINUX}
 * or {@code NOT_64_BIT}, every call throws {@link UnsupportedOperationException} under either policy. An
 * invalid value makes every sealing call throw {@link IllegalArgumentException}, even where mseal works, so
 * a typo is found on the first run rather than on the first host without mseal.
 */
public enum SealPolicy {
    /**
     * {@code seal()}, {@code sealReadOnly()}, {@code SealedArena.seal()} and {@code SealedMap.Builder.build()}
     * throw {@link UnsupportedOperationException} with the reason. Nothing pretends to be sealed.
     */
    STRICT,
    /**
     * The same calls apply every protection (read-only stays read-only) and return normally, but the kernel
     * has not sealed anything: {@code isSealed()} stays false. The library treats such memory as if sealed
     * (it never re-protects or unmaps it, so views of it stay valid), and logs one warning per process
     * through {@link System.Logger} ({@code io.github.mseal4j}) saying that memory is protected but not
     * sealed, and why.
     */
    BEST_EFFORT;

    /** The system property that chooses the policy. */
    public static final String PROPERTY = "io.github.mseal4j.policy";

    /** The property's value for this policy. */
    String propertyValue() {
        return this == STRICT ? "strict" : "best-effort";
    }

    /**
     * The policy a value of {@value #PROPERTY} names: {@code strict} or {@code best-effort}, in any case, with
     * surrounding blanks ignored. Lets a launcher or a health check validate a configuration up front.
     *
     * @param value the property's value
     * @return the policy
     * @throws IllegalArgumentException if {@code value} names no policy; the message lists the valid ones
     * @throws NullPointerException if {@code value} is null
     */
    public static SealPolicy parse(String value) {
        String wanted = value.strip().toLowerCase(java.util.Locale.ROOT);
        for (SealPolicy candidate : values()) {
            if (candidate.propertyValue().equals(wanted)) {
                return candidate;
            }
        }
        throw new IllegalArgumentException("-D" + PROPERTY + "=" + value.strip()
            + " is not a seal policy; use strict (the default) or best-effort");
    }
}
