package io.github.mseal4j.doctor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The Java 8 entry point's version arithmetic and message; the packaged jar on Java 17 is run by DoctorIT. */
class LauncherTest {
    @Test
    void versionsOfEitherStyleAreRead() {
        assertEquals(8, Launcher.feature("1.8"));
        assertEquals(8, Launcher.feature("1.8.0_402"));
        assertEquals(17, Launcher.feature("17"));
        assertEquals(25, Launcher.feature("25.0.3"));
        assertEquals(0, Launcher.feature("unknown"));
    }

    @Test
    void theMessageNamesWhatIsNeededWhatThisIsAndWhatWasFound() {
        String none = Launcher.tooOld(17, "17.0.15", "/usr/lib/jvm/java-17", List.of());
        assertTrue(none.startsWith("mseal4j needs Java 22 or newer") && none.contains("this is Java 17.0.15")
            && none.contains("/usr/lib/jvm/java-17") && none.contains("install one"), none);
        String found = Launcher.tooOld(17, "17.0.15", "/usr/lib/jvm/java-17",
            List.of("/usr/lib/jvm/temurin-25/bin/java (25.0.3)"));
        assertTrue(found.contains("run this jar with one of them") && found.contains("temurin-25/bin/java (25.0.3)"),
            found);
        assertTrue(Launcher.candidates().stream().allMatch(c -> Launcher.feature(
            c.substring(c.lastIndexOf('(') + 1)) >= Launcher.NEEDED), "only 22+: " + Launcher.candidates());
    }
}
