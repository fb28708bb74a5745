package io.github.mseal4j.internal;

import io.github.mseal4j.SealSupport;
import io.github.mseal4j.SealSupport.Status;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
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

    private SupportProbe() {
    }

    /**
     * The immutability verdict, and whether it lasts: a verdict that came from a passing shortage (no file
     * descriptor or memory left at that moment) says nothing about the host and is asked again next time.
     */
    public record Immutability(SealSupport verdict, boolean lasting) {
    }

    /**
     * Whether immutable memory works here: mseal (the verdict {@code mseal}), a memfd that takes the four file
     * seals, and the whole recipe of a freeze on one scratch page: written through a shared read-write mapping,
     * replaced by a placeholder, the file sealed, then mapped read-only and shared again (through a read-only
     * descriptor where {@code /proc} gives one, as the freeze does), its byte read back, and that mapping refusing
     * to become writable (EACCES). Only the mseal of the result is left out: it would be permanent. Everything is
     * unmapped and closed again.
     */
    public static Immutability immutability(SealSupport mseal) {
        if (!mseal.available()) {
            return new Immutability(new SealSupport(mseal.status(), "immutable memory needs mseal, which is not"
                + " available: " + mseal.reason()), true);
        }
        int fd;
        try {
            fd = memfd();
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
                case Errno.EMFILE, Errno.ENFILE -> SHORT_OF_DESCRIPTORS;
                case Errno.ENOMEM -> "the kernel was out of memory; a passing shortage, so the next call asks again";
                default -> "unexpected";
            };
            return new Immutability(new SealSupport(Status.MEMFD_UNAVAILABLE, "immutable memory needs memfd_create,"
                + " which failed with " + Errno.name(errno) + " (errno " + errno + "): " + cause), !shortage);
        }
        try {
            long page = LibC.pageSize();
            int errno = LibC.ftruncate(fd, page);
            if (errno != 0) {
                String remedy = Errno.remedy("ftruncate", errno, page, "");
                return new Immutability(new SealSupport(Status.PROBE_FAILED, "ftruncate of a new memfd failed with "
                    + Errno.name(errno) + (remedy.isEmpty() ? "" : ": " + remedy)),
                    errno != Errno.ENOMEM && errno != Errno.ENOSPC);
            }
            int added = LibC.fcntl(fd, Mman.F_ADD_SEALS, Mman.F_SEAL_SHRINK | Mman.F_SEAL_GROW);
            if (added < 0) {
                return fileSealsRefused(-added);
            }
            return freezeScratchPage(fd, page);
        } finally {
            LibC.close(fd);
        }
    }

    private static final String SHORT_OF_DESCRIPTORS = "no file descriptor was left (ulimit -n); a passing shortage,"
        + " so the next call asks again";

    private static Immutability fileSealsRefused(int errno) {
        return new Immutability(new SealSupport(Status.FILE_SEALS_UNAVAILABLE, "the kernel refused the file seals"
            + " F_SEAL_WRITE, F_SEAL_SHRINK, F_SEAL_GROW and F_SEAL_SEAL on a memfd: fcntl(F_ADD_SEALS) failed with "
            + Errno.name(errno) + " (errno " + errno + ")"), true);
    }

    /** The freeze's steps on one page of {@code fd}, in a mapping of its own that is unmapped again. */
    private static Immutability freezeScratchPage(int fd, long page) {
        long at = LibC.mmap(0, page, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, fd, 0);
        if (LibC.failed(at) || at == 0) {
            return mapFailed("a shared read-write mapping of a new memfd", at, "");
        }
        int readOnly = -1;
        try {
            try (Arena arena = Arena.ofConfined()) {
                LibC.view(at, page, arena).set(ValueLayout.JAVA_BYTE, 0, SCRATCH_BYTE);
            }
            long placeholder = LibC.mmap(at, page, Mman.PROT_NONE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS
                | Mman.MAP_FIXED | Mman.MAP_NORESERVE, -1, 0);
            if (placeholder != at) {
                return mapFailed("a placeholder over the written page", placeholder, "");
            }
            int added = LibC.fcntl(fd, Mman.F_ADD_SEALS, Mman.IMMUTABLE_FILE_SEALS);
            if (added < 0) {
                return fileSealsRefused(-added);
            }
            int seals = LibC.fcntl(fd, Mman.F_GET_SEALS, 0);
            if (seals < 0 || (seals & Mman.IMMUTABLE_FILE_SEALS) != Mman.IMMUTABLE_FILE_SEALS) {
                return new Immutability(new SealSupport(Status.FILE_SEALS_UNAVAILABLE, "a memfd does not report the"
                    + " file seals it was given: fcntl(F_GET_SEALS) answered " + seals), true);
            }
            readOnly = openReadOnly(fd);
            if (readOnly == -Errno.EMFILE || readOnly == -Errno.ENFILE) {
                return new Immutability(new SealSupport(Status.PROBE_FAILED, "opening the memfd read-only failed"
                    + " with " + Errno.name(-readOnly) + ": " + SHORT_OF_DESCRIPTORS), false);
            }
            long mapped = LibC.mmap(at, page, Mman.PROT_READ, Mman.MAP_SHARED | Mman.MAP_FIXED,
                readOnly >= 0 ? readOnly : fd, 0);
            if (mapped != at) {
                if (LibC.failed(mapped) && mapped != -Errno.ENOMEM) {
                    return new Immutability(new SealSupport(Status.READ_ONLY_MAP_REFUSED, "the kernel refused to map"
                        + " a write-sealed memfd read-only and shared: mmap(PROT_READ, MAP_SHARED) through its "
                        + throughWhich(readOnly) + " failed with " + Errno.name((int) -mapped) + " (errno "
                        + -mapped + "); " + Errno.remedy("mmap", (int) -mapped, page, readOnlyMapArguments(readOnly))),
                        true);
                }
                return mapFailed("the write-sealed memfd mapped read-only", mapped, "");
            }
            try (Arena arena = Arena.ofConfined()) {
                byte read = LibC.view(at, page, arena).get(ValueLayout.JAVA_BYTE, 0);
                int writable = LibC.mprotect(at, page, Mman.PROT_READ | Mman.PROT_WRITE);
                if (read != SCRATCH_BYTE || writable != Errno.EACCES) {
                    return new Immutability(new SealSupport(Status.PROBE_FAILED, "a write-sealed memfd mapped"
                        + " read-only " + (read != SCRATCH_BYTE ? "did not show what was written to it"
                        : "answered mprotect(PROT_READ|PROT_WRITE) with " + (writable == 0 ? "success"
                        : Errno.name(writable)) + " instead of EACCES") + ": it is not known to stay unwritable"
                        + " here"), true);
                }
            }
        } finally {
            LibC.munmap(at, page);
            if (readOnly >= 0) {
                LibC.close(readOnly);
            }
        }
        return new Immutability(new SealSupport(Status.AVAILABLE, "immutable memory is available: mseal works, a"
            + " memfd takes the file seals F_SEAL_WRITE, F_SEAL_SHRINK, F_SEAL_GROW and F_SEAL_SEAL, and the kernel"
            + " maps it read-only once they are on"), true);
    }

    private static final byte SCRATCH_BYTE = 0x5a;

    /** A scratch mapping of the probe that failed: a passing shortage (ENOMEM) is asked again next time. */
    private static Immutability mapFailed(String what, long result, String note) {
        int errno = LibC.failed(result) ? (int) -result : 0;
        return new Immutability(new SealSupport(Status.PROBE_FAILED, what + " failed with "
            + (errno == 0 ? "a wrong address, " + Errno.hex(result) : Errno.name(errno)) + note), errno == Errno.ENOMEM);
    }

    /** How {@code mmap} arguments name the descriptor a read-only map of a sealed memfd goes through. */
    public static String readOnlyMapArguments(int readOnly) {
        return "PROT_READ, MAP_SHARED|MAP_FIXED, " + (readOnly >= 0 ? "memfd opened read-only" : "memfd opened read-write");
    }

    private static String throughWhich(int readOnly) {
        return readOnly >= 0 ? "descriptor opened read-only (/proc/self/fd)" : "read-write descriptor (no read-only"
            + " one: opening /proc/self/fd failed with " + Errno.name(-readOnly) + ")";
    }

    /**
     * Flags of the read-only descriptor. {@code O_NOCTTY} changes nothing for a memfd; it makes the call one
     * that a test's seccomp filter can tell from the JVM's own opens.
     */
    public static final int READ_ONLY_FLAGS = Mman.O_RDONLY | Mman.O_CLOEXEC | Mman.O_NOCTTY;

    /**
     * A second descriptor of memfd {@code fd}, opened read-only through {@code /proc/self/fd}, or {@code -errno}
     * (ENOENT where {@code /proc} is not mounted). A shared mapping made through a descriptor that is not open
     * for writing never gets {@code VM_SHARED|VM_MAYWRITE}, so the kernel maps the write-sealed file read-only
     * through it on every version, where through the read-write one Linux before 6.7 and 6.12.0 to 6.12.8 refuse
     * (EPERM).
     */
    public static int openReadOnly(int fd) {
        return LibC.open("/proc/self/fd/" + fd, READ_ONLY_FLAGS);
    }

    /** Whether memfd_create takes MFD_NOEXEC_SEAL; kernels before 6.3 answer it with EINVAL. */
    private static volatile boolean noExecSealKnown = true;

    /**
     * A new memfd that allows sealing, with MFD_NOEXEC_SEAL where the kernel knows it (needed where
     * {@code vm.memfd_noexec=2}): the descriptor, or {@code -errno}.
     */
    public static int memfd() {
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
