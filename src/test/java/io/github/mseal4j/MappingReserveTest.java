package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.testing.ChildJvm;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A process that keeps sealing reaches {@code vm.max_map_count}, since sealed mappings are never given back; the
 * JVM then died ("Native memory allocation (mmap) failed ... committing reserved memory") instead of the library
 * throwing. The library now refuses before the cliff, keeping a reserve of mappings for the JVM, and the JVM goes
 * on. Shown in child JVMs with the JVM's default flags ({@link MappingReserveChild}).
 */
class MappingReserveTest {

    @ParameterizedTest
    @ValueSource(strings = {"map", "freeze", "region", "region-no-fds"})
    void theLibraryRefusesBeforeTheLimitAndTheJvmLivesOn(String what) {
        assumeTrue(Mseal.isSupported(), Mseal.support().reason());
        long limit = Long.parseLong(Errno.maxMapCount());
        assumeTrue(limit <= 131_072, "vm.max_map_count is " + limit + " here; the test runs where it is at most 131072");
        ChildJvm.Result result = ChildJvm.runMain(List.of("--enable-native-access=ALL-UNNAMED"),
            MappingReserveChild.class, what);
        assertEquals(0, result.exitStatus(), "the JVM lived: " + result.transcript());
        String out = result.stdout();
        assertTrue(out.contains("refused: java.lang.IllegalStateException: ") && out.contains("refused before the"
            + " process reaches vm.max_map_count (" + limit + " mappings)"), out);
        assertTrue(out.contains("are in use, and mseal4j holds") && out.contains("-Dio.github.mseal4j.mappingReserve="),
            "names the mappings in use, the library's share and the property: " + out);
        assertTrue(out.contains("alive: threads started, 512 MiB allocated, collected"), out);
    }

    @org.junit.jupiter.api.Test
    void anInvalidReserveIsRefusedAtTheFirstCallBeforeAnythingIsMapped() {
        ChildJvm.Result result = ChildJvm.runMain(List.of("--enable-native-access=ALL-UNNAMED",
            "-Dio.github.mseal4j.mappingReserve=lots"), MappingReserveChild.class, "invalid");
        assertEquals(0, result.exitStatus(), result.transcript());
        assertTrue(result.stdout().contains("allocate: java.lang.IllegalArgumentException: -Dio.github.mseal4j"
            + ".mappingReserve=lots is not a number of mappings"), result.stdout());
    }
}
