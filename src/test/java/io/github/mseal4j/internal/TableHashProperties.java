package io.github.mseal4j.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.github.mseal4j.testing.Unicode;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.junit.jupiter.api.Test;

/** The table hash is one function of the bytes, whichever path computes it, and spreads keys apart. */
class TableHashProperties {
    private static final SecureRandom RANDOM = new SecureRandom();

    @Property(tries = 1000)
    void theArrayTheSegmentAndThePlainAsciiPathsAgree(@ForAll("keys") byte[] key) {
        TableHash table = TableHash.random(RANDOM);
        long hash = table.hash(key);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment native_ = arena.allocate(key.length + 16, 8).asSlice(3, key.length); // odd offset
            native_.copyFrom(MemorySegment.ofArray(key));
            assertEquals(hash, table.hash(native_, 0, key.length));
            assertEquals(hash, table.hash(MemorySegment.ofArray(key), 0, key.length));
        }
        boolean plain = true;
        for (byte b : key) {
            plain &= b >= 0 && b != '?';
        }
        long fast = table.hashPlainAscii(key);
        if (plain && key.length <= TableHash.SHORT) {
            assertEquals(hash, fast, "the one-pass path of a plain ASCII key");
        } else {
            // A '?' may stand for a character ISO-8859-1 could not encode: such keys must take the slow path,
            // wherever the byte is (a whole word, or the tail read as the last 8 bytes shifted).
            assertEquals(TableHash.NOT_PLAIN, fast, "a key with '?' or a byte above 0x7f is not plain");
        }
        Statistics.label("path").collect(key.length > TableHash.SHORT ? "long (SipHash)" : plain ? "plain ASCII"
            : "short, other bytes");
        Statistics.label("path").coverage(check -> {
            check.check("long (SipHash)").count(count -> count > 50);
            check.check("plain ASCII").count(count -> count > 50);
            check.check("short, other bytes").count(count -> count > 50);
        });
    }

    @Property(tries = 200)
    void keysThatDifferOnlyInTrailingZerosHashApart(@ForAll("keys") byte[] key) {
        TableHash table = TableHash.random(RANDOM);
        byte[] longer = java.util.Arrays.copyOf(key, key.length + 1);
        assertNotEquals(table.hash(key), table.hash(longer), "the length is part of what is hashed");
    }

    @Test
    void tenThousandSimilarKeysGetTenThousandHashes() {
        // Keys that differ in one counter, the shape that defeats weak hashes: no full-hash collision expected.
        TableHash table = TableHash.random(RANDOM);
        Set<Long> hashes = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            hashes.add(table.hash(("config.key." + i).getBytes(StandardCharsets.US_ASCII)));
            hashes.add(table.hash(("a-much-longer-configuration-key-that-goes-past-sixty-four-bytes." + i)
                .getBytes(StandardCharsets.US_ASCII)));
        }
        assertEquals(20_000, hashes.size());
    }

    @Provide
    Arbitrary<byte[]> keys() {
        Arbitrary<byte[]> ascii = Unicode.strings(40).map(text -> text.getBytes(StandardCharsets.UTF_8));
        Arbitrary<byte[]> any = Arbitraries.bytes().array(byte[].class).ofMaxSize(100);
        Arbitrary<byte[]> printable = Arbitraries.strings().withCharRange('!', '~').ofMaxLength(90)
            .map(text -> text.getBytes(StandardCharsets.US_ASCII));
        Arbitrary<byte[]> longKeys = Arbitraries.bytes().array(byte[].class).ofMinSize(TableHash.SHORT + 1).ofMaxSize(200);
        // Plain ASCII but for one '?' or high byte among the last n mod 8 bytes, the part read as a shifted word.
        Arbitrary<byte[]> oddTail = Combinators.combine(Arbitraries.strings().withCharRange('a', 'z').ofMinLength(9)
                .ofMaxLength(TableHash.SHORT).filter(text -> text.length() % 8 != 0), Arbitraries.of((byte) '?',
                (byte) 0x80, (byte) 0xff), Arbitraries.integers().between(1, 7))
            .as((text, odd, fromEnd) -> {
                byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
                bytes[bytes.length - 1 - (fromEnd - 1) % (bytes.length % 8)] = odd;
                return bytes;
            });
        return Arbitraries.oneOf(List.of(ascii, any, printable, longKeys, oddTail));
    }
}
