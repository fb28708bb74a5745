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
        assertTrue(out.contains("explicit: UnsupportedOperationException: cannot map immutable memory: "), out);
        assertTrue(out.contains("freeze: UnsupportedOperationException: cannot map immutable memory: "), out);
        assertTrue(out.contains("arena: ok, isSealed=true, isImmutable=false"), out);
        assertTrue(out.contains("map: ok, get=v, isImmutable=false"), out);
        nothingLeaked(out);
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
}
