package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mseal4j.testing.AddressSpace;
import io.github.mseal4j.testing.ChildJvm;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The {@code io.github.mseal4j.policy} property, in child JVMs whose kernel answers mseal with ENOSYS or
 * EPERM (a seccomp filter), and on this host.
 */
class PolicyTest {

    private static ChildJvm.Result run(String policy, String mseal) {
        return ChildJvm.runMain(Stream.concat(AddressSpace.STEADY_JVM.stream(), Stream.of("--enable-native-access=ALL-UNNAMED",
            "-Dio.github.mseal4j.policy=" + policy)).toList(),
            PolicyChild.class, mseal);
    }

    @Test
    void bestEffortProtectsButDoesNotSealAndWarnsOnce() {
        ChildJvm.Result result = run("best-effort", "ENOSYS");
        assertEquals(0, result.exitStatus(), result.transcript());
        String out = result.stdout();
        assertTrue(out.contains("status=KERNEL_TOO_OLD"), result.transcript());
        assertTrue(out.contains("policy=BEST_EFFORT"), result.transcript());
        assertTrue(out.contains("sealReadOnly returned: config, readOnly=true"), result.transcript());
        assertTrue(out.contains("maps=r--p"), "the data pages are read-only in /proc/self/maps: " + out);
        assertTrue(out.contains("isSealed=false"), result.transcript());
        assertTrue(out.contains("protect after sealReadOnly: refused"), "still treated as sealed: " + out);
        assertTrue(out.contains("view after close: config"), "and never unmapped: " + out);
        assertTrue(out.contains("arena sealed: 7, isSealed=false"), result.transcript());
        assertTrue(out.contains("map built: v"), result.transcript());
        assertTrue(out.contains("empty freeze: returned"), result.transcript());
        // Nothing describes itself as sealed when the kernel sealed nothing.
        for (String says : List.of("region says: ", "arena says: ", "map says: ", "refusal says: ")) {
            String line = out.lines().filter(l -> l.startsWith(says)).findFirst().orElseThrow(() -> new AssertionError(
                says + " in " + out));
            assertTrue(line.contains("NOT sealed") && !Pattern.compile("(?<!NOT )(?<!to be )sealed").matcher(line).find(),
                "says NOT sealed, and never plain 'sealed': " + line);
        }
        assertTrue(out.contains("immutable region says: MappedRegion[") && out.contains("IMMUTABLE (unavailable: ordinary"
            + " memory)"), "a fallen-back IMMUTABLE is not shown as immutable: " + out);
        long warnings = result.stderr().lines().filter(line -> line.contains("NOT sealed")).count();
        assertEquals(1, warnings, "one warning for the whole process: " + result.transcript());
        assertTrue(result.stderr().contains("has no mseal"), "the warning says why: " + result.transcript());
    }

    @Test
    void bestEffortUnderAPolicyThatForbidsMseal() {
        ChildJvm.Result result = run("best-effort", "EPERM");
        assertEquals(0, result.exitStatus(), result.transcript());
        assertTrue(result.stdout().contains("status=BLOCKED_BY_POLICY"), result.transcript());
        assertTrue(result.stdout().contains("maps=r--p") && result.stdout().contains("isSealed=false"),
            result.transcript());
    }

    @Test
    void strictRefusesWithTheReason() {
        ChildJvm.Result result = run("strict", "ENOSYS");
        assertEquals(0, result.exitStatus(), result.transcript());
        assertTrue(result.stdout().contains("refused: UnsupportedOperationException: cannot seal: this kernel"),
            result.transcript());
        assertTrue(result.stdout().contains("arena refused: UnsupportedOperationException"), result.transcript());
        assertTrue(result.stdout().contains("empty freeze refused: UnsupportedOperationException"),
            "nothing to copy is no reason to skip the policy: " + result.transcript());
        assertTrue(result.stdout().contains("map refused: UnsupportedOperationException, address space left behind: none"),
            "a map that cannot be sealed is not built, and leaves nothing mapped: " + result.transcript());
    }

    @Test
    void anUnknownPolicyFailsFastListingTheValidOnes() {
        ChildJvm.Result result = run("sometimes", "none");
        assertEquals(0, result.exitStatus(), result.transcript());
        String expected = "-Dio.github.mseal4j.policy=sometimes is not a seal policy; use strict (the default) or"
            + " best-effort";
        assertTrue(result.stdout().contains("policy refused: " + expected), result.transcript());
        assertTrue(result.stdout().contains("refused: IllegalArgumentException: " + expected),
            "sealing refuses too, even where mseal works: " + result.transcript());
        assertTrue(result.stdout().contains("empty freeze refused: IllegalArgumentException"),
            "freezing nothing too: " + result.transcript());
    }

    @Test
    void bestEffortWhereMsealWorksSealsForReal() {
        ChildJvm.Result result = run("best-effort", "none");
        assertEquals(0, result.exitStatus(), result.transcript());
        assertTrue(result.stdout().contains("isSealed=" + Mseal.isSupported()), result.transcript());
        if (Mseal.isSupported()) {
            assertTrue(result.stdout().lines().anyMatch(line -> line.matches("map says: SealedMap\\[1 entries, \\d+ bytes"
                + " sealed]")), result.transcript());
            assertTrue(result.stdout().lines().anyMatch(l -> l.startsWith("region says: ") && l.contains("READ sealed")
                && !l.contains("NOT")), result.transcript());
        }
        assertTrue(!result.stderr().contains("NOT sealed") || !Mseal.isSupported(), result.transcript());
    }

    @Test
    void illegalNativeAccessAllowIsHonoured() {
        // --illegal-native-access exists from JDK 24 on; "allow" lets restricted calls through without a warning.
        assumeTrue(Runtime.version().feature() >= 24, "--illegal-native-access needs JDK 24+");
        ChildJvm.Result result = ChildJvm.runMain(List.of("--illegal-native-access=allow"), PolicyChild.class, "none");
        assertEquals(0, result.exitStatus(), result.transcript());
        assertTrue(result.stdout().contains("status=AVAILABLE"), result.transcript());
        assertTrue(result.stdout().contains("isSealed=true"), result.transcript());
        assertFalse(result.stderr().contains("WARNING"), result.transcript());
    }
}
