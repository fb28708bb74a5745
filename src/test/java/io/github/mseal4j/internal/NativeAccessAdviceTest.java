package io.github.mseal4j.internal;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Without native access, the advice names the one flag that applies (the class path's or the module's) and where
 * it goes for the launcher that started this JVM: Surefire and Failsafe ({@code <argLine>}), Gradle's test task
 * ({@code jvmArgs}), a plain {@code java} (the flag; on the class path, the manifest's attribute too). The launchers
 * are told by the system properties they set in the JVMs they start, set here for each case.
 */
class NativeAccessAdviceTest {
    private static final String[] LAUNCHER_PROPERTIES = {"surefire.real.class.path", "surefire.test.class.path",
        "org.gradle.test.worker"};
    private static final Module CLASS_PATH = ClassLoader.getSystemClassLoader().getUnnamedModule();
    private static final Module NAMED = Object.class.getModule();
    private final Map<String, String> saved = new HashMap<>();

    @BeforeEach
    void clearLaunchers() {
        for (String property : LAUNCHER_PROPERTIES) {
            saved.put(property, System.getProperty(property));
            System.clearProperty(property);
        }
    }

    @AfterEach
    void restoreLaunchers() {
        saved.forEach((property, value) -> {
            if (value == null) {
                System.clearProperty(property);
            } else {
                System.setProperty(property, value);
            }
        });
    }

    @Test
    void aPlainJavaOnTheClassPathGetsTheUnnamedFlagAndTheManifestAttribute() {
        String advice = NativeAccessGrant.advice(CLASS_PATH);
        assertTrue(advice.contains("start java with --enable-native-access=ALL-UNNAMED"), advice);
        assertTrue(advice.contains("Enable-Native-Access: ALL-UNNAMED"), advice);
        assertFalse(advice.contains("<argLine>") || advice.contains("jvmArgs"), advice);
    }

    @Test
    void onTheModulePathOnlyTheModulesFlagIsNamed() {
        String advice = NativeAccessGrant.advice(NAMED);
        assertTrue(advice.contains("--enable-native-access=" + NAMED.getName()), advice);
        assertTrue(advice.contains("module path"), advice);
        assertFalse(advice.contains("ALL-UNNAMED"), "the class path's flag does not apply there: " + advice);
    }

    @Test
    void underSurefireOrFailsafeItNamesTheArgLine() {
        System.setProperty("surefire.test.class.path", "target/test-classes");
        String advice = NativeAccessGrant.advice(CLASS_PATH);
        assertTrue(advice.contains("Maven Surefire or Failsafe")
            && advice.contains("<argLine>--enable-native-access=ALL-UNNAMED</argLine>"), advice);
        assertTrue(NativeAccessGrant.advice(NAMED).contains("<argLine>--enable-native-access=" + NAMED.getName()));
    }

    @Test
    void inAGradleTestWorkerItNamesTheTaskJvmArgs() {
        System.setProperty("org.gradle.test.worker", "1");
        String advice = NativeAccessGrant.advice(CLASS_PATH);
        assertTrue(advice.contains("Gradle test worker")
            && advice.contains("tasks.test { jvmArgs(\"--enable-native-access=ALL-UNNAMED\") }"), advice);
    }
}
