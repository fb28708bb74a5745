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
import org.junit.jupiter.api.Test;

/**
 * Running out of mappings ({@code vm.max_map_count}) is reported with the limit and the sysctl, crashes
 * nothing, and everything allocated before still closes. In a child JVM, kept small and interpreted so that
 * the JVM itself needs no new mappings while the process is at the limit.
 */
class MappingExhaustionTest {

    @Test
    void theErrorNamesTheLimitAndEverythingStillCloses() {
        long limit = Long.parseLong(Errno.maxMapCount());
        // Ubuntu 23.10+ raises the limit to 1048576: reaching that takes minutes and a large heap.
        assumeTrue(limit <= 131_072, "vm.max_map_count is " + limit + " here; the test runs where it is at most 131072");
        ChildJvm.Result result = ChildJvm.runMain(List.of("--enable-native-access=ALL-UNNAMED",
            "-D" + MapReserve.PROPERTY + "=0", "-Xint",
            "-XX:+UseSerialGC", "-Xms256m", "-Xmx256m", "-XX:+AlwaysPreTouch", "-Xss512k"), ExhaustMappings.class);
        assertEquals(0, result.exitStatus(), "the JVM survived: " + result.transcript());
        String out = result.stdout();
        System.out.print(out);
        assertTrue(out.contains("errno=ENOMEM"), result.transcript());
        assertTrue(out.contains("vm.max_map_count (" + limit + " mappings)"), "names the limit: " + out);
        assertTrue(out.contains("sysctl -w vm.max_map_count="), "names the sysctl: " + out);
        Matcher made = Pattern.compile("regions before the limit: (\\d+)").matcher(out);
        assertTrue(made.find() && Long.parseLong(made.group(1)) > limit / 2 - 2000,
            "it really reached the limit: " + out);
        Matcher closed = Pattern.compile("mappings (\\d+) before, \\d+ with 1000 regions given back, (\\d+) after")
            .matcher(out);
        assertTrue(closed.find(), result.transcript());
        assertTrue(Long.parseLong(closed.group(2)) <= Long.parseLong(closed.group(1)) + 50,
            "every region closed: " + out);
    }
}
