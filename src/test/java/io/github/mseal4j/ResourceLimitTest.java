package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mseal4j.testing.ChildJvm;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A process limit that refuses what the library asks of the kernel is named in the error, with its current
 * value and a remedy that fits: not the causes that do not apply.
 */
class ResourceLimitTest {

    private static String run(String scenario) {
        ChildJvm.Result result = ChildJvm.runMain(List.of("--enable-native-access=ALL-UNNAMED"),
            ResourceLimitChild.class, scenario);
        assertEquals(0, result.exitStatus(), "no crash: " + result.transcript());
        return result.stdout();
    }

    private static String line(String out, String what) {
        return out.lines().filter(l -> l.startsWith(what + ": ")).findFirst()
            .orElseThrow(() -> new AssertionError(what + " in " + out));
    }

    @Test
    void aFileSizeLimitBelowAMemfdIsNamedWithItsValueAndTheWayOut() {
        assumeTrue(Mseal.immutability().available(), Mseal.immutability().reason());
        String out = run("fsize");
        String region = line(out, "region IMMUTABLE 2 MiB");
        assertTrue(region.contains("SystemCallException: ftruncate(") && region.contains("EFBIG")
            && region.contains("RLIMIT_FSIZE (ulimit -f, now 1048576 bytes)"), region);
        String arena = line(out, "arena");
        assertTrue(arena.contains("EFBIG") && arena.contains("SealedArena.create("),
            "says what the arena reserves, and how to reserve less: " + arena);
    }

    @Test
    void anAddressSpaceLimitIsNamedAndTheCommitLimitOnlyWhereItApplies() {
        String out = run("as");
        String region = line(out, "region 128 MiB");
        assertTrue(region.contains("ENOMEM") && region.contains("RLIMIT_AS (ulimit -v"), region);
        String arena = line(out, "arena");
        assertTrue(arena.contains("ENOMEM") && arena.contains("RLIMIT_AS (ulimit -v")
            && arena.contains("SealedArena.create("), arena);
        assertFalse(arena.contains("commit limit"), "a shared or PROT_NONE mapping is not charged: " + arena);
    }
}
