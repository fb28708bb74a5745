package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mseal4j.testing.AddressSpace;
import io.github.mseal4j.testing.ChildJvm;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** A seccomp filter installed after the probe: nothing reports sealed, and everything stays usable. */
class LateFilterTest {

    @Test
    void aFilterInstalledAfterTheProbeLeavesEveryObjectAsItWas() {
        assumeTrue(Mseal.isSupported(), Mseal.support().reason());
        ChildJvm.Result result = ChildJvm.runMain(Stream.concat(AddressSpace.STEADY_JVM.stream(), Stream.of("--enable-native-access=ALL-UNNAMED")).toList(),
            LateFilterChild.class);
        assertEquals(0, result.exitStatus(), result.transcript());
        String out = result.stdout();
        System.out.print(out);
        assertTrue(out.contains("probe=AVAILABLE"), out);
        for (int attempt = 1; attempt <= 2; attempt++) {
            assertTrue(out.contains("arena seal " + attempt + ": SystemCallException(mseal"), out);
            assertTrue(out.contains("sealReadOnly " + attempt + ": SystemCallException(mseal"), out);
            assertTrue(out.contains("build " + attempt + ": SystemCallException(mseal"), "retry is possible: " + out);
        }
        assertTrue(out.contains("EPERM"), out);
        assertTrue(out.contains("isSealed=false"), out);
        assertTrue(out.contains("arena after: allocate=ok, building readable=ok, building writable=ok"), out);
        assertTrue(out.contains("region after: maps=rw-p, isSealed=false, writable=ok"),
            "the protection is restored: " + out);
        assertTrue(out.contains("address space left behind by the builds=none"), out);
    }
}
