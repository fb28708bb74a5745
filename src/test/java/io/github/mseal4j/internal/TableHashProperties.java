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
        } else if (fast != TableHash.NOT_PLAIN) {
            assertEquals(hash, fast);
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
        return Arbitraries.oneOf(List.of(ascii, any, printable, longKeys));
    }
}
