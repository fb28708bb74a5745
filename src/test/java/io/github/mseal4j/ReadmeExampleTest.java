package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
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
    void theRegionExampleRunsAndItsViewLivesOn() {
        // --- from README.md ---
        MappedRegion region = MappedRegion.allocate(4096, MappingOption.IMMUTABLE);
        region.segment().setString(0, "allow: api.example.com");      // writable while you fill it
        MemorySegment allowList = region.sealReadOnly();               // frozen: read-only, immutable, sealed for good
        System.out.println(allowList.getString(0));                    // valid for the life of the process
        // --- end ---
        assertThrows(IllegalStateException.class, () -> region.protect(Protection.READ_WRITE));
        shows("MappedRegion region = MappedRegion.allocate(4096, MappingOption.IMMUTABLE);");
        shows("MemorySegment allowList = region.sealReadOnly();");
        region.close();
        assertEquals("allow: api.example.com", allowList.getString(0), "close() drops only the bookkeeping");
        assertTrue(region.isSealed());
        assertTrue(region.isImmutable());
    }

    @Test
    void theArenaExampleRuns() {
        byte[] keyBytes = {1, 2, 3};
        // --- from README.md ---
        SealedArena arena = SealedArena.create();                      // many small things, few mappings
        MemorySegment key = arena.allocateFrom(ValueLayout.JAVA_BYTE, keyBytes);
        arena.seal();                                                  // all of it, immutable where available
        MemorySegment frozen = arena.sealedView(key);                  // `key` itself now throws "Already closed"
        // --- end ---
        assertTrue(arena.isImmutable());
        shows("MemorySegment frozen = arena.sealedView(key);");
        assertEquals(3, frozen.get(ValueLayout.JAVA_BYTE, 2));
        IllegalStateException stale = assertThrows(IllegalStateException.class,
            () -> key.get(ValueLayout.JAVA_BYTE, 0));
        assertEquals("Already closed", stale.getMessage(), "what the README's comment quotes");
        shows("`key` itself now throws \"Already closed\"");
    }

    @Test
    void theDataThatChangesExampleReloadsAndFreesTheOldVersion() {
        byte[] tokenBytes = {4, 5, 6};
        String host = "api.example.com";
        MemorySegment kept;
        // --- from README.md ---
        Reloadable<SealedMap> hosts = Reloadable.of(arena -> SealedMap.copyOf(readHosts(), arena));
        boolean allowed = hosts.read(map -> map.containsKey(host));   // any thread; never meets a freed version
        hosts.reload();                                              // the old version is unmapped once unused

        try (Arena session = Arena.ofConfined()) {
            MemorySegment token = Mseal.freeze(tokenBytes, session);  // immutable until the arena closes, then unmapped
            // --- end ---
            assertEquals(5, token.get(ValueLayout.JAVA_BYTE, 1));
            kept = token;
        }
        shows("Reloadable<SealedMap> hosts = Reloadable.of(arena -> SealedMap.copyOf(readHosts(), arena));");
        shows("boolean allowed = hosts.read(map -> map.containsKey(host));");
        shows("MemorySegment token = Mseal.freeze(tokenBytes, session);");
        assertTrue(allowed);
        assertEquals(false, hosts.read(map -> map.containsKey(host)), "the reloaded version");
        assertThrows(IllegalStateException.class, () -> kept.get(ValueLayout.JAVA_BYTE, 0), "unmapped at close");
        hosts.close();
    }

    private int hostVersions;

    /** The README's {@code readHosts()}: api.example.com in the first version, cdn.example.com after. */
    private Map<String, String> readHosts() {
        return hostVersions++ == 0 ? Map.of("api.example.com", "allow") : Map.of("cdn.example.com", "allow");
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
