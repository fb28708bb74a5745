package io.github.mseal4j.doctor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mseal4j.Mseal;
import io.github.mseal4j.testing.ChildJvm;
import io.github.mseal4j.testing.MiniJson;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The doctor on hosts whose probe passes but whose real seals fail (a filter or a security module that treats
 * real ranges differently, or the mapping limit), or do not take: it reports, it does not crash. Each in a
 * child JVM, whose seccomp filter cannot be removed.
 */
class DoctorFaultTest {
    private static ChildJvm.Result run(String... args) {
        assumeTrue(Mseal.isSupported(), Mseal.support().reason());
        return ChildJvm.runMain(List.of("--enable-native-access=ALL-UNNAMED"), DoctorFaultChild.class, args);
    }

    /** The doctor's JSON from a child run with {@code args}, which must end with exit status 1 and no stack trace. */
    private static Map<?, ?> failedDemonstrationJson(String... args) {
        ChildJvm.Result result = run(args);
        assertFalse(result.stderr().contains("Exception in thread"), result.stderr());
        assertEquals(1, result.exitStatus(), result.transcript());
        Map<?, ?> json = (Map<?, ?>) MiniJson.parse(result.stdout().strip());
        assertEquals(1L, json.get("exitStatus"));
        return json;
    }

    @Test
    void aSealThatFailsIsReportedInTheJsonWithExitStatusOne() {
        Map<?, ?> json = failedDemonstrationJson("enomem", "--json");
        Map<?, ?> demonstration = (Map<?, ?>) json.get("demonstration");
        String failure = (String) demonstration.get("failure");
        assertTrue(failure.contains("mseal(") && failure.contains("ENOMEM"), failure);
        assertEquals(Boolean.FALSE, demonstration.get("kernelReportsSealed"));
        assertTrue(((String) json.get("verdict")).contains("demonstration failed"), (String) json.get("verdict"));
    }

    @Test
    void withNoFileDescriptorLeftItStillReportsInJson() {
        Map<?, ?> json = failedDemonstrationJson("no-fds", "--json");
        String failure = (String) ((Map<?, ?>) json.get("demonstration")).get("failure");
        assertTrue(failure.contains("smaps"), failure);
    }

    @Test
    void aSealThatDidNotTakeIsReportedInTheTextWithExitStatusOne() {
        ChildJvm.Result result = run("fake");
        assertFalse(result.stderr().contains("Exception in thread"), result.stderr());
        assertEquals(1, result.exitStatus(), result.transcript());
        String text = result.stdout();
        assertTrue(text.lines().anyMatch(line -> line.startsWith("demonstration") && line.contains("FAILED")
            && line.contains("returned 0")), text);
        assertTrue(text.lines().anyMatch(line -> line.startsWith("verdict") && line.contains("demonstration failed")),
            text);
        assertTrue(text.contains("seal policy") && text.contains("mappings"), "the rest of the report: " + text);
    }
}
