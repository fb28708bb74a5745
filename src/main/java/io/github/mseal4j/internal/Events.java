package io.github.mseal4j.internal;

import java.util.Optional;

/**
 * JDK Flight Recorder events, so that an operator can see in a recording what was sealed or re-protected,
 * where and how large, and which system calls failed. Enabled like any event, e.g.
 * {@code -XX:StartFlightRecording} with the default settings, or by name ({@code io.github.mseal4j.*}).
 *
 * <p>{@code jdk.jfr} is optional ({@code requires static}): in a runtime without it (a {@code jlink} image of
 * {@code java.base} and this module), or on the module path without {@code --add-modules jdk.jfr}, every
 * method here returns at once and no JFR class is ever loaded.
 */
public final class Events {
    private static final boolean RECORDING = jfrReadable();

    private Events() {
    }

    /** Records that {@code [address, address + length)} became sealed. */
    public static void sealed(long address, long length, boolean byKernel) {
        if (RECORDING) {
            JfrEvents.sealed(address, length, byKernel);
        }
    }

    /** Records that {@code [address, address + length)} changed protection. */
    public static void protectionChanged(long address, long length, String protection) {
        if (RECORDING) {
            JfrEvents.protectionChanged(address, length, protection);
        }
    }

    /**
     * Records that {@code bytes} of sealed memory became unreachable (mapped for good, of no use), making
     * {@code total}.
     */
    public static void unreachableSealed(long bytes, long total) {
        if (RECORDING) {
            JfrEvents.unreachableSealed(bytes, total);
        }
    }

    /** Records a failed system call. */
    public static void failed(String operation, long address, long length, int errno) {
        if (RECORDING) {
            JfrEvents.failed(operation, address, length, errno);
        }
    }

    /** True when {@code jdk.jfr} is in the runtime and this module reads it. */
    public static boolean available() {
        return RECORDING;
    }

    private static boolean jfrReadable() {
        Optional<Module> jfr = ModuleLayer.boot().findModule("jdk.jfr");
        return jfr.isPresent() && Events.class.getModule().canRead(jfr.get());
    }
}
