package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The arithmetic of a {@link SealedMap}'s layout. */
class MapLayoutTest {

    @Test
    void entrySizesAreComputedWithoutIntOverflow() {
        long keyLength = Integer.MAX_VALUE - 9;
        assertEquals((16 + keyLength + 3 + 7) & ~7L, MapLayout.entryBytes((int) keyLength, 3));
        assertEquals((16 + 5 + (1L << 40) + 7) & ~7L, MapLayout.entryBytes(5, 1L << 40));
        assertThrows(ArithmeticException.class, () -> MapLayout.entryBytes(5, Long.MAX_VALUE - 8),
            "refused, never wrapped");
    }
}
