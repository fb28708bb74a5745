package io.github.mseal4j.doctor;

import io.github.mseal4j.MappingOption;
import io.github.mseal4j.Mseal;
import io.github.mseal4j.SealPolicy;
import io.github.mseal4j.SealSupport;
import io.github.mseal4j.internal.Errno;
import java.io.PrintStream;
import java.util.List;
import java.util.Optional;

/**
 * {@code java -jar mseal4j.jar [--json]}: tells whether sealing and immutable memory work on this host and
 * shows them working on scratch pages. A client of the library's public API (plus the raw calls it attacks
 * with), not part of it. Exit status:
 * <ul>
 *   <li>0: sealing works and every attack on sealed memory was refused;</li>
 *   <li>1: sealing is reported available, but the demonstration failed (a sealing call failed, or succeeded
 *       without sealing, or another call it needs failed; the report says which), or saw something the kernel
 *       should not allow;</li>
 *   <li>2: sealing is not available here;</li>
 *   <li>3: sealing works, but this JVM's configuration ({@code -Dio.github.mseal4j.policy}) is invalid, so an
 *       application started the same way fails at its first seal;</li>
 *   <li>64: a bad command line.</li>
 * </ul>
 */
public final class Doctor {
    /** One attack on a sealed page and the errno it got (0: it succeeded). */
    public record Attempt(String call, int errno) {
        /** True when the kernel refused with EPERM, as it must for sealed memory. */
        public boolean blocked() {
            return errno == Errno.EPERM;
        }
    }

    /**
     * What the process's setting allows: the seal policy (or why the property is invalid), its seccomp mode,
     * its mappings against {@code vm.max_map_count}, the soft limits that bite what the library maps
     * ({@code RLIMIT_MEMLOCK}; {@code RLIMIT_FSIZE}, which counts a memfd; {@code RLIMIT_AS};
     * {@code RLIMIT_DATA}), the kernel's {@code proc_mem.force_override} boot option, and what the library has
     * sealed for good in this process, against the budget ({@code -Dio.github.mseal4j.maxSealedBytes}), and the
     * kinds of sealed and immutable mappings the process has, as seen from outside ({@code docs/operators.md}).
     */
    public record Environment(String policy, boolean policyValid, String seccomp, long mappings, long maxMapCount,
                              String memlockLimit, String fileSizeLimit, String addressSpaceLimit, String dataLimit,
                              String procMemForceOverride, String sealedForGood, String mappingKinds) {
        /** Mappings left before {@code vm.max_map_count}, or -1 when unknown. */
        public long headroom() {
            return maxMapCount < 0 || mappings < 0 ? -1 : maxMapCount - mappings;
        }
    }

    /**
     * A scratch page allocated with every hardening {@link MappingOption} and sealed read-only: the smaps lines
     * of the data and of the guard pages on either side ({@code perms flags}), and anything that could not be
     * applied.
     */
    public record Hardening(String options, String data, String guardBelow, String guardAbove, String note) {
        /** True when both guards are sealed PROT_NONE mappings. */
        public boolean guardsSealed() {
            return guardBelow.startsWith("---p") && guardBelow.contains(" sl")
                && guardAbove.startsWith("---p") && guardAbove.contains(" sl");
        }
    }

    /**
     * A scratch page allocated {@link MappingOption#IMMUTABLE} and frozen: what smaps shows, whether the
     * kernel reports it immutable, and what became of a write through {@code /proc/self/mem} and of
     * {@code mprotect(PROT_READ|PROT_WRITE)}.
     */
    public record Immutable(String mapping, boolean kernelReportsImmutable, boolean procMemWriteRefused,
                            String procMemDetail, int mprotectErrno, boolean contentsIntact) {
        /** True when nothing could write the page: the proof of immutability. */
        public boolean proven() {
            return kernelReportsImmutable && procMemWriteRefused && mprotectErrno != 0 && contentsIntact;
        }
    }

    /**
     * userfaultfd, a write path to sealed memory that mseal does not check, tried on scratch pages. Each field is
     * the errno of the call (0: it succeeded), or -1 when it was not tried.
     *
     * @param refused why userfaultfd could not be opened here (0: it was opened), which closes the path
     * @param rawCopyErrno {@code UFFDIO_COPY} into a page mapped read-only and sealed with a bare {@code mseal},
     *     never faulted in: 0 where the kernel lets the bytes in
     * @param libraryCopyErrno the same into a page mseal4j sealed read-only: EEXIST, as the library faults every
     *     page in before it seals it
     * @param immutableRegisterErrno {@code UFFDIO_REGISTER} of an immutable page: refused, as it can never be
     *     written
     */
    public record UserfaultfdWrites(int refused, int rawCopyErrno, int libraryCopyErrno, int immutableRegisterErrno) {
        /** True when no page the library sealed read-only could be written this way. */
        public boolean closedForLibraryMemory() {
            return refused != 0 || (libraryCopyErrno != 0 && immutableRegisterErrno != 0);
        }
    }

    /**
     * What happened to the scratch pages. {@code failure}: why the demonstration stopped, when one of its
     * sealing calls failed or did not take (the exception's type and message); the parts after it were not
     * tried.
     */
    public record Demonstration(long address, long length, List<Attempt> attempts, boolean contentsIntact,
                                String vmFlags, boolean kernelReportsSealed, boolean procMemWriteReached,
                                String procMemDetail, Hardening hardening, Optional<Immutable> immutable,
                                Optional<UserfaultfdWrites> userfaultfd, Optional<String> failure) {
        /**
         * True when nothing failed, every attack was refused, the data survived, the kernel shows the seal, and no
         * page the library sealed took a write through userfaultfd.
         */
        public boolean proven() {
            return failure.isEmpty() && attempts.stream().allMatch(Attempt::blocked) && contentsIntact
                && kernelReportsSealed && immutable.map(Immutable::proven).orElse(true)
                && userfaultfd.map(UserfaultfdWrites::closedForLibraryMemory).orElse(true);
        }
    }

    /** Everything the doctor found. {@code pageSize} is -1 and {@code demonstration} empty when unknown. */
    public record Report(String version, String osName, String osArch, String javaVersion, String javaVendor,
                         String kernelRelease, long pageSize, SealSupport support, SealSupport immutability,
                         Environment environment, Optional<Demonstration> demonstration) {
        /** The process exit status the report calls for (see the class documentation). */
        public int exitStatus() {
            if (!support.available()) {
                return 2;
            }
            if (!demonstration.map(Demonstration::proven).orElse(false)) {
                return 1;
            }
            return environment.policyValid() ? 0 : 3;
        }

        /** One sentence for the last line. */
        public String verdict() {
            return switch (exitStatus()) {
                case 0 -> "sealing works here: every attack on sealed memory was refused with EPERM"
                    + (immutability.available() ? ", and immutable memory refused every write" : "");
                case 2 -> "sealing is not available here: " + support.reason();
                case 3 -> "sealing works here, but the seal policy property is invalid: an application started"
                    + " with it fails at its first seal (" + environment.policy() + ")";
                default -> demonstration.flatMap(Demonstration::failure).isPresent()
                    ? "sealing is reported available (the probe passed), but the demonstration failed (see the"
                        + " demonstration line): a seccomp filter or security module that answers real calls"
                        + " differently, or the process's limits (mappings, file descriptors), do this"
                    : "sealing is available but the demonstration did not behave as the kernel promises; see above";
            };
        }
    }

    private Doctor() {
    }

    /**
     * Runs the doctor.
     *
     * @param args {@code --json} for one JSON object instead of text
     */
    public static void main(String[] args) {
        boolean json = false;
        for (String arg : args) {
            switch (arg) {
                case "--json" -> json = true;
                case "--help", "-h" -> {
                    System.out.println("usage: java -jar mseal4j.jar [--json]");
                    return;
                }
                default -> {
                    System.err.println("unknown argument: " + arg + "\nusage: java -jar mseal4j.jar [--json]");
                    System.exit(64);
                }
            }
        }
        // An invalid policy makes every sealing call throw. Report it, then demonstrate under the default
        // (strict): nothing in the library has read the property yet.
        Optional<String> policyProblem = policyProblem();
        if (policyProblem.isPresent()) {
            System.setProperty(SealPolicy.PROPERTY, "strict");
        }
        Report report = examine(policyProblem);
        if (json) {
            System.out.println(toJson(report));
        } else {
            print(report, System.out);
        }
        System.exit(report.exitStatus());
    }

    private static Optional<String> policyProblem() {
        try {
            SealPolicy.parse(System.getProperty(SealPolicy.PROPERTY, "strict"));
            return Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.of(e.getMessage());
        }
    }

    /**
     * Examines this JVM and, where sealing works, seals a few scratch pages (which then live until exit).
     *
     * @return the findings
     */
    public static Report examine() {
        return examine(policyProblem());
    }

    private static Report examine(Optional<String> policyProblem) {
        String version = Optional.ofNullable(Doctor.class.getPackage().getImplementationVersion()).orElse("dev");
        SealSupport support = Mseal.support();
        long pageSize;
        try {
            pageSize = Mseal.pageSize();
        } catch (UnsupportedOperationException e) {
            pageSize = -1;
        }
        Environment environment = Checks.environment(policyProblem);
        Optional<Demonstration> demonstration = Optional.empty();
        if (support.available()) {
            try {
                demonstration = Optional.of(Checks.demonstrate(pageSize));
            } catch (RuntimeException e) {
                // Anything else the demonstration needs failing (reading /proc with no descriptor left, say)
                // is a finding too: the report goes out, with what stopped it.
                demonstration = Optional.of(Checks.stopped(0, pageSize, e));
            }
        }
        return new Report(version, System.getProperty("os.name"), System.getProperty("os.arch"),
            System.getProperty("java.version"), System.getProperty("java.vendor"), System.getProperty("os.version"),
            pageSize, support, Mseal.immutability(), environment, demonstration);
    }

    /**
     * The report as text, one finding per line.
     *
     * @param report the findings
     * @param out where to print them
     */
    public static void print(Report report, PrintStream out) {
        TextReport.print(report, out);
    }

    /**
     * The report as one JSON object.
     *
     * @param report the findings
     * @return the JSON text
     */
    public static String toJson(Report report) {
        return JsonReport.of(report);
    }
}
