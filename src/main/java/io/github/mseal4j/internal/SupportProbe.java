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

    private SupportProbe() {
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
