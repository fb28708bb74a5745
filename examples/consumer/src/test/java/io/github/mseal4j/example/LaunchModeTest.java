package io.github.mseal4j.example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.mseal4j.MappedRegion;
import io.github.mseal4j.Mseal;
import io.github.mseal4j.SealSupport;
import org.junit.jupiter.api.Test;

/**
 * Each surefire execution says how it launches the tests ({@code -Dexample.launch}); this checks that the library
 * really was loaded that way, and that the execution's {@code argLine} granted it native access. It never skips.
 */
class LaunchModeTest {

    @Test
    void theLibraryIsLoadedAsThisRunClaims() {
        String launch = System.getProperty("example.launch");
        assertNotNull(launch, "each surefire execution sets -Dexample.launch");
        Module library = MappedRegion.class.getModule();
        Module tests = LaunchModeTest.class.getModule();
        switch (launch) {
            case "module-path" -> {
                assertTrue(library.isNamed(), "the library is a named module on the module path");
                assertEquals("io.github.mseal4j", library.getName());
                // Surefire patches the tests into the application's module.
                assertEquals("io.github.mseal4j.example", tests.getName());
                assertTrue(tests.canRead(library));
            }
            case "class-path" -> {
                assertFalse(library.isNamed(), "the library is in the unnamed module: " + library);
                assertFalse(tests.isNamed(), "the tests are in the unnamed module: " + tests);
            }
            default -> fail("unknown example.launch: " + launch);
        }
    }

    @Test
    void theArgLineGrantsNativeAccessToTheLibrary() {
        assertTrue(MappedRegion.class.getModule().isNativeAccessEnabled(),
            "the argLine must grant native access to " + MappedRegion.class.getModule());
        assertFalse(Mseal.support().status() == SealSupport.Status.NATIVE_ACCESS_DISABLED, Mseal.support().reason());
    }
}
