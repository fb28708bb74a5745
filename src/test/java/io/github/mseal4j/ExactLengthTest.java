package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mseal4j.internal.Smaps;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Keys come back exactly as long as they are: a region of n bytes hands out n-byte segments (the page is its
 * mapping, {@code mappedSize()}), and a hardened freeze is exactly as long as its data, with every option applied.
 */
class ExactLengthTest {
    private static final long PAGE = Mseal.pageSize();
    private static final MappingOption[] HARDENED = {MappingOption.GUARD_PAGES, MappingOption.NO_DUMP,
        MappingOption.LOCKED, MappingOption.NO_FORK};

    @BeforeEach
    void requireImmutability() {
        assumeTrue(Mseal.immutability().available(), Mseal.immutability().reason());
    }

    private static byte[] key() {
        byte[] key = new byte[32];
        for (int i = 0; i < key.length; i++) {
            key[i] = (byte) (i * 7 + 1);
        }
        return key;
    }

    @Test
    void theReadmesHardenedKeyIs32BytesAndKeysAnHmacAsThose32Bytes() throws Exception {
        MappedRegion region = MappedRegion.allocate(32, MappingOption.IMMUTABLE, MappingOption.GUARD_PAGES,
            MappingOption.NO_DUMP, MappingOption.LOCKED, MappingOption.NO_FORK);
        assertEquals(32, region.byteSize());
        assertEquals(PAGE, region.mappedSize());
        assertEquals(32, region.segment().byteSize());
        region.segment().copyFrom(MemorySegment.ofArray(key()));
        MemorySegment sealed = region.sealReadOnly();
        assertEquals(32, sealed.byteSize(), "exactly the key");
        assertArrayEquals(key(), sealed.toArray(ValueLayout.JAVA_BYTE));
        assertEquals(hmac(key()), hmac(sealed.toArray(ValueLayout.JAVA_BYTE)), "keys the MAC as the 32 bytes do");
        assertThrows(IndexOutOfBoundsException.class, () -> sealed.get(ValueLayout.JAVA_BYTE, 32));
        assertTrue(region.isImmutable());
        region.close();
    }

    @Test
    void offsetsPastTheSizeAreOutOfBoundsWhilePageRangesCoverTheMapping() {
        try (MappedRegion region = MappedRegion.allocate(PAGE + 100)) {
            assertEquals(PAGE + 100, region.byteSize());
            assertEquals(2 * PAGE, region.mappedSize());
            assertEquals(PAGE + 100, region.segment().byteSize());
            assertThrows(IndexOutOfBoundsException.class, () -> region.segment(PAGE + 100, 1));
            assertThrows(IndexOutOfBoundsException.class, () -> region.segment(0, PAGE + 101));
            assertEquals(1, region.segment(PAGE + 99, 1).byteSize());
            region.protect(PAGE, PAGE, Protection.READ); // a page range: inside the mapping
            assertTrue(region.segment(PAGE, 100).isReadOnly());
            assertThrows(IndexOutOfBoundsException.class, () -> region.protect(2 * PAGE, PAGE, Protection.READ));
            assertTrue(region.toString().contains((PAGE + 100) + " bytes (" + 2 * PAGE + " mapped)"),
                region.toString());
        }
    }

    @Test
    void aHardenedFreezeIsExactlyAsLongAsItsDataWithEveryOptionAndSealedGuards() {
        MemorySegment frozen = Mseal.freeze(key(), HARDENED);
        assertEquals(32, frozen.byteSize());
        assertArrayEquals(key(), frozen.toArray(ValueLayout.JAVA_BYTE));
        long data = frozen.address();
        Smaps.Vma middle = at(data).orElseThrow();
        for (String flag : List.of("sl", "dd", "lo", "dc")) {
            assertTrue(middle.flags().contains(flag), flag + " in " + middle.flags());
        }
        assertTrue(middle.immutable(), "immutable: " + middle);
        for (Smaps.Vma guard : List.of(at(data - PAGE).orElseThrow(), at(data + PAGE).orElseThrow())) {
            assertEquals("---p", guard.permissions(), "guard " + guard);
            assertTrue(guard.sealed(), "guard sealed: " + guard);
        }
        assertEquals(32, Mseal.freeze(MemorySegment.ofArray(key()), MappingOption.IMMUTABLE).byteSize(),
            "IMMUTABLE is implied, and accepted");
    }

    @Test
    void aHardenedFreezeWithAnArenasLifetimeIsUnmappedGuardsAndAll() {
        long data;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment frozen = Mseal.freeze(key(), arena, HARDENED);
            assertEquals(32, frozen.byteSize());
            data = frozen.address();
            Smaps.Vma middle = at(data).orElseThrow();
            for (String flag : List.of("dd", "lo", "dc")) {
                assertTrue(middle.flags().contains(flag), flag + " in " + middle.flags());
            }
            assertTrue(middle.writeProtected() && !middle.sealed(), "immutable, not sealed: " + middle);
            assertEquals("---p", at(data - PAGE).orElseThrow().permissions());
            assertEquals("---p", at(data + PAGE).orElseThrow().permissions());
        }
        assertTrue(Smaps.read(data - PAGE, data + 2 * PAGE).stream()
            .noneMatch(vma -> vma.start() >= data - PAGE && vma.end() <= data + 2 * PAGE),
            "data and guards unmapped with the arena");
    }

    @Test
    void optionsAreCheckedBeforeAnythingIsMapped() {
        assertThrows(NullPointerException.class, () -> Mseal.freeze(key(), (MappingOption[]) null));
        assertThrows(NullPointerException.class, () -> Mseal.freeze(key(), MappingOption.NO_DUMP, null));
        try (Arena arena = Arena.ofConfined()) {
            assertThrows(NullPointerException.class, () -> Mseal.freeze(key(), arena, (MappingOption) null));
            assertEquals(0, Mseal.freeze(new byte[0], arena, HARDENED).byteSize());
        }
    }

    private static Optional<Smaps.Vma> at(long address) {
        return Smaps.read(address, address + 1).stream().filter(v -> v.start() <= address && address < v.end())
            .findFirst();
    }

    private static String hmac(byte[] key) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        return java.util.HexFormat.of().formatHex(mac.doFinal("message".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
    }
}
