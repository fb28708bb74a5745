package io.github.mseal4j.testing;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
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
 * Test helper (not API): what any code in the process can do with {@code userfaultfd(2)}, unprivileged: register
 * a range for missing-page faults, then place bytes into a page that was never faulted in
 * ({@code UFFDIO_COPY}), or poison it so that every read faults ({@code UFFDIO_POISON}, Linux 6.6+). mseal does
 * not check these: only a page already present refuses them, with EEXIST. Use it in child JVMs only: a poisoned
 * page kills the JVM that reads it.
 */
public final class Userfaultfd implements AutoCloseable {
    /** {@code UFFD_USER_MODE_ONLY}: allowed to unprivileged processes even at {@code vm.unprivileged_userfaultfd=0}. */
    public static final int USER_MODE_ONLY = 1;
    private static final long SYS_USERFAULTFD = System.getProperty("os.arch").equals("amd64") ? 323 : 282;
    private static final int O_CLOEXEC = 0x80000;
    private static final int O_NONBLOCK = 0x800;
    private static final long UFFD_API = 0xAA;
    private static final long UFFD_FEATURE_POISON = 1L << 14;
    private static final long UFFDIO_REGISTER_MODE_MISSING = 1;
    // _IOWR(0xAA, nr, size) = 3 << 30 | size << 16 | 0xAA << 8 | nr, from include/uapi/linux/userfaultfd.h.
    private static final long UFFDIO_API = 0xC018AA3FL;       // struct uffdio_api: api, features, ioctls
    private static final long UFFDIO_REGISTER = 0xC020AA00L;  // struct uffdio_register: start, len, mode, ioctls
    private static final long UFFDIO_COPY = 0xC028AA03L;      // struct uffdio_copy: dst, src, len, mode, copy
    private static final long UFFDIO_POISON = 0xC020AA08L;    // struct uffdio_poison: start, len, mode, updated
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle SYSCALL = Downcalls.of("syscall",
        FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(1),
        Linker.Option.captureCallState("errno"));
    private static final MethodHandle IOCTL = Downcalls.of("ioctl",
        FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(2),
        Linker.Option.captureCallState("errno"));
    private static final MethodHandle CLOSE = Downcalls.of("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));

    private final int fd;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment capture = arena.allocate(CAPTURE);

    private Userfaultfd(int fd) {
        this.fd = fd;
    }

    /**
     * A userfaultfd with the poison feature, or the errno that refused it: {@code flags} 0 (needs privilege, or
     * {@code vm.unprivileged_userfaultfd=1}) or {@link #USER_MODE_ONLY}.
     */
    public static Object open(int flags) {
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment capture = scratch.allocate(CAPTURE);
            long fd = (long) SYSCALL.invokeExact(capture, SYS_USERFAULTFD, (long) (O_CLOEXEC | O_NONBLOCK | flags));
            if (fd < 0) {
                return (int) ERRNO.get(capture, 0L);
            }
            Userfaultfd uffd = new Userfaultfd((int) fd);
            MemorySegment api = uffd.arena.allocate(24, 8);
            api.set(JAVA_LONG, 0, UFFD_API);
            api.set(JAVA_LONG, 8, UFFD_FEATURE_POISON);
            int errno = uffd.ioctl(UFFDIO_API, api);
            if (errno != 0) {
                uffd.close();
                return errno;
            }
            return uffd;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** {@code UFFDIO_REGISTER} of {@code [start, start + length)} for missing-page faults: 0, or the errno. */
    public int register(long start, long length) {
        MemorySegment register = arena.allocate(32, 8);
        register.set(JAVA_LONG, 0, start);
        register.set(JAVA_LONG, 8, length);
        register.set(JAVA_LONG, 16, UFFDIO_REGISTER_MODE_MISSING);
        return ioctl(UFFDIO_REGISTER, register);
    }

    /** {@code UFFDIO_COPY} of {@code bytes} (a page) to {@code destination}: 0, or the errno (EEXIST: present). */
    public int copy(long destination, byte[] bytes) {
        MemorySegment source = arena.allocate(bytes.length, 4096);
        MemorySegment.copy(bytes, 0, source, JAVA_BYTE, 0, bytes.length);
        MemorySegment copy = arena.allocate(40, 8);
        copy.set(JAVA_LONG, 0, destination);
        copy.set(JAVA_LONG, 8, source.address());
        copy.set(JAVA_LONG, 16, bytes.length);
        return ioctl(UFFDIO_COPY, copy);
    }

    /** {@code UFFDIO_POISON} of {@code [start, start + length)}: 0, or the errno (EEXIST: present). */
    public int poison(long start, long length) {
        MemorySegment poison = arena.allocate(32, 8);
        poison.set(JAVA_LONG, 0, start);
        poison.set(JAVA_LONG, 8, length);
        return ioctl(UFFDIO_POISON, poison);
    }

    private int ioctl(long request, MemorySegment argument) {
        try {
            int result = (int) IOCTL.invokeExact(capture, fd, request, argument.address());
            return result == 0 ? 0 : (int) ERRNO.get(capture, 0L);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    @Override
    public void close() {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError(t);
        } finally {
            arena.close();
        }
    }
}
