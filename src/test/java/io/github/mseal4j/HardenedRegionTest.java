package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.Mman;
import io.github.mseal4j.internal.Smaps;
import io.github.mseal4j.testing.ChildJvm;
import io.github.mseal4j.testing.SealBudget;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link MappingOption}s, seen through the kernel's eyes: the flags smaps shows, the guard mappings. */
class HardenedRegionTest {
    private static final long PAGE = Mseal.pageSize();

    /** The smaps mapping that holds {@code address}, if any. */
    private static Optional<Smaps.Vma> at(long address) {
        return Smaps.read(address, address + 1).stream().filter(v -> v.start() <= address && address < v.end())
            .findFirst();
    }

    @ParameterizedTest(name = "immutable: {0}")
    @ValueSource(booleans = {false, true})
    void everyOptionSealedReadOnlyShowsSealedGuardsAndTheFlags(boolean immutable) {
        assumeTrue(Mseal.isSupported(), Mseal.support().reason());
        MappingOption[] options = immutable ? MappingOption.values() : new MappingOption[] {
            MappingOption.GUARD_PAGES, MappingOption.NO_DUMP, MappingOption.LOCKED, MappingOption.NO_FORK};
        MappedRegion region = MappedRegion.allocate(2 * PAGE, options);
        region.segment().fill((byte) 7);
        region.sealReadOnly();
        long data = region.address();
        Smaps.Vma below = at(data - PAGE).orElseThrow();
        Smaps.Vma above = at(data + 2 * PAGE).orElseThrow();
        Smaps.Vma middle = at(data).orElseThrow();
        System.out.println("guard below: " + below + "\ndata: " + middle + "\nguard above: " + above);
        // A guard's mapping may extend further out: the kernel merges it with a sealed PROT_NONE neighbour
        // of the same kind that an earlier test left (sealed memory stays), so only its inner edge is exact.
        assertTrue(below.start() <= data - PAGE, "the lower guard covers the page below the data: " + below);
        assertEquals(data, below.end(), "the lower guard ends where the data starts");
        assertEquals(data + 2 * PAGE, above.start(), "the upper guard starts where the data ends");
        for (Smaps.Vma guard : List.of(below, above)) {
            assertEquals("---p", guard.permissions(), "guard " + guard);
            assertTrue(guard.sealed(), "guard sealed: " + guard);
        }
        assertEquals(data, middle.start());
        assertEquals(data + 2 * PAGE, middle.end());
        assertEquals(immutable ? "r--s" : "r--p", middle.permissions());
        for (String flag : List.of("sl", "dd", "lo", "dc")) {
            assertTrue(middle.flags().contains(flag), flag + " in " + middle.flags());
        }
        assertEquals(immutable, !middle.flags().contains("mw"), "only a frozen memfd mapping may never be written");
        assertEquals(immutable, region.isImmutable());
        assertEquals("EPERM", Errno.name(LibC.mprotect(data - PAGE, PAGE, Mman.PROT_READ)), "guards cannot be opened");
        assertEquals("EPERM", Errno.name(LibC.munmap(data + 2 * PAGE, PAGE)), "guards cannot be unmapped");
        region.close();
        assertTrue(at(data - PAGE).isPresent() && at(data + 2 * PAGE).isPresent(), "sealed guards stay after close");
    }

    @ParameterizedTest(name = "{0} leaves {1}")
    @CsvSource({"NO_DUMP, dd", "LOCKED, lo", "NO_FORK, dc"})
    void eachOptionLeavesItsFlag(MappingOption option, String flag) {
        try (MappedRegion region = MappedRegion.allocate(PAGE, option)) {
            Smaps.Vma data = at(region.address()).orElseThrow();
            assertTrue(data.flags().contains(flag), flag + " in " + data);
            assertEquals("rw-p", data.permissions());
            assertEquals(PAGE, region.byteSize());
        }
    }

    @Test
    void guardsAreUnsealedUntilTheFirstSealThenSealedWithIt() {
        assumeTrue(Mseal.isSupported(), Mseal.support().reason());
        try (MappedRegion region = MappedRegion.allocate(2 * PAGE, MappingOption.GUARD_PAGES)) {
            long data = region.address();
            assertEquals(2 * PAGE, region.segment().byteSize(), "the segment covers the data only");
            assertFalse(at(data - PAGE).orElseThrow().sealed());
            region.seal(PAGE, PAGE);
            assertTrue(at(data - PAGE).orElseThrow().sealed(), "sealing part of the data seals both guards");
            assertTrue(at(data + 2 * PAGE).orElseThrow().sealed());
            region.segment(0, PAGE).set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
        }
    }

    @Test
    void closeBeforeSealingUnmapsTheGuardsToo() {
        MappedRegion region = MappedRegion.allocate(PAGE, MappingOption.GUARD_PAGES, MappingOption.NO_DUMP);
        long data = region.address();
        assertEquals("---p", at(data - PAGE).orElseThrow().permissions());
        region.close();
        assertTrue(Smaps.read(data - PAGE, data + 2 * PAGE).isEmpty(), "guards and data all unmapped");
    }

    @Test
    void optionsMayNotBeNull() {
        assertThrows(NullPointerException.class, () -> MappedRegion.allocate(PAGE, (MappingOption[]) null));
        assertThrows(NullPointerException.class, () -> MappedRegion.allocate(PAGE, MappingOption.NO_DUMP, null));
    }

    @Test
    void lockingBeyondRlimitMemlockFailsAndSaysWhy() {
        ChildJvm.Result result = ChildJvm.runMain(List.of("--enable-native-access=ALL-UNNAMED"), MemlockLimit.class);
        assertEquals(0, result.exitStatus(), result.transcript());
        String out = result.stdout();
        assertTrue(out.contains("one page locked: lo"), result.transcript());
        assertTrue(out.lines().anyMatch(line -> line.startsWith("four pages refused: mlock(")
            && line.contains("RLIMIT_MEMLOCK (ulimit -l, now " + PAGE + " bytes)") && line.contains("CAP_IPC_LOCK")
            && (line.contains("ENOMEM") || line.contains("EAGAIN") || line.contains("EPERM"))), result.transcript());
        assertTrue(out.contains("left mapped: none"), "nothing half-made stays mapped: " + result.transcript());
    }

    @AfterAll
    static void stayWithinTheSealBudget() {
        SealBudget.check(HardenedRegionTest.class.getSimpleName());
    }
}
