package io.github.mseal4j.benchmarks;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The floor the seal benchmarks compare the library with: {@code syscall(462, address, length, 0)} through a
 * downcall handle that captures errno, as the library's own call does, and nothing else.
 */
final class BareMseal {
    private static final MethodHandle SYSCALL = Linker.nativeLinker().downcallHandle(
        Linker.nativeLinker().defaultLookup().find("syscall").orElseThrow(),
        FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
        Linker.Option.captureCallState("errno"), Linker.Option.firstVariadicArg(1));

    private final MemorySegment capture = Arena.ofAuto().allocate(Linker.Option.captureStateLayout());

    /** Seals {@code [address, address + length)}; 0, or an exception if the kernel refused. */
    long seal(long address, long length) throws Throwable {
        long result = (long) SYSCALL.invokeExact(capture, 462L, address, length, 0L);
        if (result != 0) {
            throw new IllegalStateException("mseal failed");
        }
        return result;
    }
}
