package io.github.mseal4j.doctor;

import io.github.mseal4j.doctor.Doctor.Attempt;
import io.github.mseal4j.doctor.Doctor.Environment;
import io.github.mseal4j.doctor.Doctor.Hardening;
import io.github.mseal4j.doctor.Doctor.Report;
import io.github.mseal4j.doctor.Doctor.UserfaultfdWrites;
import io.github.mseal4j.internal.Errno;
import java.io.PrintStream;
import java.util.Locale;

/** The doctor's findings as text: one finding per line, a label and what was found. */
final class TextReport {
    private TextReport() {
    }

    /**
     * The report as text, one finding per line.
     *
     * @param report the findings
     * @param out where to print them
     */
    static void print(Report report, PrintStream out) {
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
        line(out, "sealed for good", environment.sealedForGood());
        line(out, "sealed and immutable mappings", environment.mappingKinds());
        line(out, "  from outside", "awk '/^[0-9a-f]+-[0-9a-f]+ /{m=$0} /^VmFlags:/{if ($0 ~ / sl( |$)/) print m}'"
            + " /proc/" + ProcessHandle.current().pid() + "/smaps  (docs/operators.md: what each kind looks like)");
        line(out, "lifetimes", "sealed for good: never freed, for data kept until exit; an Arena's: immutable, not"
            + " sealed, unmapped when the arena closes, for data that is replaced (docs/lifetimes.md)");
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
}
