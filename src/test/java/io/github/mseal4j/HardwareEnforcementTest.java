package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mseal4j.testing.ChildJvm;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The protection is enforced by the hardware: a child JVM that writes into sealed read-only memory dies. */
class HardwareEnforcementTest {
    private static final List<String> OPTIONS = List.of("--enable-native-access=ALL-UNNAMED",
        "-XX:-CreateCoredumpOnCrash");

    @Test
    void aWriteIntoSealedReadOnlyMemoryKillsTheProcessWithSigsegv() {
        assumeTrue(Mseal.isSupported(), Mseal.support().reason());
        ChildJvm.Result result = ChildJvm.runMain(OPTIONS, RawWrite.class, "sealed-read-only");
        assertNotEquals(0, result.exitStatus(), result.transcript());
        assertTrue(result.stdout().contains("writing through a raw view of sealed-read-only memory"), result.transcript());
        assertFalse(result.stdout().contains("wrote"), "the write never completed: " + result.transcript());
        assertTrue((result.stdout() + result.stderr()).contains("SIGSEGV"), "killed by SIGSEGV: " + result.transcript());
    }

    @Test
    void theSameWriteIntoReadWriteMemorySucceeds() {
        ChildJvm.Result result = ChildJvm.runMain(OPTIONS, RawWrite.class, "read-write");
        assertEquals(0, result.exitStatus(), result.transcript());
        assertTrue(result.stdout().contains("wrote 42"), result.transcript());
    }
}
