package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's examples, as written there, do what the README says. */
class ReadmeExampleTest {
    private String readme;

    @BeforeEach
    void readTheReadme() throws IOException {
        assumeTrue(Mseal.isSupported(), Mseal.support().reason());
        readme = Files.readString(Path.of(System.getProperty("basedir", "."), "README.md"));
    }

    private void shows(String code) {
        assertTrue(readme.contains(code), "the README shows: " + code);
    }

    @Test
    void theFirstExampleFreezesAMapAKeyAndAVerifiedFile(@TempDir Path directory) throws Exception {
        byte[] keyBytes = {1, 2, 3};
        Path file = Files.writeString(directory.resolve("policy.json"), "{}");
        String expectedSha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(
            "{}".getBytes(StandardCharsets.US_ASCII)));
        // --- from README.md (the file's path is a temporary one here) ---
        SealedMap allowList = SealedMap.copyOf(Map.of("api.example.com", "443"));  // off-heap, immutable, sealed
        String port = allowList.get("api.example.com");

        MemorySegment key = Mseal.freeze(keyBytes);                     // an immutable copy of exactly these bytes
        MemorySegment policy = Mseal.freeze(file, expectedSha256);      // verified, then frozen
        // --- end ---
        shows("SealedMap allowList = SealedMap.copyOf(Map.of(\"api.example.com\", \"443\"));");
        shows("String port = allowList.get(\"api.example.com\");");
        shows("MemorySegment key = Mseal.freeze(keyBytes);");
        shows("MemorySegment policy = Mseal.freeze(Path.of(\"/etc/app/policy.json\"), expectedSha256);");
        assertEquals("443", port);
        assertTrue(allowList.isImmutable());
        assertEquals(3, key.byteSize());
        assertEquals(2, policy.byteSize());
    }

    @Test
    void theRegionExampleRunsAndItsViewOutlivesTheRegion() {
        MemorySegment kept;
        MappedRegion closed;
        // --- from README.md ---
        try (MappedRegion region = MappedRegion.allocate(4096, MappingOption.IMMUTABLE)) {
            region.segment().setString(0, "allow: api.example.com");   // writable while you fill it
            MemorySegment allowList = region.sealReadOnly();            // frozen: read-only, immutable, sealed
            System.out.println(allowList.getString(0));                 // valid even after close()
            // --- end ---
            assertThrows(IllegalStateException.class, () -> region.protect(Protection.READ_WRITE));
            kept = allowList;
            closed = region;
        }
        shows("try (MappedRegion region = MappedRegion.allocate(4096, MappingOption.IMMUTABLE)) {");
        shows("MemorySegment allowList = region.sealReadOnly();");
        assertEquals("allow: api.example.com", kept.getString(0));
        assertTrue(closed.isSealed());
        assertTrue(closed.isImmutable());
    }

    @Test
    void theArenaExampleRuns() {
        byte[] keyBytes = {1, 2, 3};
        MemorySegment kept;
        MemorySegment building;
        // --- from README.md ---
        try (SealedArena arena = SealedArena.create()) {
            MemorySegment key = arena.allocateFrom(ValueLayout.JAVA_BYTE, keyBytes);
            arena.seal();
            MemorySegment frozen = arena.sealedView(key);
            // --- end ---
            kept = frozen;
            building = key;
            assertTrue(arena.isImmutable());
        }
        shows("MemorySegment frozen = arena.sealedView(key);");
        assertEquals(3, kept.get(ValueLayout.JAVA_BYTE, 2));
        IllegalStateException stale = assertThrows(IllegalStateException.class,
            () -> building.get(ValueLayout.JAVA_BYTE, 0));
        assertEquals("Already closed", stale.getMessage(), "what the README's comment quotes");
        shows("`key` itself now throws \"Already closed\"");
    }

    @Test
    void theHardenedKeyExampleAllocatesWithEveryOption() {
        // --- from README.md ---
        MappedRegion key = MappedRegion.allocate(32, MappingOption.IMMUTABLE, MappingOption.GUARD_PAGES,
                                                 MappingOption.NO_DUMP, MappingOption.LOCKED, MappingOption.NO_FORK);
        // --- end ---
        shows("MappingOption.NO_DUMP, MappingOption.LOCKED, MappingOption.NO_FORK);");
        key.sealReadOnly();
        assertTrue(key.isImmutable());
    }
}
