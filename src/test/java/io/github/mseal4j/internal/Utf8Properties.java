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

/** The UTF-8 checks agree with the JDK's encoder for every well-formed string, and find lone surrogates. */
class Utf8Properties {

    @Property(tries = 2000)
    void theHashOfArraysAndSegmentsAgree(@ForAll("text") String text, @ForAll long k0, @ForAll long k1) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        assertEquals(SipHash.hash13(k0, k1, bytes), SipHash.hash13(k0, k1, MemorySegment.ofArray(bytes), 0,
            bytes.length));
        Statistics.label("kind").collect(text.chars().allMatch(c -> c < 0x80) ? "ASCII" : text.codePoints().anyMatch(c -> c > 0xffff)
            ? "with supplementary" : "BMP");
        Statistics.label("kind").coverage(check -> check.check("with supplementary").count(count -> count > 100));
    }

    @Property(tries = 2000)
    void lengthAndWellFormednessAgreeWithTheEncoder(@ForAll("text") String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        assertEquals(bytes.length, Utf8.length(text));
        assertTrue(Utf8.isWellFormed(MemorySegment.ofArray(bytes), 0, bytes.length));
    }

    @Property(tries = 1000)
    void aLoneSurrogateIsReportedWhereItIs(@ForAll("malformed") String text) {
        long length = Utf8.length(text);
        assertTrue(length < 0, text);
        int at = (int) (-1 - length);
        assertTrue(Character.isSurrogate(text.charAt(at)), "the index of a lone surrogate");
        byte[] generalised = new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80}; // U+D800 as CESU/WTF-8
        assertFalse(Utf8.isWellFormed(MemorySegment.ofArray(generalised), 0, 3), "surrogates are not UTF-8");
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
