package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.internal.MapReserve;
import io.github.mseal4j.testing.ChildJvm;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Multi-step operations at {@code vm.max_map_count}, in child JVMs ({@link MapLimitChild}): each either
 * completes or leaves things as they were, and nothing is leaked. The library's own reserve of mappings for the
 * JVM is turned off here: these show what happens where other code has taken the process to the limit.
 */
class MapLimitTest {

    private static ChildJvm.Result run(String scenario) {
        long limit = Long.parseLong(Errno.maxMapCount());
        assumeTrue(limit <= 131_072, "vm.max_map_count is " + limit + " here; the test runs where it is at most 131072");
        ChildJvm.Result result = ChildJvm.runMain(List.of("--enable-native-access=ALL-UNNAMED",
            "-D" + MapReserve.PROPERTY + "=0", "-Xint",
            "-XX:+UseSerialGC", "-Xms128m", "-Xmx128m", "-XX:+AlwaysPreTouch", "-Xss512k"), MapLimitChild.class,
            scenario);
        assertEquals(0, result.exitStatus(), result.transcript());
        System.out.print(scenario + ":\n" + result.stdout());
        return result;
    }

    @ParameterizedTest
    @ValueSource(strings = {"arena-seal-immutable", "arena-seal-anonymous"})
    void anArenaSealAtTheLimitSealsForRealOrLeavesTheArenaAsItWas(String scenario) {
        String out = run(scenario).stdout();
        boolean sealedAtOnce = out.contains("first seal: ok") && out.contains("first isSealed=true");
        boolean asBefore = !out.contains("first seal: ok") && out.contains("first isSealed=false")
            && out.contains("retry: ok, isSealed=true");
        assertTrue(sealedAtOnce || asBefore, "sealed for real, or failed and then sealed by a retry: " + out);
        assertTrue(out.contains("view=7"), out);
    }

    @Test
    void closeOfAGuardedRegionMadeInaccessibleUnmapsEverythingAtTheLimit() {
        String out = run("close-guarded").stdout();
        assertTrue(out.contains("close: ok"), out);
        assertTrue(out.contains("data page still mapped=false, mappings left in the range=0"), out);
    }

    /**
     * The kernel merges a region with neighbouring mappings of the same kind, and then unmapping it from the
     * middle needs a split: at the limit close() cannot, so it must fail leaving the region open, and a retry
     * must succeed.
     */
    @Test
    void closeOfARegionMergedWithANeighbourFailsWithNothingChangedAtTheLimit() {
        String out = run("close-merged").stdout();
        assertTrue(out.contains("close: io.github.mseal4j.SystemCallException: munmap(") && out.contains("ENOMEM")
            && out.contains("nothing was unmapped: release other mappings and retry"),
            out);
        assertTrue(out.contains("still open=true, data page still mapped=true"), out);
        assertTrue(out.contains("retry: ok"), out);
        assertTrue(out.contains("data page still mapped=false, mappings left in the range=0"), out);
    }

    @Test
    void aReservationThatCannotBeMadeAccessibleIsNotLeaked() {
        String out = run("arena-reservation").stdout();
        Matcher counts = Pattern.compile("mappings before=(\\d+) after close=(\\d+)").matcher(out);
        assertTrue(counts.find(), out);
        assertEquals(counts.group(1), counts.group(2), "close() leaves no reservation behind: " + out);
    }
}
