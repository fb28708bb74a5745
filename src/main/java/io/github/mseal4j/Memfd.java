package io.github.mseal4j;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.Mman;
import io.github.mseal4j.internal.SupportProbe;

/**
 * The file behind immutable memory: a {@code memfd} that allows sealing. It is written through a shared
 * read-write mapping; freezing seals the file ({@code F_SEAL_WRITE}, {@code F_SEAL_SHRINK}, {@code F_SEAL_GROW},
 * {@code F_SEAL_SEAL}), after which no mapping of it can ever be writable and the kernel refuses forced writes
 * ({@code /proc/self/mem}, {@code ptrace}) to its shared mappings. See {@code docs/design.md}.
 */
final class Memfd {
    private static final System.Logger LOG = System.getLogger("io.github.mseal4j");

    private Memfd() {
    }

    /** A new memfd of {@code size} bytes (a hole: no memory until written). Closes it again on failure. */
    static int create(long size) {
        int fd = SupportProbe.memfd();
        if (fd < 0) {
            throw new SystemCallException("memfd_create", 0, 0, "\"mseal4j\", MFD_CLOEXEC|MFD_ALLOW_SEALING", -fd);
        }
        int errno = LibC.ftruncate(fd, size);
        if (errno != 0) {
            close(fd);
            throw new SystemCallException("ftruncate", 0, size, "memfd " + fd + ", " + size, errno);
        }
        // Mapped past its end, a file faults every access (SIGBUS): make sure it has the size it was given.
        long actual = LibC.lseek(fd, 0, Mman.SEEK_END);
        if (actual != size) {
            close(fd);
            throw new IllegalStateException(String.format(java.util.Locale.ROOT, "ftruncate(memfd %d, %d) returned 0,"
                + " but lseek(SEEK_END) then answered %s: the file is not known to have its size (a seccomp filter"
                + " answering ftruncate, or lseek, with success without running it would do this), so it is not"
                + " mapped", fd, size, actual < 0 ? Errno.name((int) -actual) : actual + " bytes"));
        }
        return fd;
    }

    /**
     * Seals the file's contents and size for good, and checks with {@code F_GET_SEALS} that it is so (a
     * seccomp filter could answer success without running the call). Fails with EBUSY while a writable shared
     * mapping of it exists.
     */
    static void sealContents(int fd) {
        int result = LibC.fcntl(fd, Mman.F_ADD_SEALS, Mman.IMMUTABLE_FILE_SEALS);
        if (result < 0) {
            throw new SystemCallException("fcntl", 0, 0,
                "memfd " + fd + ", F_ADD_SEALS, F_SEAL_WRITE|F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_SEAL", -result);
        }
        int seals = LibC.fcntl(fd, Mman.F_GET_SEALS, 0);
        if (seals < 0 || (seals & Mman.IMMUTABLE_FILE_SEALS) != Mman.IMMUTABLE_FILE_SEALS) {
            throw new IllegalStateException("fcntl(memfd " + fd + ", F_ADD_SEALS) returned success, but F_GET_SEALS"
                + " then answered " + (seals < 0 ? Errno.name(-seals) : "0x" + Integer.toHexString(seals))
                + ": the file is not sealed against writing (a seccomp filter answering success would do this)");
        }
    }

    /** Closes the descriptor; the mappings keep the file alive. A failure is logged, never thrown. */
    static void close(int fd) {
        int errno = LibC.close(fd);
        if (errno != 0) {
            LOG.log(System.Logger.Level.WARNING, () -> "mseal4j: close(" + fd + ") of a memfd failed: "
                + Errno.name(errno));
        }
    }
}
