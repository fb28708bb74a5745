package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mseal4j.testing.AddressSpace;
import io.github.mseal4j.testing.ChildJvm;
import java.util.List;
import java.util.stream.Stream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Hosts where immutable memory does not work, played by child JVMs whose seccomp filter answers
 * {@code memfd_create} or {@code fcntl(F_ADD_SEALS)} with an errno ({@link ImmutabilityFaultChild}): the
 * verdict names the cause, strict refuses explicit requests, best-effort falls back, the defaults of arenas
 * and maps fall back silently, and no descriptor or mapping is left behind.
 */
class ImmutabilityFaultTest {
    private static final Pattern AROUND = Pattern.compile("\\(fds (\\d+) -> (\\d+), new address space: ([^)]*)\\)");

    private static String run(String policy, String rule, String when) {
        assumeTrue(Mseal.isSupported(), Mseal.support().reason());
        ChildJvm.Result result = ChildJvm.runMain(Stream.concat(AddressSpace.STEADY_JVM.stream(), Stream.of(
            "--enable-native-access=ALL-UNNAMED", "-Dio.github.mseal4j.policy=" + policy)).toList(),
            ImmutabilityFaultChild.class, rule, when);
        assertEquals(0, result.exitStatus(), result.transcript());
        System.out.print(policy + " " + rule + " " + when + ":\n" + result.stdout() + result.stderr());
        return result.stdout() + "\n--- stderr ---\n" + result.stderr();
    }

    /** Explicit requests refused under strict, arenas and maps on ordinary memory, nothing leaked. */
    private static void strictRefusedAndTheDefaultsFellBack(String out) {
        assertTrue(out.contains("explicit: UnsupportedOperationException: cannot map immutable memory: "), out);
        assertTrue(out.contains("freeze: UnsupportedOperationException: cannot map immutable memory: "), out);
        assertTrue(out.contains("arena: ok, isSealed=true, isImmutable=false"), out);
        assertTrue(out.contains("map: ok, get=v, isImmutable=false"), out);
        nothingLeaked(out);
    }

    /**
     * Every failure reported with its descriptor count and the address space around it left them as they were:
     * no descriptor more, no address space mapped that was not before (see {@code testing.AddressSpace}).
     */
    private static void nothingLeaked(String out) {
        Matcher around = AROUND.matcher(out);
        while (around.find()) {
            assertEquals(around.group(1), around.group(2), "descriptors: " + out);
            assertEquals("none", around.group(3), "new address space: " + out);
        }
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource({"memfd-EPERM, MEMFD_UNAVAILABLE, EPERM", "memfd-ENOSYS, MEMFD_UNAVAILABLE, ENOSYS",
        "seals-EINVAL, FILE_SEALS_UNAVAILABLE, EINVAL"})
    void strictRefusesExplicitRequestsAndTheDefaultsFallBack(String rule, String status, String errno) {
        String out = run("strict", rule, "before");
        assertTrue(out.contains("verdict=" + status + ": "), out);
        assertTrue(out.lines().anyMatch(line -> line.startsWith("verdict=") && line.contains(errno)), "names " + errno
            + ": " + out);
        strictRefusedAndTheDefaultsFellBack(out);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"memfd-EPERM", "memfd-ENOSYS", "seals-EINVAL"})
    void bestEffortFallsBackToSealedMemoryAndWarnsOnce(String rule) {
        String out = run("best-effort", rule, "before");
        assertTrue(out.contains("explicit: ok, isSealed=true, isImmutable=false"), out);
        assertTrue(out.contains("freeze: ok, bytes=3"), out);
        assertTrue(out.contains("arena: ok, isSealed=true, isImmutable=false"), out);
        assertEquals(1, out.lines().filter(line -> line.contains("asked to be IMMUTABLE is ordinary memory")).count(),
            "one warning: " + out);
    }

    @Test
    void memfdRefusedAfterTheProbeFailsTheAllocationAndLeaksNothing() {
        String out = run("strict", "memfd-EPERM", "after");
        assertTrue(out.contains("verdict=AVAILABLE"), out);
        assertTrue(out.contains("allocate after: SystemCallException: memfd_create("), out);
        assertTrue(out.contains("EPERM"), out);
        nothingLeaked(out);
    }

    @Test
    void fileSealsRefusedAfterTheProbeLeaveTheRegionWritableWithItsData() {
        String out = run("strict", "seals-EINVAL", "after");
        assertTrue(out.contains("freeze after: SystemCallException: fcntl("), out);
        assertTrue(out.contains("EINVAL"), out);
        assertTrue(out.contains("region after: maps=rw-s, value=42, writable=true, isImmutable=false"),
            "the writable mapping is back, data intact: " + out);
        Matcher closed = Pattern.compile("closed: fds (\\d+) -> (\\d+), new address space: (.*)").matcher(out);
        assertTrue(closed.find(), out);
        assertEquals(closed.group(1), closed.group(2), "the memfd is closed: " + out);
        assertEquals("none", closed.group(3), "everything unmapped: " + out);
    }

    /**
     * Linux before 6.7 and 6.12.0 to 6.12.8 refuse to map a write-sealed memfd read-only and shared through a
     * descriptor open for writing. The probe then tries one opened read-only ({@code /proc/thread-self/fd}); where
     * that map is refused too (played by a filter refusing every such map), or none can be opened, the probe says
     * so before anything is frozen, explicit requests are refused, and arenas and maps fall back.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"final-map-EPERM, own descriptor (EPERM), then through one opened read-only (/proc/thread-self/fd)",
        "no-proc-final-map-EPERM, own descriptor, and no read-only one could be opened (/proc/thread-self/fd: ENOENT)"})
    void aRefusedReadOnlyMapIsFoundByTheProbeAndTheDefaultsFallBack(String rule, String through) {
        String out = run("strict", rule, "before");
        assertTrue(out.contains("verdict=READ_ONLY_MAP_REFUSED: ") && out.contains("through its " + through)
            && out.contains("EPERM"), out);
        if (rule.startsWith("no-proc")) {
            assertTrue(out.contains("Linux before 6.7 and 6.12.0 to 6.12.8"), "names the kernels: " + out);
        }
        strictRefusedAndTheDefaultsFellBack(out);
    }

    /**
     * Without the library's {@code /proc} opens (played by a filter refusing them; the JDK can still read
     * {@code /proc/self/maps}, which the check of the mapped file falls back to), the read-only map goes through the
     * memfd's own descriptor, as it does wherever the kernel allows: immutable memory works, and the mapping keeps
     * the {@code sh} flag a read-only descriptor's mapping lacks.
     */
    @Test
    void withoutProcTheFreezeMapsThroughTheReadWriteDescriptor() {
        String out = run("strict", "no-proc", "before");
        assertTrue(out.contains("verdict=AVAILABLE"), out);
        assertTrue(out.contains("explicit: ok, isSealed=true, isImmutable=true, sh=true"), out);
        assertTrue(out.contains("map: ok, get=v, isImmutable=true"), out);
    }

    /**
     * A read-only map refused after the probe (a filter installed late) fails the freeze with the real cause, leaves
     * the data readable (a private read-only mapping of the sealed file: neither immutable nor sealed), does not
     * promise that a retry will work, and leaks nothing when closed.
     */
    @Test
    void aReadOnlyMapRefusedAfterTheProbeLeavesTheDataReadable() {
        String out = run("strict", "final-map-EPERM", "after");
        for (String attempt : List.of("freeze after: ", "freeze again: ")) {
            String line = out.lines().filter(l -> l.startsWith(attempt)).findFirst().orElseThrow();
            assertTrue(line.contains("SystemCallException: mmap(") && line.contains("memfd opened read-write) failed:"
                + " EPERM") && line.contains("a seccomp filter or a security module refused the call"), line);
            assertTrue(line.contains("the data stays readable at the same address") && line.contains("succeeds only"
                + " once its cause is gone") && !line.contains("can be retried"), line);
        }
        assertTrue(out.contains("region after: maps=r--p, value=42, writable=false, isImmutable=false"), out);
        Matcher closed = Pattern.compile("closed: fds (\\d+) -> (\\d+), new address space: (.*)").matcher(out);
        assertTrue(closed.find(), out);
        assertEquals(closed.group(1), closed.group(2), "the memfd is closed: " + out);
        assertEquals("none", closed.group(3), "everything unmapped: " + out);
    }
}
