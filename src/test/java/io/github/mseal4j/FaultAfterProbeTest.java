package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mseal4j.testing.ChildJvm;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The kernel misbehaving after the probes said all is well ({@link FaultAfterProbeChild}): nothing is
 * reported sealed or immutable that is not, no segment is handed out over memory that is not mapped, and a
 * passing shortage is not remembered as the host's verdict.
 */
class FaultAfterProbeTest {

    private static String run(String scenario) {
        assumeTrue(Mseal.isSupported(), Mseal.support().reason());
        ChildJvm.Result result = ChildJvm.runMain(List.of("--enable-native-access=ALL-UNNAMED"),
            FaultAfterProbeChild.class, scenario);
        assertEquals(0, result.exitStatus(), "no crash: " + result.transcript());
        System.out.print(scenario + ":\n" + result.stdout());
        return result.stdout();
    }

    @Test
    void anMsealThatSucceedsWithoutSealingIsCaughtByEveryMultiStepOperation() {
        String out = run("fake-mseal");
        for (String what : List.of("region sealReadOnly", "ordinary sealReadOnly", "freeze file", "map", "arena")) {
            assertRefused(out, what, "mseal", "is not sealed");
        }
        assertTrue(out.contains("region after: isSealed=false isImmutable=false"), out);
        assertTrue(out.contains("ordinary after: isSealed=false writable=true holds=ordinary"),
            "ordinary memory gets its protection back: " + out);
    }

    @Test
    void fileSealsThatSucceedWithoutSealingPutTheWritableMappingBack() {
        String out = run("fake-seals");
        for (String what : List.of("region sealReadOnly", "map", "arena")) {
            assertRefused(out, what, "fcntl", "not sealed against writing");
        }
        // A fresh freeze proves the seal on its mapping instead (it cannot be made writable only if the file is
        // sealed): refused there, with nothing frozen.
        assertTrue(out.lines().anyMatch(line -> line.startsWith("freeze file: IllegalStateException: ")
            && line.contains("not sealed against writing") && line.contains("nothing was frozen")), out);
        assertTrue(out.contains("region after: isSealed=false isImmutable=false"), out);
        assertTrue(out.contains("region after: writable=true holds=immutable"), "the data is back, writable: " + out);
    }

    @Test
    void anArenaWhoseMemfdCannotShrinkStillSealsAndHandsOutNothingUnmapped() {
        String out = run("no-ftruncate");
        assertTrue(out.contains("arena seal: returned"), out);
        assertTrue(out.contains("arena after: isSealed=true isImmutable=true holds=kept"), out);
        assertTrue(out.contains("allocate after: IllegalStateException: the arena is sealed"), out);
    }

    @Test
    void aShortageOfDescriptorsIsNotTheHostsVerdictAndIsNotHiddenBehindAFallback() {
        String out = run("no-fds");
        assertTrue(out.contains("during: MEMFD_UNAVAILABLE: ") && out.contains("EMFILE"), out);
        assertTrue(out.contains("map during: SystemCallException: memfd_create("),
            "the map does not fall back to ordinary memory for a passing shortage: " + out);
        assertTrue(out.contains("after: AVAILABLE"), "asked again once descriptors are free: " + out);
        assertTrue(out.contains("map after: returned, isImmutable=true"), out);
    }

    @Test
    void aFileMappingThatSucceedsWithoutMappingIsCaughtAndNothingUnreadableIsHandedOut() {
        String out = refusedAsNothingMapped("fake-fixed-mmap", "region sealReadOnly", "freeze bytes");
        assertTrue(out.contains("region after: isSealed=false"), out);
    }

    @Test
    void aNewMappingAnsweredWithSuccessButNoAddressIsRefused() {
        refusedAsNothingMapped("fake-mmap", "allocate []", "allocate [IMMUTABLE]");
    }

    /** Asserts that {@code out} has the line {@code "what: IllegalStateException: call(..."} with {@code words}. */
    private static void assertRefused(String out, String what, String call, String words) {
        assertTrue(out.lines().anyMatch(line -> line.startsWith(what + ": IllegalStateException: " + call + "(")
            && line.contains(words)), what + ": " + out);
    }

    /** Runs {@code scenario}; each of {@code what} must have been refused because mmap mapped nothing. */
    private static String refusedAsNothingMapped(String scenario, String... what) {
        String out = run(scenario);
        for (String call : what) {
            assertRefused(out, call, "mmap", "nothing was mapped");
        }
        return out;
    }

    @Test
    void anMprotectThatSucceedsWithoutChangingAnythingIsCaught() {
        String out = run("fake-protect-rw");
        assertRefused(out, "protect READ_WRITE", "mprotect", "did not change");
        assertTrue(out.contains("region after: ") && out.contains("NONE"), "the region knows what the kernel did: " + out);
        String sealed = run("fake-protect-read");
        assertRefused(sealed, "sealReadOnly", "mprotect", "did not change");
        assertTrue(sealed.contains("isSealed=false kernel shows rw-p"), sealed);
    }

    @Test
    void anMprotectLieIsCaughtWhateverTheFirstPageOfTheRangeWasAndFromTheFirstCallOn() {
        String out = run("fake-mixed-protect");
        for (String what : List.of("protect READ_WRITE", "protect READ")) {
            assertRefused(out, what, "mprotect", "did not change");
        }
        String first = run("fake-first-protect");
        assertRefused(first, "protect READ", "mprotect", "did not change");
    }

    @Test
    void anMprotectLieIsCaughtThroughSmapsWhereTheCheckCannotCalibrate() {
        String out = run("fake-protect-uncalibrated");
        assertRefused(out, "allocate uncalibrated", "mprotect", "did not change");
    }

    @Test
    void anMprotectLieIsCaughtThroughSmapsWhereThePopulateAdvicesAreRefused() {
        String out = run("fake-protect-no-populate");
        assertRefused(out, "allocate without populate", "mprotect", "did not change");
    }

    @Test
    void anMprotectThatCannotBeCheckedIsNotReliedOn() {
        String out = run("protect-unverifiable");
        assertRefused(out, "protect unverifiable", "mprotect", "cannot be checked");
    }

    @Test
    void aMemfdThatWasNotSizedIsCaughtBeforeItIsMapped() {
        String out = run("fake-ftruncate");
        assertRefused(out, "allocate IMMUTABLE", "ftruncate", "answered 0 bytes");
    }

    @Test
    void aSealCheckIsNotFooledByAPageSealedBefore() {
        String out = run("fake-reseal");
        assertRefused(out, "sealReadOnly", "mseal", "not sealed");
        assertTrue(out.contains("isSealed=false") && !out.contains("[0, 2) READ sealed"), out);
    }

    @Test
    void anArenaWhoseFailedSealCannotBeUndoneRefusesToAllocateOverMemoryItCannotWrite() {
        for (String scenario : List.of("arena-cannot-remap", "arena-cannot-reprotect")) {
            String out = run(scenario);
            assertTrue(out.contains("arena: SealedArena[" + (scenario.endsWith("remap") ? "immutable" : "anonymous")), out);
            assertTrue(out.lines().anyMatch(line -> line.startsWith("arena seal: ") && line.contains("unusable")),
                scenario + ": the seal says what it left: " + out);
            assertTrue(out.contains("allocate after: IllegalStateException: the arena is unusable"), scenario + ": " + out);
            assertTrue(out.contains("seal again: IllegalStateException: the arena is unusable"), scenario + ": " + out);
            assertTrue(out.contains("close: returned"), scenario + ": " + out);
        }
    }

    @Test
    void aCloseThatCannotAskTheKernelWhichPagesAreSealedChangesNothingAndSaysSo() {
        String out = run("close-without-smaps");
        assertTrue(out.contains("raw mseal: 0"), out);
        assertTrue(out.lines().anyMatch(line -> line.startsWith("close without smaps: SystemCallException: munmap(")
            && line.contains("EPERM") && line.contains("stays open")), out);
        assertTrue(out.contains("close again: returned"), out);
        assertTrue(out.contains("left mapped: [1-2 sealed]"), "only the sealed page stays: " + out);
    }

    @Test
    void aForeignReadOnlyFileMappedOverARegionIsNotCalledImmutable() {
        String out = run("foreign-file");
        assertTrue(out.contains("foreign mapping: true"), out);
        assertTrue(out.contains("region after: isSealed=true isImmutable=false"), out);
        assertFalse(out.contains("isImmutable=true"), out);
    }
}
