package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mseal4j.internal.Smaps;
import io.github.mseal4j.testing.ChildJvm;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Attack round 10 on the lifetimes (issue 16): the defects it found, each failing before its fix, and the attacks
 * that held. Most run in child JVMs ({@link LifetimeAttackChild}): seccomp filters, descriptor swaps, a budget.
 */
class LifetimeAttackTest {

    @BeforeEach
    void requireImmutability() {
        assumeTrue(Mseal.immutability().available(), Mseal.immutability().reason());
    }

    /** A loader that throws a checked exception (thrown sneakily) leaked its arena: every failed reload stayed mapped. */
    @Test
    void aLoaderFailingWithACheckedExceptionLeaksNothing() {
        long before = memfdMappings();
        java.util.concurrent.atomic.AtomicBoolean fail = new java.util.concurrent.atomic.AtomicBoolean();
        Reloadable<SealedMap> config = Reloadable.of(arena -> {
            SealedMap map = SealedMap.copyOf(Map.of("v", fail.get() ? "2" : "1"), arena);
            if (fail.get()) {
                throw LifetimeAttackChild.sneaky(LifetimeAttackChild.io("the source could not be read"));
            }
            return map;
        });
        assertEquals(before + 1, memfdMappings());
        fail.set(true);
        for (int i = 0; i < 3; i++) {
            Throwable thrown = assertThrows(Throwable.class, config::reload);
            assertTrue(thrown instanceof IOException, String.valueOf(thrown));
        }
        assertEquals("1", config.read(map -> map.get("v")), "the current generation stays");
        config.close();
        assertEquals(before, memfdMappings(), "no generation's memory, failed ones included, stays mapped");
    }

    /** An arena map's mapping replaced by the same memfd at another offset (mremap) was still called immutable. */
    @Test
    void anArenaMapRemappedToAnotherOffsetOfItsFileIsNotReportedImmutable() {
        assertOk(child("alias"), "alias");
    }

    /** An arena seal refused by the budget after a racing allocation invalidated the arena's segments. */
    @Test
    void anArenaSealRefusedByTheBudgetAfterARacingAllocationChangesNothing() {
        String budget = (4 * Mseal.pageSize() / 1024) + "k";
        assertOk(child("arenaBudgetRace", "-D" + SealCounters.BUDGET_PROPERTY + "=" + budget), "arenaBudgetRace");
    }

    /** An empty allocation of its own (a page mapped, none counted) let an arena seal past the budget's checks. */
    @Test
    void anArenaSealWithAnEmptyAllocationOfItsOwnIsRefusedBeforeAnythingIsSealed() {
        String budget = (4 * Mseal.pageSize() / 1024) + "k";
        assertOk(child("arenaZeroWhole", "-D" + SealCounters.BUDGET_PROPERTY + "=" + budget), "arenaZeroWhole");
    }

    /**
     * Through a read-only descriptor (kernels before 6.7, 6.12.0-6.12.8: the probe's choice set here), the memfd's
     * number pointed at a decoy for the file seal, then back: the fresh freeze mapped and handed out the unsealed
     * file, which a kept descriptor could still write.
     */
    @ParameterizedTest
    @ValueSource(strings = {"arena", "sealed"})
    void aDescriptorSwappedDuringAFreezeThroughAReadOnlyDescriptorIsCaught(String variant) {
        ChildJvm.Result result = ChildJvm.runMain(List.of("--enable-native-access=ALL-UNNAMED", "-Xmx256m"),
            LifetimeAttackChild.class, "swapReadOnly", variant);
        assertOk(result, "swapReadOnly");
    }

    /** Held: every write path against an arena's frozen copy is refused. */
    @Test
    void writePathsAgainstArenaMemoryAreRefused() {
        assertOk(child("writePaths"), "writePaths");
    }

    /** Held: memory kept through derived views is never counted unreachable; what was dropped counts once. */
    @Test
    void unreachableCountsExactlyWhatWasDropped() {
        assertOk(child("unreachable"), "unreachable");
    }

    /** Held: freezes and maps racing their arena's close leave no descriptor and no mapping. */
    @Test
    void buildingRacingTheArenasCloseLeavesNothing() {
        assertOk(child("closeRace"), "closeRace");
    }

    /** Held: one call refused half-way: nothing left mapped or open, and the call is named. */
    @ParameterizedTest
    @ValueSource(strings = {"memfd_create", "fcntl", "mmap-ro", "madvise", "pwrite", "pwrite-fake"})
    void aFailureHalfWayLeavesNothingAndNamesTheCall(String call) {
        ChildJvm.Result result = ChildJvm.runMain(List.of("--enable-native-access=ALL-UNNAMED", "-Xmx256m"),
            LifetimeAttackChild.class, "inject", call);
        assertOk(result, "inject");
    }

    private static ChildJvm.Result child(String mode, String... options) {
        List<String> jvm = new ArrayList<>(List.of("--enable-native-access=ALL-UNNAMED", "-Xmx256m"));
        jvm.addAll(List.of(options));
        return ChildJvm.runMain(jvm, LifetimeAttackChild.class, mode);
    }

    private static void assertOk(ChildJvm.Result result, String mode) {
        assertEquals(0, result.exitStatus(), result.transcript());
        assertTrue(result.stdout().contains(mode + ": ok"), result.transcript());
    }

    static long memfdMappings() {
        return Smaps.read(0, Long.MAX_VALUE).stream().filter(vma -> vma.path().equals(Smaps.MEMFD_PATH)).count();
    }
}
