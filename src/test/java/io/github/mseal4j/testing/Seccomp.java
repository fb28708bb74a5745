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
import java.util.ArrayList;
import java.util.List;

/**
 * Test helper (not API): installs a seccomp filter on the whole process that answers chosen system calls with
 * an errno, so a child JVM can play a host whose kernel lacks a call (ENOSYS) or whose policy forbids it
 * (EPERM), with nothing faked in the library. {@code prctl(PR_SET_NO_NEW_PRIVS)}, then
 * {@code seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog)} with a small BPF program.
 * Irreversible for the process: use it only in child JVMs. The filter holds for every thread, the JVM's too: a
 * rule that answers a call with success or a harmless-looking error must match only the library's own call
 * (an address, or a length and flags nothing else asks for), or a JIT or GC thread's malloc can meet it.
 */
public final class Seccomp {
    private static final int PR_SET_NO_NEW_PRIVS = 38;
    private static final int SECCOMP_SET_MODE_FILTER = 1;
    private static final int SECCOMP_FILTER_FLAG_TSYNC = 1;
    private static final int SECCOMP_RET_ERRNO = 0x0005_0000;
    private static final int SECCOMP_RET_ALLOW = 0x7fff_0000;
    private static final short BPF_LD_W_ABS = 0x20;
    private static final short BPF_JMP_JEQ_K = 0x15;
    private static final short BPF_RET_K = 0x06;
    /** Offsets in struct seccomp_data: int nr; __u32 arch; __u64 ip; __u64 args[6]. */
    private static final int DATA_NR = 0;
    private static final int DATA_ARCH = 4;
    private static final int DATA_ARGS = 16;
    private static final boolean X86_64 = System.getProperty("os.arch").equals("amd64");

    /** The system calls the tests deny, with their numbers on x86_64 and aarch64. */
    public enum Call {
        MSEAL(462, 462), MEMFD_CREATE(319, 279), FCNTL(72, 25), MPROTECT(10, 226), FTRUNCATE(77, 46), MMAP(9, 222),
        MADVISE(28, 233), OPENAT(257, 56), PWRITE64(18, 68);

        private final int x86;
        private final int arm;

        Call(int x86, int arm) {
            this.x86 = x86;
            this.arm = arm;
        }

        int number() {
            return X86_64 ? x86 : arm;
        }
    }

    /**
     * Deny {@code call} with {@code errno}, only if every {@code {index, value}} of {@code arguments} matches:
     * the low 32 bits of that argument equal the value. An errno of 0 answers the call with success without
     * running it, as a malicious filter could.
     */
    public record Rule(Call call, int errno, List<long[]> arguments) {
        /** Deny every {@code call}. */
        public static Rule deny(Call call, int errno) {
            return new Rule(call, errno, List.of());
        }

        /** Deny {@code call} when its argument {@code index} is {@code value}. */
        public static Rule denyWhen(Call call, int index, long value, int errno) {
            return new Rule(call, errno, List.<long[]>of(new long[] {index, value}));
        }

        /** Deny {@code call} when its argument {@code index} is {@code value} and {@code index2} is {@code value2}. */
        public static Rule denyWhen(Call call, int index, long value, int index2, long value2, int errno) {
            return new Rule(call, errno, List.of(new long[] {index, value}, new long[] {index2, value2}));
        }
    }

    private Seccomp() {
    }

    /** Makes every later {@code mseal} in this process, on every thread, fail with {@code errno}. */
    public static void denyMseal(int errno) {
        install(Rule.deny(Call.MSEAL, errno));
    }

    /** Installs a filter that applies {@code rules}, first match first, and allows everything else. */
    public static void install(Rule... rules) {
        String arch = System.getProperty("os.arch");
        // AUDIT_ARCH_* from uapi/linux/audit.h, and the seccomp system call number of each architecture.
        int auditArch = switch (arch) {
            case "amd64" -> 0xC000_003E;
            case "aarch64" -> 0xC000_00B7;
            default -> throw new UnsupportedOperationException("no seccomp helper for " + arch);
        };
        long sysSeccomp = X86_64 ? 317 : 277;

        // The program, built backwards from the end would be tidier; jumps are relative, so count ahead.
        List<long[]> program = new ArrayList<>(); // {code, jt, jf, k}
        program.add(new long[] {BPF_LD_W_ABS, 0, 0, DATA_ARCH});
        int body = 0;
        for (Rule rule : rules) {
            body += 3 + 2 * rule.arguments().size();
        }
        program.add(new long[] {BPF_JMP_JEQ_K, 0, body, auditArch}); // another ABI: allow
        for (Rule rule : rules) {
            int ret = SECCOMP_RET_ERRNO | (rule.errno() & 0xffff);
            // Each mismatch jumps past the rest of this rule: its loads, its compares and its return.
            int k = rule.arguments().size();
            program.add(new long[] {BPF_LD_W_ABS, 0, 0, DATA_NR});
            program.add(new long[] {BPF_JMP_JEQ_K, 0, 2L * k + 1, rule.call().number()});
            for (int i = 0; i < k; i++) {
                long[] argument = rule.arguments().get(i);
                program.add(new long[] {BPF_LD_W_ABS, 0, 0, DATA_ARGS + 8L * argument[0]});
                program.add(new long[] {BPF_JMP_JEQ_K, 0, 2L * (k - i) - 1, argument[1] & 0xffff_ffffL});
            }
            program.add(new long[] {BPF_RET_K, 0, 0, ret});
        }
        program.add(new long[] {BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW});
        MethodHandle syscall = Downcalls.of("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1));
        MethodHandle prctl = Downcalls.of("prctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1));

        Arena arena = Arena.global();
        MemorySegment filter = arena.allocate(8L * program.size(), 8);
        for (int i = 0; i < program.size(); i++) {
            long[] instruction = program.get(i);
            long at = i * 8L;
            filter.set(JAVA_SHORT, at, (short) instruction[0]);     // struct sock_filter {u16 code; u8 jt; u8 jf; u32 k;}
            filter.set(JAVA_BYTE, at + 2, (byte) instruction[1]);
            filter.set(JAVA_BYTE, at + 3, (byte) instruction[2]);
            filter.set(JAVA_INT, at + 4, (int) instruction[3]);
        }
        MemorySegment fprog = arena.allocate(16, 8);                  // struct sock_fprog
        fprog.set(JAVA_SHORT, 0, (short) program.size());
        fprog.set(JAVA_LONG, 8, filter.address());
        try {
            int noNewPrivs = (int) prctl.invokeExact(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L);
            long installed = (long) syscall.invokeExact(sysSeccomp, (long) SECCOMP_SET_MODE_FILTER,
                (long) SECCOMP_FILTER_FLAG_TSYNC, fprog.address());
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
}
