package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mseal4j.testing.ChildJvm;
import io.github.mseal4j.testing.MiniJson;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The packaged jar, run the ways users run it: {@code java -jar} (no flags), on the module path, and without
 * the native-access grant, which must be reported, never warned about by the JVM.
 */
class DoctorIT {
    private static final Path JAR = Path.of(System.getProperty("mseal4j.jar", "target/mseal4j.jar"));
    private static final String MAIN = "io.github.mseal4j.doctor.Doctor";

    private static void requireJar() {
        assertTrue(Files.isRegularFile(JAR), "the packaged jar " + JAR + " exists");
    }

    @Test
    void javaDashJarRunsWithoutFlagsOrWarningsAndShowsTheRefusals() {
        requireJar();
        ChildJvm.Result result = ChildJvm.run(List.of("-jar", JAR.toString()));
        assertNoNativeAccessWarning(result);
        if (!Mseal.isSupported()) {
            assertEquals(2, result.exitStatus(), result.transcript());
            assertTrue(result.stdout().contains(Mseal.support().reason()), result.transcript());
            return;
        }
        assertEquals(0, result.exitStatus(), result.transcript());
        assertEquals(5, result.stdout().lines().filter(line -> line.contains("EPERM (blocked)")).count(),
            result.transcript());
        assertTrue(result.stdout().contains("the kernel reports the page sealed"), result.transcript());
        assertTrue(result.stdout().contains("sealing works here"), result.transcript());
    }

    @Test
    void jsonIsOneObject() {
        requireJar();
        ChildJvm.Result result = ChildJvm.run(List.of("-jar", JAR.toString(), "--json"));
        assertNoNativeAccessWarning(result);
        Map<?, ?> json = (Map<?, ?>) MiniJson.parse(result.stdout());
        assertEquals((long) result.exitStatus(), json.get("exitStatus"));
        assertEquals(Mseal.isSupported(), ((Map<?, ?>) json.get("support")).get("available"));
    }

    @Test
    void onTheModulePathWithTheGrant() {
        requireJar();
        assumeTrue(Mseal.isSupported(), Mseal.support().reason());
        ChildJvm.Result result = ChildJvm.run(List.of("--enable-native-access=io.github.mseal4j",
            "-p", JAR.toString(), "-m", "io.github.mseal4j/" + MAIN));
        assertNoNativeAccessWarning(result);
        assertEquals(0, result.exitStatus(), result.transcript());
    }

    @Test
    void withoutTheGrantOnTheClassPathItSaysWhichFlagToAdd() {
        requireJar();
        ChildJvm.Result result = ChildJvm.run(List.of("-cp", JAR.toString(), MAIN));
        assertNoNativeAccessWarning(result);
        assertEquals(2, result.exitStatus(), result.transcript());
        assertTrue(result.stdout().contains("NATIVE_ACCESS_DISABLED"), result.transcript());
        assertTrue(result.stdout().contains("--enable-native-access=ALL-UNNAMED"), result.transcript());
    }

    @Test
    void withoutTheGrantOnTheModulePathItNamesTheModule() {
        requireJar();
        ChildJvm.Result result = ChildJvm.run(List.of("-p", JAR.toString(), "-m", "io.github.mseal4j/" + MAIN));
        assertNoNativeAccessWarning(result);
        assertEquals(2, result.exitStatus(), result.transcript());
        assertTrue(result.stdout().contains("module io.github.mseal4j"), result.transcript());
        assertTrue(result.stdout().contains("--enable-native-access=io.github.mseal4j"), result.transcript());
    }

    @Test
    void aBadArgumentIsAUsageError() {
        requireJar();
        ChildJvm.Result result = ChildJvm.run(List.of("-jar", JAR.toString(), "--frobnicate"));
        assertEquals(64, result.exitStatus(), result.transcript());
        assertTrue(result.stderr().contains("usage"), result.transcript());
    }

    @Test
    void anInvalidPolicyIsReportedAndTheDemonstrationStillRuns() {
        requireJar();
        assumeTrue(Mseal.isSupported(), Mseal.support().reason());
        ChildJvm.Result text = ChildJvm.run(List.of("-Dio.github.mseal4j.policy=garbage", "-jar", JAR.toString()));
        assertEquals(3, text.exitStatus(), "the documented status for an invalid configuration: " + text.transcript());
        assertFalse(text.stderr().contains("Exception"), "no stack trace: " + text.transcript());
        assertTrue(text.stdout().contains("invalid: -Dio.github.mseal4j.policy=garbage is not a seal policy; use"
            + " strict (the default) or best-effort"), text.transcript());
        assertEquals(5, text.stdout().lines().filter(line -> line.contains("EPERM (blocked)")).count(),
            "the demonstration ran: " + text.transcript());

        ChildJvm.Result json = ChildJvm.run(List.of("-Dio.github.mseal4j.policy=garbage", "-jar", JAR.toString(),
            "--json"));
        assertEquals(3, json.exitStatus(), json.transcript());
        Map<?, ?> report = (Map<?, ?>) MiniJson.parse(json.stdout());
        assertEquals(3L, report.get("exitStatus"));
        Map<?, ?> environment = (Map<?, ?>) report.get("environment");
        assertTrue(String.valueOf(environment.get("policy")).startsWith("invalid: "), json.stdout());
        assertTrue(report.containsKey("demonstration"), json.stdout());
    }

    private static void assertNoNativeAccessWarning(ChildJvm.Result result) {
        assertFalse(result.stderr().contains("WARNING"), "no JVM warning:\n" + result.transcript());
        assertFalse(result.stderr().contains("restricted method"), result.transcript());
    }
}
