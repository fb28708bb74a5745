package io.github.mseal4j.example;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mseal4j.MappedRegion;
import io.github.mseal4j.Mseal;
import io.github.mseal4j.SealedArena;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the example relies on, checked against the real kernel. Skipped (with the reason) only where mseal is
 * unavailable, e.g. Linux before 6.10; sealed memory is never freed, so each test seals a page or two.
 */
class SealedConfigTest {
    private static final byte[] KEY = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static SealedConfig config;

    @BeforeAll
    static void sealOnce() {
        assumeTrue(Mseal.isSupported(), Mseal.support().reason());
        config = SealedConfig.seal(Main.SAMPLE, KEY.clone());
    }

    @Test
    void theTextIsSealedAndReadOnly() {
        assertEquals(Main.SAMPLE, config.text());
        MemorySegment text = config.textSegment();
        assertTrue(text.isReadOnly());
        assertThrows(IllegalArgumentException.class, () -> text.set(ValueLayout.JAVA_BYTE, 0, (byte) 'X'));
        assertEquals(Main.SAMPLE, config.text(), "unchanged");
        assertTrue(config.isSealed(), "the kernel reports the text and the key sealed");
    }

    @Test
    void theSettingsMapAnswersKeys() {
        assertEquals(3, config.settingCount());
        assertEquals("8443", config.setting("server.port"));
        assertEquals("TLSv1.3", config.setting("tls.protocols"));
        assertNull(config.setting("server.host"));
    }

    @Test
    void theAllowListAnswersHosts() {
        assertEquals(2, config.allowedHostCount());
        assertTrue(config.isAllowed("api.example.com"));
        assertTrue(config.isAllowed("cdn.example.com"));
        assertFalse(config.isAllowed("evil.example.com"));
        assertFalse(config.isAllowed("API.EXAMPLE.COM"), "keys are exact bytes");
    }

    @Test
    void theKeyIsSealedAndReadOnly() {
        MemorySegment key = config.apiKey();
        assertTrue(key.isReadOnly());
        assertArrayEquals(KEY, key.toArray(ValueLayout.JAVA_BYTE));
        assertThrows(IllegalArgumentException.class, () -> key.set(ValueLayout.JAVA_BYTE, 0, (byte) 0));
        assertTrue(config.apiKeyEquals(KEY.clone()));
        assertFalse(config.apiKeyEquals("0123456789abcdeX".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void anArenaSealsWhatWasWrittenAndRevokesTheWritableSegments() {
        try (SealedArena arena = SealedArena.create()) {
            MemorySegment building = arena.allocateFrom(ValueLayout.JAVA_BYTE, new byte[] {1, 2, 3});
            building.set(ValueLayout.JAVA_BYTE, 0, (byte) 7); // writable while building
            assertFalse(arena.isSealed());
            arena.seal();
            assertTrue(arena.isSealed());
            MemorySegment frozen = arena.sealedView(building);
            assertArrayEquals(new byte[] {7, 2, 3}, frozen.toArray(ValueLayout.JAVA_BYTE));
            assertThrows(IllegalArgumentException.class, () -> frozen.set(ValueLayout.JAVA_BYTE, 0, (byte) 9));
            // The segment handed out while building is invalidated: it throws instead of writing (or crashing).
            assertThrows(IllegalStateException.class, () -> building.set(ValueLayout.JAVA_BYTE, 0, (byte) 9));
            assertThrows(IllegalStateException.class, () -> arena.allocate(8));
        }
    }

    @Test
    void aSealedRegionViewOutlivesTheRegion() {
        MemorySegment view;
        MappedRegion closed;
        try (MappedRegion region = MappedRegion.allocate(Mseal.pageSize())) {
            region.segment().setString(0, "allow: api.example.com");
            view = region.sealReadOnly();
            closed = region;
        }
        assertEquals("allow: api.example.com", view.getString(0));
        assertTrue(closed.isSealed());
    }

    @Test
    void theApplicationRuns() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int status = Main.run(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String output = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, output);
        assertTrue(output.contains("evil.example.com allowed: false"), output);
        assertTrue(output.contains("sealed: true"), output);
    }
}
