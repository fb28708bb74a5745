package io.github.mseal4j;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.internal.FileStat;
import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.Mman;
import io.github.mseal4j.internal.Smaps;

/**
 * The file behind immutable memory: a {@code memfd} that allows sealing. It is written through a shared
 * read-write mapping; freezing seals the file ({@code F_SEAL_WRITE}, {@code F_SEAL_SHRINK}, {@code F_SEAL_GROW},
 * {@code F_SEAL_SEAL}: {@link CheckedCalls#sealFile}), after which no mapping of it can ever be writable and the
 * kernel refuses forced writes ({@code /proc/self/mem}, {@code ptrace}) to its shared mappings. The read-only
 * mapping is made through a second descriptor, opened read-only ({@link #openReadOnly}). See
 * {@code docs/design.md}.
 */
final class Memfd {
    /**
     * Flags of the read-only descriptor: as every {@code /proc} open of the library. {@code O_NOCTTY} changes
     * nothing for a memfd; it makes the call one that a test's seccomp filter can tell from the JVM's own opens.
     */
    static final int READ_ONLY_FLAGS = Smaps.PROC_OPEN_FLAGS;
    /** Whether memfd_create takes MFD_NOEXEC_SEAL; kernels before 6.3 answer it with EINVAL. */
    private static volatile boolean noExecSealKnown = true;
    /**
     * The read-only map of a write-sealed memfd goes through a second descriptor, opened read-only: set by the
     * immutability probe where the kernel refuses that map through the memfd's own descriptor (Linux before 6.7,
     * 6.12.0 to 6.12.8). Elsewhere the map goes through the memfd's own descriptor, which lets a freeze prove the
     * file it mapped is sealed (see {@link MemfdFreeze}).
     */
    static volatile boolean throughReadOnlyDescriptor;

    /** A memfd: its descriptor, and which file it is (device and inode), recorded when it was made. */
    record File(int fd, FileStat stat) {
    }

    private Memfd() {
    }

    /**
     * A new memfd that allows sealing, with MFD_NOEXEC_SEAL where the kernel knows it (needed where
     * {@code vm.memfd_noexec=2}): the descriptor, or {@code -errno}.
     */
    static int open() {
        int flags = Mman.MFD_CLOEXEC | Mman.MFD_ALLOW_SEALING;
        if (noExecSealKnown) {
            int fd = LibC.memfdCreate(flags | Mman.MFD_NOEXEC_SEAL);
            if (fd != -Errno.EINVAL) {
                return fd;
            }
            noExecSealKnown = false;
        }
        return LibC.memfdCreate(flags);
    }

    /** A new memfd of {@code size} bytes (a hole: no memory until written). Closes it again on failure. */
    static File create(long size) {
        int fd = open();
        if (fd < 0) {
            throw new SystemCallException("memfd_create", 0, 0, "\"mseal4j\", MFD_CLOEXEC|MFD_ALLOW_SEALING", -fd);
        }
        try {
            FileStat stat = FileStat.of(fd);
            if (size > 0) {
                CheckedCalls.truncateFile(fd, size);
            }
            return new File(fd, stat);
        } catch (RuntimeException e) {
            close(fd);
            throw e;
        }
    }

    /**
     * A second descriptor of memfd {@code fd}, opened read-only through {@code /proc/thread-self/fd} (the calling
     * thread's descriptor table, which another thread may have unshared), never blocking, or {@code -errno}
     * (ENOENT where {@code /proc} is not mounted). A shared mapping made through a descriptor that is not open for
     * writing never gets {@code VM_SHARED|VM_MAYWRITE}, so the kernel maps the write-sealed file read-only through
     * it on every version, where through the read-write one Linux before 6.7 and 6.12.0 to 6.12.8 refuse (EPERM).
     * The number names whatever file it names when the call is made: the caller checks which it got.
     */
    static int openReadOnly(int fd) {
        return LibC.open("/proc/thread-self/fd/" + fd, READ_ONLY_FLAGS);
    }

    /** How {@code mmap} arguments name the descriptor a read-only map of a sealed memfd goes through. */
    static String readOnlyMapArguments(int readOnly) {
        return "PROT_READ, MAP_SHARED|MAP_FIXED, " + (readOnly >= 0 ? "memfd opened read-only" : "memfd opened read-write");
    }

    /** Closes the descriptor; the mappings keep the file alive. A failure is logged, never thrown. */
    static void close(int fd) {
        int errno = LibC.close(fd);
        if (errno != 0) {
            Sealing.log().log(System.Logger.Level.WARNING, () -> "mseal4j: close(" + fd + ") of a memfd failed: "
                + Errno.name(errno));
        }
    }
}
