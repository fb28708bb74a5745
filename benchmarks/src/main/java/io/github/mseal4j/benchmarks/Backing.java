package io.github.mseal4j.benchmarks;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The memory behind maps and arenas: {@code immutable} (a memfd, the default where it works) or
 * {@code anonymous} (what the library falls back to). To measure the fallback on a host that has immutable
 * memory, the benchmark's fork installs a seccomp filter that answers {@code memfd_create} with EPERM before
 * the library first asks, exactly as a container profile would; nothing in the library is switched.
 */
final class Backing {
    private Backing() {
    }

    /** Makes {@code backing} the one the library will choose in this JVM; call before it probes. */
    static void use(String backing) {
        switch (backing) {
            case "immutable" -> {
            }
            case "anonymous" -> denyMemfdCreate();
            default -> throw new IllegalArgumentException(backing);
        }
    }

    @SuppressWarnings("restricted")
    private static void denyMemfdCreate() {
        boolean x86 = System.getProperty("os.arch").equals("amd64");
        int auditArch = x86 ? 0xC000_003E : 0xC000_00B7;
        int memfdCreate = x86 ? 319 : 279;
        long sysSeccomp = x86 ? 317 : 277;
        int[][] program = { // {code, jt, jf, k}: load arch; other ABI -> allow; load nr; memfd_create -> EPERM
            {0x20, 0, 0, 4}, {0x15, 0, 3, auditArch}, {0x20, 0, 0, 0}, {0x15, 0, 1, memfdCreate},
            {0x06, 0, 0, 0x0005_0000 | 1}, {0x06, 0, 0, 0x7fff_0000}};
        Linker linker = Linker.nativeLinker();
        MethodHandle syscall = linker.downcallHandle(linker.defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1));
        MethodHandle prctl = linker.downcallHandle(linker.defaultLookup().find("prctl").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1));
        MemorySegment filter = Arena.global().allocate(8L * program.length, 8);
        for (int i = 0; i < program.length; i++) {
            filter.set(JAVA_SHORT, i * 8L, (short) program[i][0]);
            filter.set(JAVA_BYTE, i * 8L + 2, (byte) program[i][1]);
            filter.set(JAVA_BYTE, i * 8L + 3, (byte) program[i][2]);
            filter.set(JAVA_INT, i * 8L + 4, program[i][3]);
        }
        MemorySegment fprog = Arena.global().allocate(16, 8);
        fprog.set(JAVA_SHORT, 0, (short) program.length);
        fprog.set(JAVA_LONG, 8, filter.address());
        try {
            if ((int) prctl.invokeExact(38, 1L, 0L, 0L, 0L) != 0
                || (long) syscall.invokeExact(sysSeccomp, 1L, 1L, fprog.address()) != 0) {
                throw new IllegalStateException("seccomp filter not installed");
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
