package io.github.mseal4j.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * userfaultfd, as any code in the process can use it (the doctor shows it; the tests attack with it): register a
 * range for missing-page faults, then place bytes into a page that was never faulted in ({@code UFFDIO_COPY}) or
 * poison it ({@code UFFDIO_POISON}, Linux 6.6+, makes every read fault). mseal checks neither: only a page that is
 * present refuses them, with EEXIST, and a mapping that can never be written ({@code VM_MAYWRITE} clear, as
 * immutable memory) refuses the registration.
 */
public final class Userfaultfd implements AutoCloseable {
    /** {@code UFFD_USER_MODE_ONLY}: allowed to unprivileged processes even where {@code vm.unprivileged_userfaultfd=0}. */
    public static final int USER_MODE_ONLY = 1;
    private static final long UFFD_API = 0xAA;
    private static final long UFFD_FEATURE_POISON = 1L << 14;
    private static final long UFFDIO_REGISTER_MODE_MISSING = 1;
    // _IOWR(0xAA, nr, size) = 3 << 30 | size << 16 | 0xAA << 8 | nr, include/uapi/linux/userfaultfd.h.
    private static final long UFFDIO_API = 0xC018AA3FL;       // struct uffdio_api: api, features, ioctls
    private static final long UFFDIO_REGISTER = 0xC020AA00L;  // struct uffdio_register: start, len, mode, ioctls
    private static final long UFFDIO_COPY = 0xC028AA03L;      // struct uffdio_copy: dst, src, len, mode, copy
    private static final long UFFDIO_POISON = 0xC020AA08L;    // struct uffdio_poison: start, len, mode, updated

    private final int fd;
    private final int refused;
    private final boolean poison;

    private Userfaultfd(int fd, int refused, boolean poison) {
        this.fd = fd;
        this.refused = refused;
        this.poison = poison;
    }

    /**
     * A userfaultfd ({@code O_CLOEXEC | O_NONBLOCK | flags}), with the poison feature where the kernel has it; one
     * that {@link #refused()} with the errno where the kernel or a policy refuses it.
     */
    public static Userfaultfd open(int flags) {
        Userfaultfd withPoison = open(flags, UFFD_FEATURE_POISON);
        // EINVAL from the API call: a kernel before 6.6, without the poison feature (the call can be made once only).
        return withPoison.refused == Errno.EINVAL ? open(flags, 0) : withPoison;
    }

    private static Userfaultfd open(int flags, long features) {
        int fd = LibC.userfaultfd(Mman.O_CLOEXEC | Mman.O_NONBLOCK | flags);
        if (fd < 0) {
            return new Userfaultfd(-1, -fd, false);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment api = arena.allocate(24, 8);
            api.set(ValueLayout.JAVA_LONG, 0, UFFD_API);
            api.set(ValueLayout.JAVA_LONG, 8, features);
            int result = LibC.ioctl(fd, UFFDIO_API, api.address());
            if (result < 0) {
                LibC.close(fd);
                return new Userfaultfd(-1, -result, false);
            }
        }
        return new Userfaultfd(fd, 0, features != 0);
    }

    /** 0 when open; otherwise the errno that refused it (and every call on it answers that errno). */
    public int refused() {
        return refused;
    }

    /** {@code UFFDIO_REGISTER} of {@code [start, start + length)} for missing-page faults: 0, or the errno. */
    public int register(long start, long length) {
        if (refused != 0) {
            return refused;
        }
        return request(UFFDIO_REGISTER, start, length, UFFDIO_REGISTER_MODE_MISSING);
    }

    /**
     * {@code UFFDIO_COPY} of {@code bytes} (a whole page) to page {@code destination}: 0, or the errno (EEXIST:
     * the page is present).
     */
    public int copy(long destination, byte[] bytes) {
        if (refused != 0) {
            return refused;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment source = arena.allocate(bytes.length, 4096);
            MemorySegment.copy(bytes, 0, source, ValueLayout.JAVA_BYTE, 0, bytes.length);
            MemorySegment copy = arena.allocate(40, 8);
            copy.set(ValueLayout.JAVA_LONG, 0, destination);
            copy.set(ValueLayout.JAVA_LONG, 8, source.address());
            copy.set(ValueLayout.JAVA_LONG, 16, bytes.length);
            int result = LibC.ioctl(fd, UFFDIO_COPY, copy.address());
            return result >= 0 ? 0 : -result;
        }
    }

    /** {@code UFFDIO_POISON} of {@code [start, start + length)}: 0, or the errno (EEXIST: present; EINVAL: none). */
    public int poison(long start, long length) {
        return refused != 0 ? refused : poison ? request(UFFDIO_POISON, start, length, 0) : Errno.EINVAL;
    }

    private int request(long request, long start, long length, long mode) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment argument = arena.allocate(32, 8);
            argument.set(ValueLayout.JAVA_LONG, 0, start);
            argument.set(ValueLayout.JAVA_LONG, 8, length);
            argument.set(ValueLayout.JAVA_LONG, 16, mode);
            int result = LibC.ioctl(fd, request, argument.address());
            return result >= 0 ? 0 : -result;
        }
    }

    @Override
    public void close() {
        if (fd >= 0) {
            LibC.close(fd);
        }
    }
}
