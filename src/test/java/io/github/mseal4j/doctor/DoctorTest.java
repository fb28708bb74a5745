package io.github.mseal4j.doctor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mseal4j.Mseal;
import io.github.mseal4j.SealSupport;
import io.github.mseal4j.doctor.Doctor.Attempt;
import io.github.mseal4j.doctor.Doctor.Demonstration;
import io.github.mseal4j.doctor.Doctor.Environment;
import io.github.mseal4j.doctor.Doctor.Hardening;
import io.github.mseal4j.doctor.Doctor.Immutable;
import io.github.mseal4j.doctor.Doctor.Report;
import io.github.mseal4j.doctor.Doctor.UserfaultfdWrites;
import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.testing.MiniJson;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The doctor's findings, its text and its JSON. The packaged jar is run end to end by DoctorIT. */
class DoctorTest {
    private static final Environment ENVIRONMENT = new Environment("STRICT", true, "disabled", 500, 65530,
        "8388608 bytes", "unlimited", "unlimited", "unlimited", "not set", "0 bytes in 0 regions, 0 no longer"
            + " referenced; budget none", "0 immutable and sealed");
    private static final SealSupport AVAILABLE = new SealSupport(SealSupport.Status.AVAILABLE, "available");

    @Test
    void onThisHostTheDemonstrationProvesTheSeal() {
        assumeTrue(Mseal.isSupported(), Mseal.support().reason());
        Report report = Doctor.examine();
        Demonstration demo = report.demonstration().orElseThrow();
        assertEquals(5, demo.attempts().size());
        for (Attempt attempt : demo.attempts()) {
            assertEquals("EPERM", Errno.name(attempt.errno()), attempt.call());
        }
        assertTrue(demo.contentsIntact());
        assertTrue(demo.kernelReportsSealed(), demo.vmFlags());
        assertTrue(demo.vmFlags().contains("sl"));
        assertEquals(0, report.exitStatus(), report.verdict());
        assertEquals(Mseal.pageSize(), report.pageSize());
        Hardening hardening = demo.hardening();
        assertTrue(hardening.guardsSealed(), hardening.toString());
        for (String flag : List.of(" sl", " dd", " dc")) {
            assertTrue(hardening.data().contains(flag), flag + " in " + hardening.data());
        }
        assertTrue(hardening.data().startsWith("r--p"), hardening.data());
        assertTrue(hardening.note().isEmpty() == hardening.data().contains(" lo"), "locked, or says why not: " + hardening);
        Immutable immutable = demo.immutable().orElseThrow(() -> new AssertionError(Mseal.immutability().reason()));
        assertTrue(immutable.proven(), immutable.toString());
        assertTrue(immutable.mapping().startsWith("r--s") && !immutable.mapping().contains(" mw"), immutable.mapping());
        assertTrue(immutable.procMemDetail().contains("Input/output error"), "EIO: " + immutable.procMemDetail());
        assertEquals("EACCES", Errno.name(immutable.mprotectErrno()));
        UserfaultfdWrites uffd = demo.userfaultfd().orElseThrow();
        assertTrue(uffd.closedForLibraryMemory(), uffd.toString());
        if (uffd.refused() == 0) {
            assertEquals(0, uffd.rawCopyErrno(), "the kernel lets userfaultfd fill a bare sealed page: " + uffd);
            assertEquals("EEXIST", Errno.name(uffd.libraryCopyErrno()), uffd.toString());
            assertTrue(uffd.immutableRegisterErrno() > 0, uffd.toString());
        }
        Environment environment = report.environment();
        assertEquals("STRICT", environment.policy());
        assertTrue(environment.policyValid());
        assertTrue(environment.headroom() > 0 && environment.mappings() > 0, environment.toString());
    }

    @Test
    void theTextShowsEveryRefusal() {
        assumeTrue(Mseal.isSupported(), Mseal.support().reason());
        String text = print(Doctor.examine());
        for (String call : List.of("mprotect", "munmap", "mremap", "mmap(MAP_FIXED)", "madvise(MADV_DONTNEED)")) {
            assertTrue(text.lines().anyMatch(line -> line.contains(call) && line.contains("EPERM (blocked)")),
                call + " in\n" + text);
        }
        assertTrue(text.contains("'sl'"), text);
        assertTrue(text.contains("/proc/self/mem"), text);
        for (String label : List.of("seal policy", "seccomp", "mappings", "RLIMIT_MEMLOCK", "RLIMIT_FSIZE",
            "RLIMIT_AS", "RLIMIT_DATA", "hardened page",
            "guard below", "guard above", "immutable memory", "immutable page", "proc_mem.force_override",
            "userfaultfd")) {
            assertTrue(text.contains(label), label + " in\n" + text);
        }
    }

    @Test
    void theJsonIsOneObjectWithTheSameFindings() {
        Report report = Doctor.examine();
        Map<?, ?> json = (Map<?, ?>) MiniJson.parse(Doctor.toJson(report));
        assertEquals(report.kernelRelease(), json.get("kernelRelease"));
        assertEquals((long) report.exitStatus(), json.get("exitStatus"));
        Map<?, ?> support = (Map<?, ?>) json.get("support");
        assertEquals(report.support().available(), support.get("available"));
        assertEquals(report.support().reason(), support.get("reason"));
        Map<?, ?> environment = (Map<?, ?>) json.get("environment");
        assertEquals(report.environment().maxMapCount(), environment.get("maxMapCount"));
        // The limits that bite immutable memory (a memfd's size), arenas (address space) and anonymous memory.
        assertEquals(report.environment().fileSizeLimit(), environment.get("fileSizeLimit"));
        assertEquals(report.environment().addressSpaceLimit(), environment.get("addressSpaceLimit"));
        assertEquals(report.environment().dataLimit(), environment.get("dataLimit"));
        if (report.support().available()) {
            Map<?, ?> hardening = (Map<?, ?>) ((Map<?, ?>) json.get("demonstration")).get("hardening");
            assertEquals(Boolean.TRUE, hardening.get("guardsSealed"));
            List<?> attempts = (List<?>) ((Map<?, ?>) json.get("demonstration")).get("attempts");
            assertEquals(5, attempts.size());
            assertTrue(attempts.stream().allMatch(a -> "EPERM".equals(((Map<?, ?>) a).get("errnoName"))));
            Map<?, ?> immutable = (Map<?, ?>) ((Map<?, ?>) json.get("demonstration")).get("immutable");
            assertEquals(Boolean.TRUE, immutable.get("procMemWriteRefused"), json.toString());
            assertEquals(Boolean.TRUE, immutable.get("kernelReportsImmutable"), json.toString());
        }
        assertEquals(report.immutability().status().name(), ((Map<?, ?>) json.get("immutability")).get("status"));
    }

    @Test
    void anUnsupportedHostExitsNonZeroWithTheReason() {
        SealSupport blocked = new SealSupport(SealSupport.Status.BLOCKED_BY_POLICY, "mseal is blocked by seccomp");
        Report report = new Report("dev", "Linux", "amd64", "25", "vendor", "6.18", 4096, blocked, blocked, ENVIRONMENT,
            Optional.empty());
        assertEquals(2, report.exitStatus());
        assertTrue(report.verdict().contains("mseal is blocked by seccomp"));
        String text = print(report);
        assertTrue(text.contains("BLOCKED_BY_POLICY"), text);
        assertFalse(text.contains("scratch page"), text);
        Map<?, ?> json = (Map<?, ?>) MiniJson.parse(Doctor.toJson(report));
        assertEquals(2L, json.get("exitStatus"));
        assertFalse(json.containsKey("demonstration"));
    }

    @Test
    void anAttackThatSucceedsFailsTheVerdict() {
        Demonstration demo = new Demonstration(0x1000, 4096, List.of(new Attempt("munmap", 0)), true, "rd", true,
            false, "not tried", new Hardening("[]", "r--p rd", "---p sl", "---p sl", ""), Optional.empty(), Optional.empty(), Optional.empty());
        Report report = new Report("dev", "Linux", "amd64", "25", "vendor", "6.18", 4096, AVAILABLE, AVAILABLE,
            ENVIRONMENT, Optional.of(demo));
        assertEquals(1, report.exitStatus());
        assertTrue(print(report).contains("SUCCEEDED (it must not)"));
    }

    @Test
    void aLibraryPageThatTookAUserfaultfdCopyFailsTheVerdict() {
        Demonstration demo = new Demonstration(0x1000, 4096, List.of(new Attempt("munmap", 1)), true, "sl", true,
            true, "reached", new Hardening("[]", "r--p rd", "---p sl", "---p sl", ""), Optional.empty(),
            Optional.of(new UserfaultfdWrites(0, 0, 0, 1)), Optional.empty());
        Report report = new Report("dev", "Linux", "amd64", "25", "vendor", "6.18", 4096, AVAILABLE, AVAILABLE,
            ENVIRONMENT, Optional.of(demo));
        assertEquals(1, report.exitStatus());
        assertTrue(print(report).contains("UFFDIO_COPY SUCCEEDED (it must not)"), print(report));
    }

    @Test
    void anImmutablePageThatCouldBeWrittenFailsTheVerdict() {
        Immutable written = new Immutable("r--s rd sh mr me ms sl", true, false, "a write was accepted", 13, false);
        Demonstration demo = new Demonstration(0x1000, 4096, List.of(new Attempt("munmap", 1)), true, "sl", true,
            true, "reached", new Hardening("[]", "r--p rd", "---p sl", "---p sl", ""), Optional.of(written), Optional.empty(), Optional.empty());
        Report report = new Report("dev", "Linux", "amd64", "25", "vendor", "6.18", 4096, AVAILABLE, AVAILABLE,
            ENVIRONMENT, Optional.of(demo));
        assertEquals(1, report.exitStatus(), "immutable memory that can be written is a failed demonstration");
    }

    @Test
    void anInvalidPolicyIsExitStatusThreeOnceTheDemonstrationPasses() {
        Environment invalid = new Environment("invalid: -Dio.github.mseal4j.policy=x is not a seal policy", false,
            "disabled", 500, 65530, "8388608 bytes", "unlimited", "unlimited", "unlimited", "not set", "none", "none");
        Demonstration demo = new Demonstration(0x1000, 4096, List.of(new Attempt("munmap", 1)), true, "sl", true,
            true, "reached", new Hardening("[]", "r--p rd", "---p sl", "---p sl", ""), Optional.empty(), Optional.empty(),
            Optional.empty());
        Report report = new Report("dev", "Linux", "amd64", "25", "vendor", "6.18", 4096, AVAILABLE, AVAILABLE,
            invalid, Optional.of(demo));
        assertEquals(3, report.exitStatus());
        assertTrue(report.verdict().contains("policy property is invalid"), report.verdict());
        assertTrue(print(report).contains("invalid: -Dio.github.mseal4j.policy=x"));
    }

    @Test
    void jsonStringsAreEscaped() {
        Json json = new Json().begin().field("text", "a \"quoted\" \\ line\nand\ttab\u0001").end();
        assertEquals(Map.of("text", "a \"quoted\" \\ line\nand\ttab\u0001"), MiniJson.parse(json.toString()));
        assertThrows(IllegalArgumentException.class, () -> MiniJson.parse("{\"a\":1,}"));
    }

    private static String print(Report report) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Doctor.print(report, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
