package io.github.mseal4j.doctor;

import io.github.mseal4j.MappedRegion;
import io.github.mseal4j.MappingOption;
import io.github.mseal4j.Mseal;
import io.github.mseal4j.SealPolicy;
import io.github.mseal4j.SealStatistics;
import io.github.mseal4j.SealSupport;
import io.github.mseal4j.SystemCallException;
import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.Mman;
import io.github.mseal4j.internal.Smaps;
import io.github.mseal4j.internal.Userfaultfd;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
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
    private static final byte[] MESSAGE = "sealed by the mseal4j doctor".getBytes(StandardCharsets.US_ASCII);

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
     * {@code RLIMIT_DATA}), and the kernel's {@code proc_mem.force_override} boot option.
     */
    public record Environment(String policy, boolean policyValid, String seccomp, long mappings, long maxMapCount,
                              String memlockLimit, String fileSizeLimit, String addressSpaceLimit, String dataLimit,
                              String procMemForceOverride) {
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
        Environment environment = environment(policyProblem);
        Optional<Demonstration> demonstration = Optional.empty();
        if (support.available()) {
            try {
                demonstration = Optional.of(demonstrate(pageSize));
            } catch (RuntimeException e) {
                // Anything else the demonstration needs failing (reading /proc with no descriptor left, say)
                // is a finding too: the report goes out, with what stopped it.
                demonstration = Optional.of(stopped(0, pageSize, e));
            }
        }
        return new Report(version, System.getProperty("os.name"), System.getProperty("os.arch"),
            System.getProperty("java.version"), System.getProperty("java.vendor"), System.getProperty("os.version"),
            pageSize, support, Mseal.immutability(), environment, demonstration);
    }

    private static Environment environment(Optional<String> policyProblem) {
        String policy = policyProblem.map(problem -> "invalid: " + problem).orElseGet(() -> Mseal.policy().name());
        String seccomp = "unknown";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Seccomp:")) {
                    seccomp = switch (line.substring("Seccomp:".length()).strip()) {
                        case "0" -> "disabled";
                        case "1" -> "strict";
                        case "2" -> "filter (a seccomp filter may refuse system calls)";
                        default -> line;
                    };
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or no /proc
        }
        SealStatistics statistics = Mseal.statistics();
        return new Environment(policy, policyProblem.isEmpty(), seccomp, statistics.mappings(),
            statistics.maxMapCount(), Errno.memlockLimit(), Errno.fileSizeLimit(), Errno.addressSpaceLimit(),
            Errno.dataLimit(), procMemForceOverride());
    }

    /** The kernel's {@code proc_mem.force_override=} boot option, if given. */
    private static String procMemForceOverride() {
        try {
            for (String word : Files.readString(Path.of("/proc/cmdline")).strip().split("\\s+")) {
                if (word.startsWith("proc_mem.force_override=")) {
                    return word.substring("proc_mem.force_override=".length());
                }
            }
            return "not set (the kernel's build default applies: CONFIG_PROC_MEM_ALWAYS_FORCE unless configured"
                + " otherwise)";
        } catch (IOException | RuntimeException e) {
            return "unknown (/proc/cmdline unreadable)";
        }
    }

    @SuppressWarnings("resource") // sealed: the page and its guards outlive close() by design
    private static Hardening harden(long pageSize) {
        List<MappingOption> options = new ArrayList<>(List.of(MappingOption.GUARD_PAGES, MappingOption.NO_DUMP,
            MappingOption.LOCKED, MappingOption.NO_FORK));
        String note = "";
        MappedRegion region;
        try {
            region = MappedRegion.allocate(pageSize, options.toArray(MappingOption[]::new));
        } catch (SystemCallException e) {
            note = "LOCKED could not be applied: " + e.getMessage();
            options.remove(MappingOption.LOCKED);
            region = MappedRegion.allocate(pageSize, options.toArray(MappingOption[]::new));
        }
        region.segment().copyFrom(MemorySegment.ofArray(MESSAGE));
        region.sealReadOnly();
        long data = region.address();
        List<Smaps.Vma> around = Smaps.read(data - pageSize, data + 2 * pageSize);
        return new Hardening(options.toString(), describe(around, data), describe(around, data - pageSize),
            describe(around, data + pageSize), note);
    }

    @SuppressWarnings("resource") // frozen: the page outlives close() by design
    private static Immutable freeze(long pageSize) {
        MappedRegion region = MappedRegion.allocate(pageSize, MappingOption.IMMUTABLE);
        region.segment().copyFrom(MemorySegment.ofArray(MESSAGE));
        region.sealReadOnly();
        long address = region.address();
        String mapping = describe(Smaps.read(address, address + pageSize), address);
        Optional<String> refused = writeProcMem(address, (byte) (MESSAGE[0] ^ 0x20));
        int mprotect = LibC.mprotect(address, pageSize, Mman.PROT_READ | Mman.PROT_WRITE);
        boolean intact = Arrays.equals(readProcMem(address, MESSAGE.length).orElse(null), MESSAGE);
        String detail = refused.map(f -> "the write was refused: " + f)
            .orElse("a write through /proc/self/mem was accepted");
        return new Immutable(mapping, region.isImmutable(), refused.isPresent(), detail, mprotect, intact);
    }

    private static String describe(List<Smaps.Vma> vmas, long address) {
        return vmas.stream().filter(vma -> vma.start() <= address && address < vma.end()).findFirst()
            .map(vma -> vma.permissions() + " " + vma.flagLine()).orElse("(not mapped)");
    }

    /**
     * Seals a scratch page and attacks it, then shows a hardened and an immutable page. A sealing call that
     * fails, or succeeds without sealing (the library checks), ends the demonstration as a finding: the probe
     * said sealing works and a real seal did not, which is what a seccomp filter or security module that treats
     * real ranges apart, or a process at {@code vm.max_map_count}, looks like.
     */
    @SuppressWarnings("resource") // sealed: the page outlives close() by design and is never unmapped
    private static Demonstration demonstrate(long pageSize) {
        MappedRegion region = null;
        MemorySegment sealed;
        try {
            region = MappedRegion.allocate(pageSize);
            region.segment().copyFrom(MemorySegment.ofArray(MESSAGE));
            sealed = region.sealReadOnly();
        } catch (RuntimeException e) {
            long at = region == null ? 0 : region.address();
            Demonstration stopped = stopped(at, pageSize, e);
            if (region != null && !stopped.kernelReportsSealed()) {
                try {
                    region.close();
                } catch (RuntimeException ignored) {
                    // a scratch page left mapped is all it costs
                }
            }
            return stopped;
        }
        long address = region.address();

        List<Attempt> attempts = new ArrayList<>();
        attempts.add(new Attempt("mprotect(PROT_READ|PROT_WRITE)",
            LibC.mprotect(address, pageSize, Mman.PROT_READ | Mman.PROT_WRITE)));
        attempts.add(new Attempt("munmap", LibC.munmap(address, pageSize)));
        attempts.add(new Attempt("mremap(grow, MREMAP_MAYMOVE)",
            errnoOf(LibC.mremap(address, pageSize, 2 * pageSize, Mman.MREMAP_MAYMOVE, 0))));
        attempts.add(new Attempt("mmap(MAP_FIXED) over it", errnoOf(LibC.mmap(address, pageSize,
            Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED, -1, 0))));
        attempts.add(new Attempt("madvise(MADV_DONTNEED)", LibC.madvise(address, pageSize, Mman.MADV_DONTNEED)));

        // Read back through /proc/self/mem, not the segment: if an attack had worked, the page might be gone.
        boolean intact = Arrays.equals(readProcMem(address, MESSAGE.length).orElse(null), MESSAGE);
        List<Smaps.Vma> vmas = Smaps.read(address, address + pageSize);
        String flags = vmas.isEmpty() ? "(no mapping)" : vmas.getFirst().flagLine();
        boolean kernelSealed = Smaps.coveredAndSealed(vmas, address, address + pageSize);

        boolean reached = false;
        String detail;
        if (attempts.stream().allMatch(Attempt::blocked)) {
            byte before = sealed.get(ValueLayout.JAVA_BYTE, 0);
            byte written = (byte) (before ^ 0x20);
            Optional<String> failure = writeProcMem(address, written);
            reached = sealed.get(ValueLayout.JAVA_BYTE, 0) == written;
            detail = failure.map(f -> "the write was refused: " + f).orElse(reached
                ? "a write through /proc/self/mem changed the sealed read-only page (the kernel's FOLL_FORCE allows"
                    + " it for ordinary memory; immutable memory refuses it, see below)"
                : "the write returned but the page did not change");
        } else {
            detail = "not tried: an attack on the sealed page succeeded";
        }
        Optional<String> failure = Optional.empty();
        Hardening hardening;
        try {
            hardening = harden(pageSize);
        } catch (RuntimeException e) {
            failure = Optional.of("the hardened page: " + describe(e));
            hardening = new Hardening("not shown", "", "", "", failure.get());
        }
        Optional<Immutable> immutable = Optional.empty();
        if (failure.isEmpty() && Mseal.immutability().available()) {
            try {
                immutable = Optional.of(freeze(pageSize));
            } catch (RuntimeException e) {
                failure = Optional.of("the immutable page: " + describe(e));
            }
        }
        Optional<UserfaultfdWrites> userfaultfd = Optional.empty();
        if (failure.isEmpty()) {
            try {
                userfaultfd = Optional.of(userfaultfd(pageSize));
            } catch (RuntimeException e) {
                failure = Optional.of("the userfaultfd pages: " + describe(e));
            }
        }
        return new Demonstration(address, pageSize, List.copyOf(attempts), intact, flags, kernelSealed, reached,
            detail, hardening, immutable, userfaultfd, failure);
    }

    /**
     * Tries userfaultfd (unprivileged, {@code UFFD_USER_MODE_ONLY}) on three scratch pages, none ever written: one
     * sealed read-only by a bare {@code mseal} (what the kernel allows), one sealed read-only by the library, and
     * an immutable one. All three stay mapped: sealed.
     */
    @SuppressWarnings("resource") // sealed: the pages outlive close() by design
    private static UserfaultfdWrites userfaultfd(long pageSize) {
        try (Userfaultfd uffd = Userfaultfd.open(Userfaultfd.USER_MODE_ONLY)) {
            if (uffd.refused() != 0) {
                return new UserfaultfdWrites(uffd.refused(), -1, -1, -1);
            }
            byte[] forged = new byte[(int) pageSize];
            Arrays.fill(forged, (byte) 0x66);
            int raw = -1;
            long bare = LibC.mmap(0, pageSize, Mman.PROT_READ, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, -1, 0);
            if (!LibC.failed(bare) && bare != 0 && LibC.mseal(bare, pageSize) == 0) {
                int registered = uffd.register(bare, pageSize);
                raw = registered != 0 ? registered : uffd.copy(bare, forged);
            }
            MappedRegion region = MappedRegion.allocate(pageSize);
            long sealed = region.sealReadOnly().address();
            int registered = uffd.register(sealed, pageSize);
            int library = registered != 0 ? registered : uffd.copy(sealed, forged);
            int immutable = -1;
            if (Mseal.immutability().available()) {
                MappedRegion frozen = MappedRegion.allocate(pageSize, MappingOption.IMMUTABLE);
                immutable = uffd.register(frozen.sealReadOnly().address(), pageSize);
            }
            return new UserfaultfdWrites(0, raw, library, immutable);
        }
    }

    /**
     * A demonstration that stopped with {@code e} before any attack, with what smaps says of the scratch page at
     * {@code address} (0: none was mapped), if smaps can be read.
     */
    private static Demonstration stopped(long address, long pageSize, RuntimeException e) {
        String flags = "(no mapping)";
        boolean kernelSealed = false;
        if (address != 0) {
            try {
                List<Smaps.Vma> vmas = Smaps.read(address, address + pageSize);
                kernelSealed = Smaps.coveredAndSealed(vmas, address, address + pageSize);
                flags = vmas.isEmpty() ? flags : vmas.getFirst().flagLine();
            } catch (RuntimeException unreadable) {
                flags = "(unknown: " + unreadable.getMessage() + ")";
            }
        }
        return new Demonstration(address, pageSize, List.of(), false, flags, kernelSealed, false,
            "not tried: the demonstration stopped first", new Hardening("not shown", "", "", "", ""), Optional.empty(),
            Optional.empty(), Optional.of(describe(e)));
    }

    private static String describe(RuntimeException e) {
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    private static int errnoOf(long addressOrNegativeErrno) {
        return LibC.failed(addressOrNegativeErrno) ? (int) -addressOrNegativeErrno : 0;
    }

    private static Optional<byte[]> readProcMem(long address, int length) {
        try (FileChannel mem = FileChannel.open(Path.of("/proc/self/mem"), StandardOpenOption.READ)) {
            ByteBuffer buffer = ByteBuffer.allocate(length);
            while (buffer.hasRemaining() && mem.read(buffer, address + buffer.position()) > 0) {
                // keep reading
            }
            return Optional.of(buffer.array());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static Optional<String> writeProcMem(long address, byte value) {
        try (FileChannel mem = FileChannel.open(Path.of("/proc/self/mem"), StandardOpenOption.WRITE)) {
            mem.write(ByteBuffer.wrap(new byte[] {value}), address);
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of(String.valueOf(e.getMessage()));
        }
    }

    /**
     * The report as text, one finding per line.
     *
     * @param report the findings
     * @param out where to print them
     */
    public static void print(Report report, PrintStream out) {
        out.printf(Locale.ROOT, "mseal4j doctor %s%n", report.version());
        line(out, "platform", report.osName() + " " + report.osArch() + ", Java " + report.javaVersion()
            + " (" + report.javaVendor() + ")");
        line(out, "kernel", report.kernelRelease());
        line(out, "page size", report.pageSize() > 0 ? report.pageSize() + " bytes" : "unknown");
        line(out, "mseal", report.support().status() + ": " + report.support().reason());
        line(out, "immutable memory", report.immutability().status() + ": " + report.immutability().reason());
        Environment environment = report.environment();
        line(out, "seal policy", environment.policy());
        line(out, "seccomp", environment.seccomp());
        line(out, "mappings", environment.mappings() + " of vm.max_map_count " + environment.maxMapCount()
            + " (headroom " + environment.headroom() + ")");
        line(out, "RLIMIT_MEMLOCK", environment.memlockLimit());
        line(out, "RLIMIT_FSIZE", environment.fileSizeLimit() + " (a memfd counts against it)");
        line(out, "RLIMIT_AS", environment.addressSpaceLimit());
        line(out, "RLIMIT_DATA", environment.dataLimit());
        line(out, "proc_mem.force_override", environment.procMemForceOverride());
        report.demonstration().ifPresent(demo -> {
            demo.failure().ifPresent(failure -> line(out, "demonstration", "FAILED: " + failure));
            if (demo.attempts().isEmpty()) {
                line(out, "smaps VmFlags", demo.vmFlags() + (demo.kernelReportsSealed() ? "  (sealed)" : "  (NOT sealed)"));
                return; // the scratch page could not be sealed: nothing else was tried
            }
            line(out, "scratch page", Errno.hex(demo.address()) + ", " + demo.length()
                + " bytes, written, then made read-only and sealed");
            for (Attempt attempt : demo.attempts()) {
                String outcome = attempt.errno() == 0 ? "SUCCEEDED (it must not)"
                    : Errno.name(attempt.errno()) + (attempt.blocked() ? " (blocked)" : " (unexpected)");
                line(out, "  " + attempt.call(), outcome);
            }
            line(out, "contents", demo.contentsIntact() ? "intact" : "CHANGED");
            line(out, "smaps VmFlags", demo.vmFlags() + (demo.kernelReportsSealed()
                ? "  ('sl': the kernel reports the page sealed)" : "  (NOT sealed)"));
            line(out, "/proc/self/mem", demo.procMemDetail());
            Hardening hardening = demo.hardening();
            if (hardening.options().equals("not shown")) {
                line(out, "hardened page", "not shown: " + hardening.note());
                return; // the demonstration stopped there
            }
            line(out, "hardened page", hardening.options() + ", sealed read-only");
            line(out, "  data", hardening.data());
            line(out, "  guard below", hardening.guardBelow());
            line(out, "  guard above", hardening.guardAbove());
            if (!hardening.note().isEmpty()) {
                line(out, "  note", hardening.note());
            }
            demo.immutable().ifPresentOrElse(immutable -> {
                line(out, "immutable page", "IMMUTABLE, frozen: " + immutable.mapping()
                    + (immutable.kernelReportsImmutable() ? "  (shared, sealed, no 'mw': immutable)" : "  (NOT immutable)"));
                line(out, "  /proc/self/mem write", immutable.procMemDetail());
                line(out, "  mprotect(PROT_READ|PROT_WRITE)", immutable.mprotectErrno() == 0 ? "SUCCEEDED (it must not)"
                    : Errno.name(immutable.mprotectErrno()) + " (refused)");
                line(out, "  contents", immutable.contentsIntact() ? "intact" : "CHANGED");
            }, () -> line(out, "immutable page", "not shown: " + (report.immutability().available()
                ? "the demonstration stopped before it" : report.immutability().reason())));
            demo.userfaultfd().ifPresent(uffd -> print(uffd, out));
        });
        line(out, "verdict", report.verdict());
    }

    private static void print(UserfaultfdWrites uffd, PrintStream out) {
        if (uffd.refused() != 0) {
            line(out, "userfaultfd", "not available to this process (" + Errno.name(uffd.refused()) + "): that write"
                + " path to sealed memory is closed here");
            return;
        }
        line(out, "userfaultfd", "available unprivileged (UFFD_USER_MODE_ONLY): a write path mseal does not check");
        line(out, "  page sealed by a bare mseal", uffd.rawCopyErrno() < 0 ? "not tried"
            : uffd.rawCopyErrno() == 0 ? "UFFDIO_COPY succeeded: the kernel lets it fill a sealed read-only page that"
                + " was never faulted in" : "UFFDIO_COPY " + Errno.name(uffd.rawCopyErrno()));
        line(out, "  page sealed by mseal4j", uffd.libraryCopyErrno() == 0 ? "UFFDIO_COPY SUCCEEDED (it must not)"
            : "UFFDIO_COPY " + Errno.name(uffd.libraryCopyErrno()) + " (refused: every page is faulted in before it is"
                + " sealed)");
        if (uffd.immutableRegisterErrno() >= 0) {
            line(out, "  immutable page", uffd.immutableRegisterErrno() == 0 ? "UFFDIO_REGISTER SUCCEEDED (it must not)"
                : "UFFDIO_REGISTER " + Errno.name(uffd.immutableRegisterErrno()) + " (refused: it can never be"
                    + " written)");
        }
    }

    private static void line(PrintStream out, String label, String value) {
        out.printf(Locale.ROOT, "%-34s %s%n", label, value);
    }

    /**
     * The report as one JSON object.
     *
     * @param report the findings
     * @return the JSON text
     */
    public static String toJson(Report report) {
        Json json = new Json();
        json.begin();
        json.field("version", report.version());
        json.field("osName", report.osName());
        json.field("osArch", report.osArch());
        json.field("javaVersion", report.javaVersion());
        json.field("javaVendor", report.javaVendor());
        json.field("kernelRelease", report.kernelRelease());
        json.field("pageSize", report.pageSize());
        verdict(json, "support", report.support());
        verdict(json, "immutability", report.immutability());
        Environment environment = report.environment();
        json.name("environment").begin();
        json.field("policy", environment.policy());
        json.field("policyValid", environment.policyValid());
        json.field("seccomp", environment.seccomp());
        json.field("mappings", environment.mappings());
        json.field("maxMapCount", environment.maxMapCount());
        json.field("headroom", environment.headroom());
        json.field("memlockLimit", environment.memlockLimit());
        json.field("fileSizeLimit", environment.fileSizeLimit());
        json.field("addressSpaceLimit", environment.addressSpaceLimit());
        json.field("dataLimit", environment.dataLimit());
        json.field("procMemForceOverride", environment.procMemForceOverride());
        json.end();
        report.demonstration().ifPresent(demo -> {
            json.name("demonstration").begin();
            json.field("address", Errno.hex(demo.address()));
            json.field("length", demo.length());
            json.field("failure", demo.failure().orElse(""));
            json.name("attempts").beginArray();
            for (Attempt attempt : demo.attempts()) {
                json.begin();
                json.field("call", attempt.call());
                json.field("errno", attempt.errno());
                json.field("errnoName", attempt.errno() == 0 ? "" : Errno.name(attempt.errno()));
                json.field("blocked", attempt.blocked());
                json.end();
            }
            json.endArray();
            json.field("contentsIntact", demo.contentsIntact());
            json.field("vmFlags", demo.vmFlags());
            json.field("kernelReportsSealed", demo.kernelReportsSealed());
            json.name("procSelfMem").begin();
            json.field("writeReachedSealedMemory", demo.procMemWriteReached());
            json.field("detail", demo.procMemDetail());
            json.end();
            Hardening hardening = demo.hardening();
            json.name("hardening").begin();
            json.field("options", hardening.options());
            json.field("data", hardening.data());
            json.field("guardBelow", hardening.guardBelow());
            json.field("guardAbove", hardening.guardAbove());
            json.field("guardsSealed", hardening.guardsSealed());
            json.field("note", hardening.note());
            json.end();
            demo.userfaultfd().ifPresent(uffd -> {
                json.name("userfaultfd").begin();
                json.field("refusedErrnoName", uffd.refused() == 0 ? "" : Errno.name(uffd.refused()));
                json.field("bareSealCopyErrnoName", errnoName(uffd.rawCopyErrno()));
                json.field("libraryCopyErrnoName", errnoName(uffd.libraryCopyErrno()));
                json.field("immutableRegisterErrnoName", errnoName(uffd.immutableRegisterErrno()));
                json.field("closedForLibraryMemory", uffd.closedForLibraryMemory());
                json.end();
            });
            demo.immutable().ifPresent(immutable -> {
                json.name("immutable").begin();
                json.field("mapping", immutable.mapping());
                json.field("kernelReportsImmutable", immutable.kernelReportsImmutable());
                json.field("procMemWriteRefused", immutable.procMemWriteRefused());
                json.field("procMemDetail", immutable.procMemDetail());
                json.field("mprotectErrnoName", immutable.mprotectErrno() == 0 ? "" : Errno.name(immutable.mprotectErrno()));
                json.field("contentsIntact", immutable.contentsIntact());
                json.field("proven", immutable.proven());
                json.end();
            });
            json.end();
        });
        json.field("verdict", report.verdict());
        json.field("exitStatus", report.exitStatus());
        json.end();
        return json.toString();
    }

    /** An errno as the JSON gives it: its name, {@code ""} for success, {@code "not tried"} for -1. */
    private static String errnoName(int errno) {
        return errno < 0 ? "not tried" : errno == 0 ? "" : Errno.name(errno);
    }

    private static void verdict(Json json, String name, SealSupport verdict) {
        json.name(name).begin();
        json.field("available", verdict.available());
        json.field("status", verdict.status().name());
        json.field("reason", verdict.reason());
        json.end();
    }
}
