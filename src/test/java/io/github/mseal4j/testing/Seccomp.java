package io.github.mseal4j.testing;

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
 * Test helper (not API): installs a seccomp filter on the whole process that answers {@code mseal} with an
 * errno, so a child JVM can play a host whose kernel lacks mseal (ENOSYS) or whose policy forbids it
 * (EPERM), with nothing faked in the library. {@code prctl(PR_SET_NO_NEW_PRIVS)}, then
 * {@code seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog)} with a six-instruction BPF program.
 * Irreversible for the process: use it only in child JVMs.
 */
@SuppressWarnings("restricted") // test code of its own; the library's single native seam is internal.LibC
public final class Seccomp {
    private static final int PR_SET_NO_NEW_PRIVS = 38;
    private static final int SECCOMP_SET_MODE_FILTER = 1;
    private static final int SECCOMP_FILTER_FLAG_TSYNC = 1;
    private static final int SECCOMP_RET_ERRNO = 0x0005_0000;
    private static final int SECCOMP_RET_ALLOW = 0x7fff_0000;
    private static final short BPF_LD_W_ABS = 0x20;
    private static final short BPF_JMP_JEQ_K = 0x15;
    private static final short BPF_RET_K = 0x06;
    /** Offsets in struct seccomp_data: int nr; __u32 arch; ... */
    private static final int DATA_NR = 0;
    private static final int DATA_ARCH = 4;
    private static final int SYS_MSEAL = 462;

    private Seccomp() {
    }

    /** Makes every later {@code mseal} in this process, on every thread, fail with {@code errno}. */
    public static void denyMseal(int errno) {
        String arch = System.getProperty("os.arch");
        // AUDIT_ARCH_* from uapi/linux/audit.h, and the seccomp system call number of each architecture.
        int auditArch = switch (arch) {
            case "amd64" -> 0xC000_003E;
            case "aarch64" -> 0xC000_00B7;
            default -> throw new UnsupportedOperationException("no seccomp helper for " + arch);
        };
        long sysSeccomp = arch.equals("amd64") ? 317 : 277;

        Linker linker = Linker.nativeLinker();
        MethodHandle syscall = linker.downcallHandle(linker.defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1));
        MethodHandle prctl = linker.downcallHandle(linker.defaultLookup().find("prctl").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1));

        Arena arena = Arena.global();
        MemorySegment filter = arena.allocate(8L * 6, 8);
        instruction(filter, 0, BPF_LD_W_ABS, 0, 0, DATA_ARCH);
        instruction(filter, 1, BPF_JMP_JEQ_K, 0, 3, auditArch);            // other ABI: allow
        instruction(filter, 2, BPF_LD_W_ABS, 0, 0, DATA_NR);
        instruction(filter, 3, BPF_JMP_JEQ_K, 0, 1, SYS_MSEAL);
        instruction(filter, 4, BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | (errno & 0xffff));
        instruction(filter, 5, BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW);
        MemorySegment program = arena.allocate(16, 8);                       // struct sock_fprog
        program.set(JAVA_SHORT, 0, (short) 6);
        program.set(JAVA_LONG, 8, filter.address());
        try {
            int noNewPrivs = (int) prctl.invokeExact(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L);
            long installed = (long) syscall.invokeExact(sysSeccomp, (long) SECCOMP_SET_MODE_FILTER,
                (long) SECCOMP_FILTER_FLAG_TSYNC, program.address());
            if (noNewPrivs != 0 || installed != 0) {
                throw new IllegalStateException("seccomp filter not installed: prctl " + noNewPrivs
                    + ", seccomp " + installed);
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** Writes struct sock_filter {u16 code; u8 jt; u8 jf; u32 k;} number {@code index}. */
    private static void instruction(MemorySegment filter, int index, short code, int jt, int jf, int k) {
        long at = index * 8L;
        filter.set(JAVA_SHORT, at, code);
        filter.set(JAVA_BYTE, at + 2, (byte) jt);
        filter.set(JAVA_BYTE, at + 3, (byte) jf);
        filter.set(JAVA_INT, at + 4, k);
    }
}
