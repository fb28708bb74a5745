package io.github.mseal4j.testing;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * Test helper (not API): writes one word into another process with {@code ptrace(PTRACE_POKEDATA)}, as a
 * debugger does: attach (the tracee stops), wait for the stop, poke, detach (it runs on). The kernel writes
 * with FOLL_FORCE, the same as {@code /proc/<pid>/mem}. Run it from a process that is not the tracee's
 * parent JVM: that JVM's process reaper waits on its children and would take the tracee's stop for itself.
 */
public final class Ptrace {
    private static final long PTRACE_POKEDATA = 5;
    private static final long PTRACE_ATTACH = 16;
    private static final long PTRACE_DETACH = 17;
    private static final long SYS_PTRACE = System.getProperty("os.arch").equals("amd64") ? 101 : 117;
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private Ptrace() {
    }

    /**
     * Lets any process of the same user trace this one ({@code prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY)}),
     * for kernels with Yama's {@code ptrace_scope=1}, which otherwise allows only ancestors. Without Yama the
     * kernel answers EINVAL and nothing needs allowing.
     */
    public static void allowAnyTracer() {
        MethodHandle prctl = Downcalls.of("prctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1));
        try {
            // PR_SET_PTRACER, PR_SET_PTRACER_ANY: 0 under Yama, -1 (EINVAL) without it; either way tracing works.
            int result = (int) prctl.invokeExact(0x59616d61, -1L, 0L, 0L, 0L);
            if (result != 0 && result != -1) {
                throw new IllegalStateException("prctl(PR_SET_PTRACER) returned " + result);
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code pid address value}: pokes and prints {@code errno=N}. */
    public static void main(String[] args) {
        System.out.println("errno=" + poke(Long.parseLong(args[0]), Long.parseLong(args[1]), Long.parseLong(args[2])));
    }

    /** Pokes {@code value} at {@code address} in process {@code pid}: 0, or the errno of the poke. */
    public static int poke(long pid, long address, long value) {
        MethodHandle syscall = Downcalls.of("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1), Linker.Option.captureCallState("errno"));
        MethodHandle waitpid = Downcalls.of("waitpid", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = arena.allocate(CAPTURE);
            MemorySegment status = arena.allocate(JAVA_INT);
            if ((long) syscall.invokeExact(capture, SYS_PTRACE, PTRACE_ATTACH, pid, 0L, 0L) != 0) {
                throw new IllegalStateException("PTRACE_ATTACH failed: errno " + (int) ERRNO.get(capture, 0L));
            }
            if ((int) waitpid.invokeExact((int) pid, status.address(), 0) != (int) pid) {
                throw new IllegalStateException("waitpid failed");
            }
            long poked = (long) syscall.invokeExact(capture, SYS_PTRACE, PTRACE_POKEDATA, pid, address, value);
            int errno = poked == 0 ? 0 : (int) ERRNO.get(capture, 0L);
            if ((long) syscall.invokeExact(capture, SYS_PTRACE, PTRACE_DETACH, pid, 0L, 0L) != 0) {
                throw new IllegalStateException("PTRACE_DETACH failed: errno " + (int) ERRNO.get(capture, 0L));
            }
            return errno;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }
}
