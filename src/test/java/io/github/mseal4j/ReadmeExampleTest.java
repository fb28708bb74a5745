package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The README's example, as written there, does what the README says. */
class ReadmeExampleTest {

    @Test
    void theExampleRunsAndItsViewOutlivesTheRegion() throws IOException {
        assumeTrue(Mseal.isSupported(), Mseal.support().reason());
        MemorySegment kept;
        MappedRegion closed;
        // --- from README.md ---
        try (MappedRegion region = MappedRegion.allocate(4096)) {
            region.segment().setString(0, "allow: api.example.com");
            MemorySegment allowList = region.sealReadOnly();
            System.out.println(allowList.getString(0));
            // --- end ---
            assertThrows(IllegalStateException.class, () -> region.protect(Protection.READ_WRITE));
            kept = allowList;
            closed = region;
        }
        assertEquals("allow: api.example.com", kept.getString(0));
        assertTrue(closed.isSealed());
        String readme = Files.readString(Path.of(System.getProperty("basedir", "."), "README.md"));
        assertTrue(readme.contains("MemorySegment allowList = region.sealReadOnly();"), "the README shows this code");
        assertTrue(readme.contains("region.segment().setString(0, \"allow: api.example.com\");"));
    }

    @Test
    void theCollectionsExampleRuns() throws IOException {
        assumeTrue(Mseal.isSupported(), Mseal.support().reason());
        byte[] keyBytes = {1, 2, 3};
        MemorySegment kept;
        MemorySegment building;
        // --- from README.md ---
        SealedMap allowList = SealedMap.copyOf(Map.of("api.example.com", "443"));
        String port = allowList.get("api.example.com");

        try (SealedArena arena = SealedArena.create()) {
            MemorySegment key = arena.allocateFrom(ValueLayout.JAVA_BYTE, keyBytes);
            arena.seal();
            MemorySegment frozen = arena.sealedView(key);
            // --- end ---
            kept = frozen;
            building = key;
        }
        assertEquals("443", port);
        assertEquals(3, kept.get(ValueLayout.JAVA_BYTE, 2));
        assertThrows(IllegalStateException.class, () -> building.get(ValueLayout.JAVA_BYTE, 0));
        String readme = Files.readString(Path.of(System.getProperty("basedir", "."), "README.md"));
        assertTrue(readme.contains("MemorySegment frozen = arena.sealedView(key);"), "the README shows this code");
        assertTrue(readme.contains("SealedMap allowList = SealedMap.copyOf(Map.of(\"api.example.com\", \"443\"));"));
    }
}
