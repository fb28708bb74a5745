package io.github.mseal4j;

/**
 * What sealing does where mseal is not available (see {@link Mseal#support()}), chosen with the system
 * property {@value #PROPERTY}: {@code strict} (the default) or {@code best-effort}.
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
}
