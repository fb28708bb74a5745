package io.github.mseal4j.doctor;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.testing.Seccomp;
import io.github.mseal4j.testing.Seccomp.Call;
import io.github.mseal4j.testing.Seccomp.Rule;
import java.util.Arrays;

/**
 * Run in a child JVM by {@link DoctorFaultTest}: the doctor on a host whose probe passes but whose real seals
 * then fail. {@code enomem}: a seccomp filter answers {@code mseal(0, 0, 0)} (the probe) with success, as the
 * kernel would, and every other mseal with ENOMEM (as at {@code vm.max_map_count}). {@code fake}: every mseal
 * is answered with success without running it. {@code no-fds}: after one examination (which loads every class
 * the doctor needs), no file descriptor is left, so /proc files cannot be read. The remaining arguments go to
 * the doctor.
 */
public final class DoctorFaultChild {
    private DoctorFaultChild() {
    }

    public static void main(String[] args) {
        switch (args[0]) {
            case "enomem" -> Seccomp.install(Rule.denyWhen(Call.MSEAL, 1, 0, 0), Rule.deny(Call.MSEAL, Errno.ENOMEM));
            case "fake" -> Seccomp.install(Rule.deny(Call.MSEAL, 0));
            case "no-fds" -> {
                Doctor.toJson(Doctor.examine());
                Doctor.print(Doctor.examine(), new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
                io.github.mseal4j.testing.Limits.limitOpenFiles(0);
            }
            default -> throw new IllegalArgumentException(args[0]);
        }
        Doctor.main(Arrays.copyOfRange(args, 1, args.length));
    }
}
