package io.github.mseal4j.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mseal4j.testing.Unicode;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

/** The char-by-char UTF-8 paths agree with the JDK's encoder for every well-formed string. */
class Utf8Properties {

    @Property(tries = 2000)
    void hashingCharsIsHashingTheirUtf8Bytes(@ForAll("text") String text, @ForAll long k0, @ForAll long k1) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        assertEquals(SipHash.hash13(k0, k1, bytes), SipHash.hash13Utf8(k0, k1, text), text);
        assertEquals(SipHash.hash13(k0, k1, bytes), SipHash.hash13(k0, k1, MemorySegment.ofArray(bytes), 0,
            bytes.length));
        Statistics.label("kind").collect(Utf8.isAscii(text) ? "ASCII" : text.codePoints().anyMatch(c -> c > 0xffff)
            ? "with supplementary" : "BMP");
        Statistics.label("kind").coverage(check -> check.check("with supplementary").count(count -> count > 100));
    }

    @Property(tries = 2000)
    void lengthAndComparisonAgreeWithTheEncoder(@ForAll("text") String text, @ForAll("text") String other) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        MemorySegment stored = MemorySegment.ofArray(bytes);
        assertEquals(bytes.length, Utf8.length(text));
        assertTrue(Utf8.equalsBytes(stored, 0, bytes.length, text));
        assertTrue(Utf8.isWellFormed(stored, 0, bytes.length));
        assertEquals(text.equals(other), Utf8.equalsBytes(stored, 0, bytes.length, other), text + " / " + other);
        if (!text.isEmpty()) {
            // One byte short, or one more char: never equal.
            assertFalse(Utf8.equalsBytes(stored, 0, bytes.length - 1, text));
            assertFalse(Utf8.equalsBytes(stored, 0, bytes.length, text + "a"));
        }
    }

    @Property(tries = 1000)
    void aLoneSurrogateIsReportedAndNeverEqual(@ForAll("malformed") String text) {
        long length = Utf8.length(text);
        assertTrue(length < 0, text);
        int at = (int) (-1 - length);
        assertTrue(Character.isSurrogate(text.charAt(at)), "the index of a lone surrogate");
        byte[] replaced = text.getBytes(StandardCharsets.UTF_8); // the encoder writes '?' for it
        assertFalse(Utf8.equalsBytes(MemorySegment.ofArray(replaced), 0, replaced.length, text));
    }

    @Provide
    Arbitrary<String> text() {
        return Unicode.strings(40);
    }

    @Provide
    Arbitrary<String> malformed() {
        return Unicode.malformed(20);
    }
}
