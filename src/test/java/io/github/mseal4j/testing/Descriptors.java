package io.github.mseal4j.testing;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;

/**
 * Test helper (not API): what any code in the process can do to file descriptors it does not own: copy one
 * ({@code dup}) and point a descriptor number at another file ({@code dup2}).
 */
public final class Descriptors {
    private static final MethodHandle DUP = Downcalls.of("dup", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle DUP2 = Downcalls.of("dup2", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));

    private Descriptors() {
    }

    /** {@code dup(fd)}: a new descriptor of the same file, or -1. */
    public static int dup(int fd) {
        try {
            return (int) DUP.invokeExact(fd);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code dup2(from, to)}: descriptor {@code to} names {@code from}'s file afterwards; {@code to}, or -1. */
    public static int dup2(int from, int to) {
        try {
            return (int) DUP2.invokeExact(from, to);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
