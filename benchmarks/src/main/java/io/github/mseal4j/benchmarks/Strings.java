package io.github.mseal4j.benchmarks;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Keys and values as a configuration or an allow-list has them: ASCII keys of 12 to 40 characters sharing
 * prefixes (dotted names), values of 8 to 48 characters. Reproducible from a seed.
 */
final class Strings {
    private static final String[] PARTS = {"server", "db", "cache", "api", "auth", "tls", "pool", "timeout", "host",
        "port", "allow", "deny", "max", "min", "retry", "region", "zone", "user", "token", "limit"};
    private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-_";

    final String[] keys;
    final String[] values;

    private Strings(String[] keys, String[] values) {
        this.keys = keys;
        this.values = values;
    }

    static Strings random(int entries, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        String[] keys = new String[entries];
        String[] values = new String[entries];
        for (int i = 0; i < entries; i++) {
            keys[i] = PARTS[random.nextInt(PARTS.length)] + "." + PARTS[random.nextInt(PARTS.length)] + "."
                + word(random, 4, 24) + "." + Integer.toString(i, 36);
            values[i] = word(random, 8, 48);
        }
        return new Strings(keys, values);
    }

    private static String word(SplittableRandom random, int min, int max) {
        int length = random.nextInt(min, max + 1);
        StringBuilder text = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            text.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
        }
        return text.toString();
    }

    /**
     * The keys in a shuffled order, as bytes to make fresh strings from: a lookup then takes a key that is
     * equal to the map's, not the same object, and whose hash code is not cached yet, like a key just read
     * from a request.
     */
    byte[][] shuffledKeyBytes(long seed) {
        byte[][] shuffled = new byte[keys.length][];
        for (int i = 0; i < keys.length; i++) {
            shuffled[i] = keys[i].getBytes(StandardCharsets.ISO_8859_1);
        }
        MapLookupBenchmark.Data.shuffle(shuffled, seed);
        return shuffled;
    }
}
