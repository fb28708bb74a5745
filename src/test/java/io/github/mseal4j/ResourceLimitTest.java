package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mseal4j.testing.ChildJvm;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A process limit that refuses what the library asks of the kernel is named in the error, with its current
 * value and a remedy that fits: not the causes that do not apply.
 */
class ResourceLimitTest {

    private static String run(String scenario) {
        ChildJvm.Result result = ChildJvm.runMain(List.of("--enable-native-access=ALL-UNNAMED"),
            ResourceLimitChild.class, scenario);
        assertEquals(0, result.exitStatus(), "no crash: " + result.transcript());
        return result.stdout();
    }

    private static String line(String out, String what) {
        return out.lines().filter(l -> l.startsWith(what + ": ")).findFirst()
            .orElseThrow(() -> new AssertionError(what + " in " + out));
    }

    @Test
    void aFileSizeLimitBelowAMemfdIsNamedWithItsValueAndTheWayOut() {
        assumeTrue(Mseal.immutability().available(), Mseal.immutability().reason());
        String out = run("fsize");
        String region = line(out, "region IMMUTABLE 2 MiB");
        assertTrue(region.contains("SystemCallException: ftruncate(") && region.contains("EFBIG")
            && region.contains("RLIMIT_FSIZE (ulimit -f, now 1048576 bytes)"), region);
        String arena = line(out, "arena");
        assertTrue(arena.contains("EFBIG") && arena.contains("reserves 268435456 bytes of file size")
            && arena.contains("SealedArena.create(chunkSize) with a chunk of at most 1/256 of the RLIMIT_FSIZE"),
            "says what the arena reserves, and how to reserve less: " + arena);
        String larger = line(out, "arena of 5 MiB chunks");
        assertTrue(larger.contains("reserves 1073741824 bytes") && larger.contains("at most 1073741824 bytes"), larger);
    }

    @Test
    void theImmutabilityVerdictNamesAFileSizeLimitThatLeavesNoRoomForAPage() {
        String verdict = line(run("fsize-zero"), "immutability");
        assertTrue(verdict.contains("EFBIG") && verdict.contains("RLIMIT_FSIZE (ulimit -f, now 0 bytes)"), verdict);
    }

    @Test
    void anAddressSpaceLimitIsNamedAndTheCommitLimitOnlyWhereItApplies() {
        String out = run("as");
        String region = line(out, "region 128 MiB");
        assertTrue(region.contains("ENOMEM") && region.contains("RLIMIT_AS (ulimit -v"), region);
        String huge = line(out, "region 2^47 - 1 MiB");
        assertTrue(huge.contains("ENOMEM") && huge.contains("RLIMIT_AS") && !huge.contains("is reached"),
            "no hole fits it, so raising the limit alone would not help: " + huge);
        String arena = line(out, "arena");
        assertTrue(arena.contains("ENOMEM") && arena.contains("RLIMIT_AS (ulimit -v")
            && arena.contains("SealedArena.create("), arena);
        assertFalse(arena.contains("commit limit"), "a shared or PROT_NONE mapping is not charged: " + arena);
        String fixed = line(out, "fixed");
        assertTrue(fixed.contains("vm.max_map_count") && fixed.contains("RLIMIT_AS") && !fixed.contains("is reached"),
            "a MAP_FIXED mapping needs no new address space: the limit is one cause among others: " + fixed);
    }

    @Test
    void anAddressSpaceLimitAbove2To63BytesStillGivesTheKernelsAnswer() {
        String region = line(run("as-huge"), "region 2^47");
        assertTrue(region.startsWith("region 2^47: SystemCallException: mmap(") && region.contains("ENOMEM"), region);
    }

    @Test
    void aSoftDataLimitOfZeroIsNeverBlamedAlone() {
        String out = run("data-zero");
        assertTrue(line(out, "region 1 MiB").endsWith("returned 1048576"), "the kernel lets it pass: " + out);
        String region = line(out, "region 2^47");
        assertTrue(region.contains("ENOMEM") && !region.contains("is reached") && region.contains("vm.max_map_count"),
            region);
    }

    @Test
    void aDataLimitIsNamedForPrivateWritableMemory() {
        String region = line(run("data"), "region 64 MiB");
        assertTrue(region.contains("ENOMEM") && region.contains("RLIMIT_DATA (ulimit -d, now ")
            && region.contains("is reached"), region);
    }
}
