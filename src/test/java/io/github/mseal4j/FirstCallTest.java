package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mseal4j.testing.ChildJvm;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Errors at the first call, in the user's terms: without native access, the first entry point of each type
 * refuses at once (a builder before any entry is put), with an {@link UnsupportedOperationException} naming
 * {@code --enable-native-access} and, under a test runner, where it goes. In child JVMs without the grant; the
 * launchers are told by the properties they set, given to the child here.
 */
class FirstCallTest {
    private static final List<String> ENTRIES = List.of("SealedMap.builder()", "SealedMap.copyOf",
        "SealedMap.copyOf(arena)", "SealedSet.builder()", "SealedSet.copyOf", "SealedArena.create()",
        "MappedRegion.allocate", "MappedRegion.allocate(options)", "Mseal.freeze(bytes)", "Mseal.freeze(empty)",
        "Mseal.freeze(bytes, arena)", "Mseal.freeze(path)");

    @Test
    void everyFirstEntryPointRefusesNamingTheFlag() {
        ChildJvm.Result result = ChildJvm.runMain(List.of(), NoNativeAccessChild.class);
        assertEquals(0, result.exitStatus(), result.transcript());
        for (String entry : ENTRIES) {
            String line = line(result, entry);
            assertTrue(line.startsWith(entry + ": UnsupportedOperationException: native access is not enabled")
                && line.contains("--enable-native-access=ALL-UNNAMED"), line);
        }
        assertTrue(result.stdout().contains("support: NATIVE_ACCESS_DISABLED"), result.transcript());
        assertFalse(result.stderr().contains("WARNING: A restricted method"), "no native call was made: "
            + result.transcript());
    }

    @Test
    void underSurefireTheMessageNamesTheArgLineAndUnderGradleTheJvmArgs() {
        String surefire = line(ChildJvm.runMain(List.of("-Dsurefire.test.class.path=target/test-classes"),
            NoNativeAccessChild.class), "SealedMap.builder()");
        assertTrue(surefire.contains("<argLine>--enable-native-access=ALL-UNNAMED</argLine>"), surefire);
        String gradle = line(ChildJvm.runMain(List.of("-Dorg.gradle.test.worker=3"), NoNativeAccessChild.class),
            "SealedMap.builder()");
        assertTrue(gradle.contains("jvmArgs(\"--enable-native-access=ALL-UNNAMED\")"), gradle);
    }

    private static String line(ChildJvm.Result result, String entry) {
        return result.stdout().lines().filter(l -> l.startsWith(entry + ": ")).findFirst()
            .orElseThrow(() -> new AssertionError(entry + " not reported: " + result.transcript()));
    }
}
