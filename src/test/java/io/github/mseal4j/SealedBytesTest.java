package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mseal4j.testing.ChildJvm;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What is sealed for good, accounted for: the budget ({@value SealCounters#BUDGET_PROPERTY}) and the sealed bytes
 * the program no longer references. Each runs in a child JVM ({@link SealedBytesChild}): the property is read once
 * per process, and the warning needs more sealed memory than the test JVM may hold.
 */
class SealedBytesTest {

    @BeforeEach
    void requireImmutability() {
        assumeTrue(Mseal.immutability().available(), Mseal.immutability().reason());
    }

    @Test
    void aSealFreezeOrBuildThatWouldPassTheBudgetIsRefusedAndChangesNothing() {
        String budget = String.valueOf(16 * Mseal.pageSize() / 1024) + "k";
        assertOk(child("budget", "-D" + SealCounters.BUDGET_PROPERTY + "=" + budget), "budget");
    }

    @Test
    void aBudgetThatIsNotASizeIsRefusedAtTheFirstSeal() {
        assertOk(child("invalid", "-D" + SealCounters.BUDGET_PROPERTY + "=64 megabytes"), "invalid");
    }

    @Test
    void sealedBytesCountAsUnreachableOnceNothingRefersToThemAndNotBefore() {
        assertOk(child("unreachable"), "unreachable");
    }

    @Test
    void past64MibUnreachableOneWarningNamesTheArenaVariantsAndJfrRecordsIt() {
        ChildJvm.Result result = child("warning", "--add-modules", "jdk.jfr");
        assertOk(result, "warning");
        Matcher warning = Pattern.compile("WARNING: mseal4j: (\\d+) MiB of sealed memory is no longer referenced")
            .matcher(result.stderr());
        assertTrue(warning.find(), result.transcript());
        assertTrue(Integer.parseInt(warning.group(1)) >= 64, result.transcript());
        assertTrue(result.stderr().contains("SealedMap.copyOf(map, arena)")
            && result.stderr().contains("Mseal.freeze(data, arena)"), result.transcript());
        assertTrue(!warning.find(), "said once: " + result.transcript());
    }

    private static ChildJvm.Result child(String mode, String... options) {
        List<String> jvm = new java.util.ArrayList<>(List.of("--enable-native-access=ALL-UNNAMED", "-Xmx256m"));
        jvm.addAll(List.of(options));
        return ChildJvm.runMain(jvm, SealedBytesChild.class, mode);
    }

    private static void assertOk(ChildJvm.Result result, String mode) {
        assertEquals(0, result.exitStatus(), result.transcript());
        assertTrue(result.stdout().contains(mode + ": ok"), result.transcript());
    }
}
