package io.github.mseal4j.internal;

import io.github.mseal4j.SealSupport;
import io.github.mseal4j.SealSupport.Status;
import java.util.Optional;
import java.util.function.IntSupplier;

/** Decides, once per process, whether mseal works here and why not. */
public final class SupportProbe {

    /**
     * The facts about this JVM the verdict depends on.
     *
     * @param osName {@code os.name}
     * @param osArch {@code os.arch}
     * @param addressBits the width of a native address
     * @param kernelRelease {@code os.version}, which is {@code uname -r} on Linux
     * @param nativeAccessProblem why native access is not granted, or empty when it is
     */
    public record Host(String osName, String osArch, long addressBits, String kernelRelease,
                       Optional<String> nativeAccessProblem) {

        /** This JVM. */
        public static Host current() {
            Module module = SupportProbe.class.getModule();
            return new Host(System.getProperty("os.name", "unknown"), System.getProperty("os.arch", "unknown"),
                java.lang.foreign.ValueLayout.ADDRESS.byteSize() * 8, System.getProperty("os.version", "unknown"),
                NativeAccessGrant.problem(module));
        }
    }

    /** The system calls the immutability probe makes; the tests substitute failures. */
    public interface MemfdCalls {
        /** {@code memfd_create("mseal4j", flags)}: a descriptor, or {@code -errno}. */
        int memfdCreate(int flags);

        /** {@code ftruncate}: 0 or the errno. */
        int ftruncate(int fd, long length);

        /** {@code fcntl(fd, command, argument)}: the result, or {@code -errno}. */
        int fcntl(int fd, int command, int argument);

        /** {@code close}: 0 or the errno. */
        int close(int fd);

        /** The real calls, through {@link LibC}. */
        MemfdCalls LIBC = new MemfdCalls() {
            @Override
            public int memfdCreate(int flags) {
                return LibC.memfdCreate(flags);
            }

            @Override
            public int ftruncate(int fd, long length) {
                return LibC.ftruncate(fd, length);
            }

            @Override
            public int fcntl(int fd, int command, int argument) {
                return LibC.fcntl(fd, command, argument);
            }

            @Override
            public int close(int fd) {
                return LibC.close(fd);
            }
        };
    }

    private SupportProbe() {
    }

    /**
     * The immutability verdict, and whether it lasts: a verdict that came from a passing shortage (no file
     * descriptor or memory left at that moment) says nothing about the host and is asked again next time.
     */
    public record Immutability(SealSupport verdict, boolean lasting) {
    }

    /**
     * Whether immutable memory works here: mseal (the verdict {@code mseal}), and a memfd that takes the four
     * file seals. The probe makes a one-page memfd, seals it and closes it; it maps nothing and seals no memory.
     */
    public static Immutability immutability(SealSupport mseal, MemfdCalls calls) {
        if (!mseal.available()) {
            return new Immutability(new SealSupport(mseal.status(), "immutable memory needs mseal, which is not"
                + " available: " + mseal.reason()), true);
        }
        int fd;
        try {
            fd = memfd(calls);
        } catch (RuntimeException e) {
            return new Immutability(new SealSupport(Status.PROBE_FAILED, "memfd_create could not be called: "
                + e.getMessage()), true);
        }
        if (fd < 0) {
            int errno = -fd;
            boolean shortage = errno == Errno.EMFILE || errno == Errno.ENFILE || errno == Errno.ENOMEM;
            String cause = switch (errno) {
                case Errno.ENOSYS -> "the kernel has no memfd_create (Linux 3.17+), or a seccomp filter answers ENOSYS";
                case Errno.EPERM -> "a seccomp filter or security module forbids it (for example a container profile)";
                case Errno.EACCES -> "vm.memfd_noexec or a security module forbids it";
                case Errno.EMFILE, Errno.ENFILE -> "no file descriptor was left (ulimit -n); a passing shortage, so the"
                    + " next call asks again";
                case Errno.ENOMEM -> "the kernel was out of memory; a passing shortage, so the next call asks again";
                default -> "unexpected";
            };
            return new Immutability(new SealSupport(Status.MEMFD_UNAVAILABLE, "immutable memory needs memfd_create,"
                + " which failed with " + Errno.name(errno) + " (errno " + errno + "): " + cause), !shortage);
        }
        try {
            int errno = calls.ftruncate(fd, 4096);
            if (errno != 0) {
                String remedy = Errno.remedy("ftruncate", errno, 4096, "");
                return new Immutability(new SealSupport(Status.PROBE_FAILED, "ftruncate of a new memfd failed with "
                    + Errno.name(errno) + (remedy.isEmpty() ? "" : ": " + remedy)),
                    errno != Errno.ENOMEM && errno != Errno.ENOSPC);
            }
            int added = calls.fcntl(fd, Mman.F_ADD_SEALS, Mman.IMMUTABLE_FILE_SEALS);
            if (added < 0) {
                return new Immutability(new SealSupport(Status.FILE_SEALS_UNAVAILABLE, "the kernel refused the file"
                    + " seals F_SEAL_WRITE, F_SEAL_SHRINK, F_SEAL_GROW and F_SEAL_SEAL on a memfd: fcntl(F_ADD_SEALS)"
                    + " failed with " + Errno.name(-added) + " (errno " + -added + ")"), true);
            }
            int seals = calls.fcntl(fd, Mman.F_GET_SEALS, 0);
            if (seals < 0 || (seals & Mman.IMMUTABLE_FILE_SEALS) != Mman.IMMUTABLE_FILE_SEALS) {
                return new Immutability(new SealSupport(Status.FILE_SEALS_UNAVAILABLE, "a memfd does not report the"
                    + " file seals it was given: fcntl(F_GET_SEALS) answered " + seals), true);
            }
        } finally {
            calls.close(fd);
        }
        return new Immutability(new SealSupport(Status.AVAILABLE, "immutable memory is available: mseal works, and"
            + " a memfd takes the file seals F_SEAL_WRITE, F_SEAL_SHRINK, F_SEAL_GROW and F_SEAL_SEAL"), true);
    }

    /** Whether memfd_create takes MFD_NOEXEC_SEAL; kernels before 6.3 answer it with EINVAL. */
    private static volatile boolean noExecSealKnown = true;

    /**
     * A new memfd that allows sealing, with MFD_NOEXEC_SEAL where the kernel knows it (needed where
     * {@code vm.memfd_noexec=2}): the descriptor, or {@code -errno}.
     */
    public static int memfd(MemfdCalls calls) {
        int flags = Mman.MFD_CLOEXEC | Mman.MFD_ALLOW_SEALING;
        if (noExecSealKnown) {
            int fd = calls.memfdCreate(flags | Mman.MFD_NOEXEC_SEAL);
            if (fd != -Errno.EINVAL) {
                return fd;
            }
            noExecSealKnown = false;
        }
        return calls.memfdCreate(flags);
    }

    /** Probes this JVM: {@code mseal(NULL, 0, 0)}, which the kernel answers without sealing anything. */
    public static SealSupport probe() {
        return verdict(Host.current(), () -> LibC.mseal(0, 0));
    }

    /**
     * The verdict for {@code host}, calling {@code probe} (which returns 0 or an errno) only when nothing
     * else already rules mseal out.
     */
    public static SealSupport verdict(Host host, IntSupplier probe) {
        if (!host.osName().equals("Linux")) {
            return new SealSupport(Status.NOT_LINUX, "mseal(2) exists only on Linux; this is " + host.osName());
        }
        if (host.addressBits() != 64) {
            return new SealSupport(Status.NOT_64_BIT, "mseal(2) is implemented only by 64-bit kernels; this JVM is "
                + host.addressBits() + "-bit (" + host.osArch() + ")");
        }
        if (LibC.msealNumber(host.osArch()).isEmpty()) {
            return new SealSupport(Status.UNKNOWN_ARCHITECTURE, "mseal4j does not know the mseal system call number on "
                + host.osArch() + ": it is 462 on x86_64, aarch64, riscv64, ppc64 and s390x but differs on alpha"
                + " and MIPS, and the library will not guess");
        }
        if (host.nativeAccessProblem().isPresent()) {
            return new SealSupport(Status.NATIVE_ACCESS_DISABLED, host.nativeAccessProblem().get());
        }
        int errno;
        try {
            errno = probe.getAsInt();
        } catch (RuntimeException e) {
            return new SealSupport(Status.PROBE_FAILED, "the probe mseal(0, 0, 0) could not be made: " + e.getMessage());
        }
        return switch (errno) {
            case 0 -> new SealSupport(Status.AVAILABLE, "mseal(2) is available: Linux " + host.kernelRelease()
                + " on " + host.osArch() + " answered the probe mseal(0, 0, 0) with 0");
            case Errno.ENOSYS -> new SealSupport(Status.KERNEL_TOO_OLD, "this kernel (" + host.kernelRelease()
                + ") has no mseal; it needs Linux 6.10 or newer (the probe mseal(0, 0, 0) returned ENOSYS)");
            case Errno.EPERM -> new SealSupport(Status.BLOCKED_BY_POLICY, "mseal is blocked by a seccomp or security"
                + " policy, e.g. a container profile (the probe mseal(0, 0, 0) returned EPERM on Linux "
                + host.kernelRelease() + ")");
            default -> new SealSupport(Status.PROBE_FAILED, "the probe mseal(0, 0, 0) failed unexpectedly with "
                + Errno.name(errno) + " (errno " + errno + ") on Linux " + host.kernelRelease());
        };
    }
}
