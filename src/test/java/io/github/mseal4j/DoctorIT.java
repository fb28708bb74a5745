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
    void onAJavaOlderThan22TheJarSaysWhichJavaItNeedsAndWhereOneIs() throws Exception {
        requireJar();
        Path old = olderJava();
        assumeTrue(old != null, "no Java older than 22 under /usr/lib/jvm to run the jar with");
        Process process = new ProcessBuilder(old.toString(), "-jar", JAR.toString()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(2, process.waitFor(), output);
        assertTrue(output.startsWith("mseal4j needs Java 22 or newer"), output);
        assertTrue(output.contains(System.getProperty("java.home")), "names the Java running the tests, 22+: "
            + output);
        assertFalse(output.contains("UnsupportedClassVersionError"), output);
    }

    /** A {@code java} older than 22 under {@code /usr/lib/jvm}, by its {@code release} file; null if none. */
    private static Path olderJava() throws java.io.IOException {
        Path jvms = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(jvms)) {
            return null;
        }
        try (var homes = Files.list(jvms)) {
            for (Path home : homes.sorted().toList()) {
                Path release = home.resolve("release");
                Path java = home.resolve("bin/java");
                if (Files.isRegularFile(release) && Files.isExecutable(java)) {
                    String version = Files.readAllLines(release).stream().filter(l -> l.startsWith("JAVA_VERSION="))
                        .findFirst().orElse("").replaceAll("[^0-9.]", "");
                    String[] parts = version.split("\\.");
                    int feature = parts.length == 0 || parts[0].isEmpty() ? 0 : Integer.parseInt(
                        parts[0].equals("1") && parts.length > 1 ? parts[1] : parts[0]);
                    if (feature > 0 && feature < 22) {
                        return java;
                    }
                }
            }
        }
        return null;
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
