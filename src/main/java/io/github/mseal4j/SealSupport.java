package io.github.mseal4j;

import java.util.Objects;

/**
 * Whether {@code mseal(2)} works in this JVM, and why not when it does not. Obtained from
 * {@link Mseal#support()}, which probes once per process; {@link Mseal#immutability()} gives the same kind of
 * verdict for immutable memory, which needs mseal and more.
 *
 * @param status what the probe found
 * @param reason the finding in plain words, with the remedy where one exists; never empty
 */
public record SealSupport(Status status, String reason) {

    /** What the support probe found. */
    public enum Status {
        /** {@code mseal(NULL, 0, 0)} returned 0: sealing works. */
        AVAILABLE,
        /** The operating system is not Linux. */
        NOT_LINUX,
        /** The JVM is not 64-bit; the kernel implements mseal only on 64-bit builds. */
        NOT_64_BIT,
        /** mseal4j does not know the system call number on this CPU architecture (for example alpha, MIPS). */
        UNKNOWN_ARCHITECTURE,
        /** The JVM did not grant native access to mseal4j; the reason names the flag to add. */
        NATIVE_ACCESS_DISABLED,
        /** The probe returned {@code ENOSYS}: the kernel predates Linux 6.10. */
        KERNEL_TOO_OLD,
        /** The probe returned {@code EPERM}: a seccomp filter or security module forbids mseal. */
        BLOCKED_BY_POLICY,
        /** The probe failed in an unexpected way; the reason gives the details. */
        PROBE_FAILED,
        /**
         * Immutable memory only: {@code memfd_create} is refused (a seccomp filter, a security module, a kernel
         * before 3.17, or {@code vm.memfd_noexec}); the reason has the errno.
         */
        MEMFD_UNAVAILABLE,
        /** Immutable memory only: the kernel refused file seals ({@code F_ADD_SEALS}) on a memfd. */
        FILE_SEALS_UNAVAILABLE,
        /**
         * Immutable memory only: the kernel refused to map a write-sealed memfd read-only and shared (EPERM): Linux
         * before 6.7 and 6.12.0 to 6.12.8 do through a read-write descriptor, and a read-only one could not be
         * opened ({@code /proc} not mounted); or a seccomp filter or security module refused the call.
         */
        READ_ONLY_MAP_REFUSED
    }

    /**
     * Checks the components.
     *
     * @param status what the probe found
     * @param reason the finding in plain words
     */
    public SealSupport {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(reason, "reason");
        if (reason.isBlank()) {
            throw new IllegalArgumentException("reason must say something");
        }
    }

    /**
     * True when sealing works here.
     *
     * @return {@code status() == Status.AVAILABLE}
     */
    public boolean available() {
        return status == Status.AVAILABLE;
    }
}
