package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mseal4j.testing.ChildJvm;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * On a host where mseal is missing (ENOSYS) or forbidden (EPERM), the probe names the cause and
 * {@code seal()} throws with it instead of pretending. A child JVM plays the host: a seccomp filter makes the
 * kernel answer mseal with the errno before the library's first call.
 */
class UnsupportedHostTest {

    @ParameterizedTest(name = "mseal answers {0}")
    @CsvSource({
        "ENOSYS, KERNEL_TOO_OLD, has no mseal; it needs Linux 6.10 or newer",
        "EPERM, BLOCKED_BY_POLICY, mseal is blocked by a seccomp or security policy"})
    void sealThrowsTheProbesReasonAndSealsNothing(String errno, String status, String reason) {
        ChildJvm.Result result = ChildJvm.runMain(List.of("--enable-native-access=ALL-UNNAMED"),
            UnsupportedHost.class, errno);
        assertEquals(0, result.exitStatus(), result.transcript());
        String out = result.stdout();
        assertTrue(out.contains("status=" + status), result.transcript());
        assertTrue(out.lines().anyMatch(line -> line.startsWith("reason=") && line.contains(reason)),
            result.transcript());
        assertEquals(2, out.lines().filter(line -> line.startsWith("refused=cannot seal: ") && line.contains(reason))
            .count(), "seal() and sealReadOnly() both refuse with the reason: " + result.transcript());
        assertFalse(out.contains("sealing returned normally"), result.transcript());
        assertTrue(out.contains("sealed=false protection=READ_WRITE"), "nothing sealed or re-protected: " + out);
        assertTrue(out.contains("isSealed=false"), result.transcript());
    }
}
