package io.github.mseal4j.benchmarks;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The floor the freeze benchmarks compare the library with: what a program that knows the recipe would call,
 * through its own downcall handles (errno captured, as the library's are), and nothing else: {@code memfd_create},
 * {@code ftruncate}, {@code pwrite}, {@code fcntl(F_ADD_SEALS)}, {@code mmap(PROT_READ, MAP_SHARED)}, {@code mseal}
 * (sealed only), {@code close}; {@code munmap} for the unsealed one. No check that any call did what it said, no
 * budget, no mapping reserve, no verdict: a freeze that trusts every answer.
 */
final class BareFreeze {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");
    private static final MethodHandle MEMFD_CREATE = link("memfd_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle FTRUNCATE = link("ftruncate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle PWRITE = link("pwrite",
        FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle FCNTL = LINKER.downcallHandle(LINKER.defaultLookup().find("fcntl").orElseThrow(),
        FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), ERRNO, Linker.Option.firstVariadicArg(2));
    private static final MethodHandle MMAP = link("mmap",
        FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = link("munmap", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle CLOSE = link("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle SYSCALL = LINKER.downcallHandle(LINKER.defaultLookup().find("syscall").orElseThrow(),
        FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), ERRNO,
        Linker.Option.firstVariadicArg(1));
    private static final int MFD_CLOEXEC = 1;
    private static final int MFD_ALLOW_SEALING = 2;
    private static final int F_ADD_SEALS = 1033;
    private static final int SEALS = 1 | 2 | 4 | 8; // SEAL, SHRINK, GROW, WRITE
    private static final long PAGE = 4096;

    private final Arena arena = Arena.ofAuto();
    private final MemorySegment capture = arena.allocate(Linker.Option.captureStateLayout());
    private final MemorySegment name = arena.allocateFrom("bare");
    private final MemorySegment buffer = arena.allocate(PAGE);

    private static MethodHandle link(String symbol, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(symbol).orElseThrow(), descriptor, ERRNO);
    }

    /** Freezes {@code data} (at most a page); returns the mapping's address. Sealed: never unmapped. */
    long freeze(byte[] data, boolean seal) throws Throwable {
        int fd = (int) MEMFD_CREATE.invokeExact(capture, name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
        check(fd);
        check((int) FTRUNCATE.invokeExact(capture, fd, PAGE));
        MemorySegment.copy(MemorySegment.ofArray(data), 0, buffer, 0, data.length);
        check((int) (long) PWRITE.invokeExact(capture, fd, buffer, (long) data.length, 0L));
        check((int) FCNTL.invokeExact(capture, fd, F_ADD_SEALS, SEALS));
        long address = (long) MMAP.invokeExact(capture, 0L, PAGE, 1, 1, fd, 0L);
        check(address < 0 ? -1 : 0);
        if (seal) {
            check((int) (long) SYSCALL.invokeExact(capture, 462L, address, PAGE, 0L));
        }
        check((int) CLOSE.invokeExact(capture, fd));
        return address;
    }

    /** Unmaps what an unsealed freeze mapped. */
    void unmap(long address) throws Throwable {
        check((int) MUNMAP.invokeExact(capture, address, PAGE));
    }

    private static void check(int result) {
        if (result < 0) {
            throw new IllegalStateException("a system call failed");
        }
    }
}
