package io.github.mseal4j.internal;

import java.lang.foreign.ValueLayout;

/**
 * Whether native calls can be made here at all (Linux, a 64-bit JVM, native access granted to the library), asked
 * once, without linking anything: every entry point asks it first, so that a process without the grant hears so at
 * its first call into the library, in its own terms, rather than after work it cannot finish.
 */
public final class Platform {
    /** Why no native call can be made here, or null when they can. */
    static final String UNAVAILABLE = check();

    private Platform() {
    }

    /**
     * Refuses, where no native call can be made here, with the reason and the remedy (for missing native access:
     * the flag, and where it goes for the launcher this JVM was started by).
     *
     * @throws UnsupportedOperationException if native calls are impossible here
     */
    public static void requireNativeCalls() {
        if (UNAVAILABLE != null) {
            throw new UnsupportedOperationException(UNAVAILABLE);
        }
    }

    private static String check() {
        String os = System.getProperty("os.name", "");
        if (!os.equals("Linux")) {
            return "mseal4j needs Linux; this is " + os;
        }
        if (ValueLayout.ADDRESS.byteSize() != 8) {
            return "mseal4j needs a 64-bit JVM and kernel; this JVM has " + ValueLayout.ADDRESS.byteSize() * 8
                + "-bit addresses";
        }
        return NativeAccessGrant.problem(Platform.class.getModule()).orElse(null);
    }
}
