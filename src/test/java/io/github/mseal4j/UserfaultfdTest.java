package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mseal4j.testing.ChildJvm;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * userfaultfd is a write path to sealed memory that mseal does not close: on a page never faulted in,
 * {@code UFFDIO_COPY} places any bytes and {@code UFFDIO_POISON} makes every read fault. The library faults in
 * every page of ordinary memory before sealing it read-only, so both find the page present (EEXIST); immutable
 * memory refuses the registration. Attacked in child JVMs ({@link UserfaultfdChild}), with the flag that makes
 * userfaultfd available to unprivileged processes and without it.
 */
class UserfaultfdTest {

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"user-mode-only, memfd", "0, memfd", "user-mode-only, no-memfd", "user-mode-only, no-populate",
        "user-mode-only, fake-populate"})
    void noPageOfSealedReadOnlyMemoryTakesACopyOrAPoison(String flags, String memfd) {
        assumeTrue(Mseal.isSupported(), Mseal.support().reason());
        ChildJvm.Result result = ChildJvm.runMain(List.of("--enable-native-access=ALL-UNNAMED"),
            UserfaultfdChild.class, flags, memfd);
        assertEquals(0, result.exitStatus(), "no crash: " + result.transcript());
        String out = result.stdout();
        assumeTrue(!out.startsWith("userfaultfd: "), "userfaultfd(" + flags + ") is refused here, so nothing can"
            + " use it: " + out);
        List<String> attacks = out.lines().filter(line -> !line.startsWith("guard marker")).toList();
        assertEquals(memfd.equals("no-memfd") ? 6 : 7, attacks.size(), out);
        for (String line : attacks) {
            if (line.startsWith("IMMUTABLE") || line.startsWith("SealedMap immutable")) {
                assertTrue(!line.contains("register=0"), "immutable memory refuses the registration: " + line);
            } else {
                assertTrue(line.contains("register=0"), "the attack could be tried: " + line);
            }
            assertTrue(!line.contains("copy=0") && !line.contains("poison=0") && line.endsWith(", unchanged"),
                "no page took the copy or the poison: " + line);
        }
        assertTrue(out.contains(memfd.equals("no-memfd") ? "SealedMap on ordinary memory" : "SealedMap immutable"), out);
        String guard = out.lines().filter(line -> line.startsWith("guard marker")).findFirst().orElseThrow();
        assumeTrue(guard.contains("installed=0"), "MADV_GUARD_INSTALL (Linux 6.13+) is refused here: " + guard);
        assertTrue(guard.contains("sealReadOnly: IllegalStateException: 1 page(s) of") && guard.contains("could not"
            + " be faulted in before the seal") && guard.endsWith("isSealed=false"),
            "a page holding a guard marker is never sealed read-only, and nothing crashes: " + guard);
    }
}
