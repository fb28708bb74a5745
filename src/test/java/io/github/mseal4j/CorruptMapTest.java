package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mseal4j.testing.ChildJvm;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A map that is not immutable can be written by any code in the process ({@code /proc/self/mem}). With every
 * slot of its table taken, a lookup of an absent key found no empty slot and probed for ever. Every probe
 * sequence is now bounded by the table's capacity, and a lookup that reaches the bound fails closed: it throws,
 * saying the map is corrupt, and never answers. Shown in a child JVM ({@link CorruptMapChild}).
 */
class CorruptMapTest {

    @Test
    void aLookupInATableWithNoEmptySlotFailsClosedInsteadOfProbingForEver() {
        assumeTrue(Mseal.isSupported(), Mseal.support().reason());
        ChildJvm.Result result = ChildJvm.runMain(List.of("--enable-native-access=ALL-UNNAMED"),
            CorruptMapChild.class);
        assertEquals(0, result.exitStatus(), result.transcript());
        List<String> lines = result.stdout().lines().toList();
        assertEquals("immutable=false", lines.getFirst(), result.stdout());
        assertEquals(10, lines.size(), result.stdout());
        for (String line : lines.subList(1, lines.size())) {
            assertTrue(line.contains(": IllegalStateException: the map's table is corrupt"), line);
        }
    }
}
