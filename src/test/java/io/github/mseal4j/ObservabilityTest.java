package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mseal4j.testing.Limits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;

/** What an operator can see: JFR events and the statistics. */
class ObservabilityTest {
    private static final long PAGE = Mseal.pageSize();

    @Test
    void sealsProtectionChangesAndFailuresAppearInAFlightRecording() throws Exception {
        assumeTrue(Mseal.isSupported(), Mseal.support().reason());
        Path file = Files.createTempFile("mseal4j", ".jfr");
        long address;
        try (Recording recording = new Recording()) {
            recording.enable("io.github.mseal4j.Seal");
            recording.enable("io.github.mseal4j.Protect");
            recording.enable("io.github.mseal4j.SystemCallFailure");
            recording.start();
            MappedRegion region = MappedRegion.allocate(2 * PAGE);
            address = region.address();
            region.protect(PAGE, PAGE, Protection.READ);
            region.seal(PAGE, PAGE);
            assertThrows(SystemCallException.class, () -> MappedRegion.allocate(Limits.UNMAPPABLE));
            region.close();
            recording.stop();
            recording.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file);
        Files.delete(file);
        RecordedEvent seal = only(events, "io.github.mseal4j.Seal");
        assertEquals(address + PAGE, seal.getLong("address"));
        assertEquals(PAGE, seal.getLong("length"));
        assertTrue(seal.getBoolean("byKernel"));
        RecordedEvent protect = only(events, "io.github.mseal4j.Protect");
        assertEquals(address + PAGE, protect.getLong("address"));
        assertEquals("PROT_READ", protect.getString("protection"));
        RecordedEvent failure = only(events, "io.github.mseal4j.SystemCallFailure");
        assertEquals("mmap", failure.getString("operation"));
        assertEquals("ENOMEM", failure.getString("errnoName"));
        assertEquals(Limits.UNMAPPABLE, failure.getLong("length"));
        assertTrue(seal.getStackTrace() != null, "with the caller's stack");
    }

    @Test
    void statisticsCountWhatWasSealedAndTheHeadroom() {
        assumeTrue(Mseal.isSupported(), Mseal.support().reason());
        SealStatistics before = Mseal.statistics();
        try (MappedRegion region = MappedRegion.allocate(3 * PAGE)) {
            region.seal(0, 2 * PAGE);
            region.seal(0, PAGE);   // already sealed: counted once
            region.seal();
        }
        SealStatistics after = Mseal.statistics();
        assertEquals(before.sealedRegions() + 1, after.sealedRegions());
        assertEquals(before.sealedBytes() + 3 * PAGE, after.sealedBytes());
        assertTrue(after.sealedMappings() >= 1 && after.mappings() > after.sealedMappings(), after.toString());
        assertEquals(Long.parseLong(io.github.mseal4j.internal.Errno.maxMapCount()), after.maxMapCount());
        assertEquals(after.maxMapCount() - after.mappings(), after.headroom());
        assertTrue(after.headroom() > 0, after.toString());
    }

    private static RecordedEvent only(List<RecordedEvent> events, String name) {
        List<RecordedEvent> matching = events.stream().filter(e -> e.getEventType().getName().equals(name)).toList();
        assertEquals(1, matching.size(), name + " in " + events);
        return matching.getFirst();
    }
}
