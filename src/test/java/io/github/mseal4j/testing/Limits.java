package io.github.mseal4j.testing;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Test helper (not API), for child JVMs: lowers {@code RLIMIT_MEMLOCK} for the process and drops
 * {@code CAP_IPC_LOCK} (which root has, and which lets it lock past the limit), so that the limit bites as it
 * does for an ordinary user; lowers the soft limits on descriptors, file size and address space.
 */
public final class Limits {
    private static final int RLIMIT_MEMLOCK = 8;
    private static final int RLIMIT_NOFILE = 7;
    private static final int RLIMIT_FSIZE = 1;
    private static final int RLIMIT_AS = 9;
    private static final int RLIMIT_DATA = 2;
    private static final int CAP_IPC_LOCK = 14;
    private static final int LINUX_CAPABILITY_VERSION_3 = 0x20080522;

    /**
     * A private mapping that {@code mmap} refuses with ENOMEM on every host, and that the library still asks
     * for (it refuses 2^48 bytes and more itself): 256 TiB less 1 MiB. Larger than the whole user address space
     * of x86-64 (128 TiB, also with 5-level page tables), and on arm64 (256 TiB for a hint-less mmap) than any
     * hole a running process leaves (its executable, libraries and stack lie far apart), so it cannot fit
     * whatever {@code vm.overcommit_memory} says. (64 TiB fails only where overcommit is heuristic: with
     * {@code vm.overcommit_memory=1} it maps.)
     */
    public static final long UNMAPPABLE = (1L << 48) - (1L << 20);

    private Limits() {
    }

    /** Sets the soft and hard {@code RLIMIT_MEMLOCK} to {@code bytes} and drops {@code CAP_IPC_LOCK}. */
    public static void limitLockedMemory(long bytes) {
        // int setrlimit(int resource, const struct rlimit *rlim);  int capget/capset(hdr, data);
        MethodHandle setrlimit = Downcalls.of("setrlimit", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
        MethodHandle capget = Downcalls.of("capget", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));
        MethodHandle capset = Downcalls.of("capset", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment header = arena.allocate(8, 4);            // {u32 version; int pid;}
            header.set(JAVA_INT, 0, LINUX_CAPABILITY_VERSION_3);
            MemorySegment data = arena.allocate(24, 4);             // 2 x {u32 effective, permitted, inheritable}
            check((int) capget.invokeExact(header.address(), data.address()), "capget");
            int mask = ~(1 << CAP_IPC_LOCK);
            for (int field = 0; field < 3; field++) {
                data.set(JAVA_INT, field * 4L, data.get(JAVA_INT, field * 4L) & mask);
            }
            check((int) capset.invokeExact(header.address(), data.address()), "capset");
            MemorySegment limit = arena.allocate(16, 8);            // {rlim_t cur, max}
            limit.set(JAVA_LONG, 0, bytes);
            limit.set(JAVA_LONG, 8, bytes);
            check((int) setrlimit.invokeExact(RLIMIT_MEMLOCK, limit.address()), "setrlimit");
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** Sets the soft {@code RLIMIT_NOFILE} (descriptors) to {@code soft}, keeping the hard limit. */
    public static void limitOpenFiles(long soft) {
        limitSoft(RLIMIT_NOFILE, soft);
    }

    /** Sets the soft {@code RLIMIT_FSIZE} ({@code ulimit -f}, bytes) to {@code soft}, keeping the hard limit. */
    public static void limitFileSize(long soft) {
        limitSoft(RLIMIT_FSIZE, soft);
    }

    /** Sets the soft {@code RLIMIT_AS} ({@code ulimit -v}, bytes) to {@code soft}, keeping the hard limit. */
    public static void limitAddressSpace(long soft) {
        limitSoft(RLIMIT_AS, soft);
    }

    /** Sets the soft {@code RLIMIT_DATA} ({@code ulimit -d}, bytes) to {@code soft}, keeping the hard limit. */
    public static void limitData(long soft) {
        limitSoft(RLIMIT_DATA, soft);
    }

    private static void limitSoft(int resource, long soft) {
        MethodHandle getrlimit = Downcalls.of("getrlimit", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
        MethodHandle setrlimit = Downcalls.of("setrlimit", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment limit = arena.allocate(16, 8);            // {rlim_t cur, max}
            check((int) getrlimit.invokeExact(resource, limit.address()), "getrlimit");
            limit.set(JAVA_LONG, 0, soft);
            check((int) setrlimit.invokeExact(resource, limit.address()), "setrlimit");
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static void check(int result, String call) {
        if (result != 0) {
            throw new IllegalStateException(call + " failed");
        }
    }
}
