package io.github.mseal4j.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SipHashTest {
    private static final long K0 = 0x0706050403020100L;
    private static final long K1 = 0x0f0e0d0c0b0a0908L;

    private static byte[] counting(int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) i;
        }
        return bytes;
    }

    /** The reference SipHash-2-4 vectors: key 00..0f, message 00, 01, ..., length n. */
    @ParameterizedTest
    @CsvSource({"0, 726fdb47dd0e0e31", "1, 74f839c593dc67fd", "15, a129ca6149be45e5"})
    void theRoundsMatchTheReferenceSipHash24(int length, String expected) {
        long hash = SipHash.hash(K0, K1, MemorySegment.ofArray(counting(length)), 0, length, 2, 4);
        assertEquals(Long.parseUnsignedLong(expected, 16), hash);
    }

    @Property(tries = 200)
    void heapAndNativeBytesHashAlike(@ForAll byte[] data, @ForAll long k0, @ForAll long k1) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment copy = arena.allocate(data.length + 3L);
            MemorySegment.copy(data, 0, copy, ValueLayout.JAVA_BYTE, 3, data.length);
            assertEquals(SipHash.hash13(k0, k1, data), SipHash.hash13(k0, k1, copy, 3, data.length));
        }
    }

    @Property(tries = 200)
    void theKeyChangesTheHash(@ForAll byte[] data, @ForAll long k0, @ForAll long k1) {
        assertNotEquals(SipHash.hash13(k0, k1, data), SipHash.hash13(k0 ^ 1, k1, data));
    }
}
