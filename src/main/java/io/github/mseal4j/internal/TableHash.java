package io.github.mseal4j.internal;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.security.SecureRandom;

/**
 * The keyed hash of a {@code SealedMap}'s table: NH (the almost-universal hash of UMAC) for keys of up to
 * {@value #SHORT} bytes, SipHash-1-3 for longer ones, then a fixed bijective mix and a random odd multiplier
 * whose top bits pick the home slot.
 *
 * <h2>Why it resists hash flooding</h2>
 * A short key of n bytes is read as the vector of 32-bit words of its bytes, zero-padded to {@value #SHORT}
 * bytes, followed by the pair (n, 0); distinct keys give distinct vectors (the length tells apart keys that
 * differ only in trailing zero bytes). NH sums, over pairs of words, {@code (m[2i] + K[2i] mod 2^32) *
 * (m[2i+1] + K[2i+1] mod 2^32) mod 2^64} under a random key K; for any two distinct vectors of the same length,
 * the chance over K that they collide is at most 2<sup>-32</sup> (Black, Halevi, Krawczyk, Krovetz and Rogaway,
 * "UMAC: Fast and Secure Message Authentication", CRYPTO 1999). That holds for every pair the keys' author can
 * pick, as long as K is unknown when the keys are chosen, and the map draws K from {@code SecureRandom} in
 * {@code build()}, after every key is in: nothing observed while the keys were chosen can tell anything about
 * it. Long keys use SipHash-1-3 under its own random key, a pseudorandom function. The mix is a bijection, so
 * it keeps those bounds, and the slot is the top bits of the product with a random odd number
 * (multiply-shift): two different hashes share a home slot with probability at most 2 / capacity. Together:
 * at most 2<sup>-32</sup> + 2 / capacity for any pair of keys, and no multicollisions that do not depend on
 * the secret.
 */
public final class TableHash {
    /** Keys of at most this many bytes are hashed with NH; longer ones with SipHash-1-3. */
    public static final int SHORT = 64;
    private static final int WORDS = SHORT / 8;
    private static final VarHandle BYTES_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long LOW = 0xffff_ffffL;

    /**
     * NH's key: for each word of input, then for the length pair, the two 32-bit key halves (low, high) in
     * one long, so that a term needs one load.
     */
    private final long[] keys = new long[WORDS + 1];
    /** {@code tail[j]}: NH's sum over the zero words from {@code j} on (a zero pair adds the product of its keys). */
    private final long[] tail = new long[WORDS + 1];
    private final long sip0;
    private final long sip1;
    private final long multiplier;

    private TableHash(long[] random) {
        for (int i = 0; i <= WORDS; i++) {
            keys[i] = random[i];
        }
        for (int j = WORDS - 1; j >= 0; j--) {
            tail[j] = tail[j + 1] + (keys[j] & LOW) * (keys[j] >>> 32);
        }
        sip0 = random[WORDS + 1];
        sip1 = random[WORDS + 2];
        multiplier = random[WORDS + 3] | 1;
    }

    /** A fresh key, drawn from {@code random} (the map's {@code SecureRandom}) in one call. */
    public static TableHash random(SecureRandom random) {
        byte[] bytes = new byte[(WORDS + 4) * 8];
        random.nextBytes(bytes);
        long[] words = new long[WORDS + 4];
        for (int i = 0; i < words.length; i++) {
            words[i] = (long) BYTES_LE.get(bytes, i * 8);
        }
        return new TableHash(words);
    }

    /** The table hash of {@code key}: its top bits are the home slot. */
    public long hash(byte[] key) {
        int n = key.length;
        if (n > SHORT) {
            return multiplier * mix(SipHash.hash13(sip0, sip1, key));
        }
        long[] k = keys;
        long sum = 0;
        int words = n >>> 3;
        for (int i = 0; i < words; i++) {
            sum += term((long) BYTES_LE.get(key, i << 3), k[i]);
        }
        if ((n & 7) != 0) {
            sum += term(tailWord(key, n, words), k[words++]);
        }
        return finish(sum, n, words);
    }

    /**
     * The last {@code n & 7} bytes of {@code key} as a little-endian word, zero above them. From 8 bytes on,
     * one read of the last 8 bytes, shifted; shorter keys byte by byte.
     */
    private static long tailWord(byte[] key, int n, int words) {
        if (words > 0) {
            return (long) BYTES_LE.get(key, n - 8) >>> (64 - ((n & 7) << 3));
        }
        long last = 0;
        for (int j = n - 1; j >= 0; j--) {
            last = last << 8 | (key[j] & 0xffL);
        }
        return last;
    }

    /**
     * Returned by {@link #hashPlainAscii} for a key it does not hash. A real hash equals it with probability
     * 2^-64; the caller then takes its slower path, to the same result.
     */
    public static final long NOT_PLAIN = Long.MIN_VALUE;

    /**
     * {@link #hash(byte[])} of {@code key} if no byte is above 0x7f and none is {@code '?'} (0x3f), checked in
     * the same pass; otherwise {@link #NOT_PLAIN}.
     */
    public long hashPlainAscii(byte[] key) {
        int n = key.length;
        if (n > SHORT) {
            return NOT_PLAIN;
        }
        long[] k = keys;
        long sum = 0;
        long flags = 0;
        int words = n >>> 3;
        for (int i = 0; i < words; i++) {
            long word = (long) BYTES_LE.get(key, i << 3);
            flags |= notPlain(word);
            sum += term(word, k[i]);
        }
        if ((n & 7) != 0) {
            long last = tailWord(key, n, words);
            flags |= notPlain(last); // the zero bytes above the tail are neither '?' nor high
            sum += term(last, k[words++]);
        }
        return (flags & 0x8080808080808080L) != 0 ? NOT_PLAIN : finish(sum, n, words);
    }

    /**
     * For the eight bytes of {@code word}: the high bit (0x80) of each byte is set in the result if that byte is
     * above 0x7f or is {@code '?'}; a byte above a {@code '?'} may be flagged too (a borrow), never a byte of a
     * word without one. So {@code (notPlain(word) & 0x8080808080808080L) == 0} exactly when no byte is above
     * 0x7f and none is {@code '?'}. The same for either byte order.
     */
    public static long notPlain(long word) {
        long question = word ^ 0x3f3f3f3f3f3f3f3fL; // a '?' byte is zero here
        return word | ((question - 0x0101010101010101L) & ~question);
    }

    /** The same hash of {@code [offset, offset + length)} of {@code key}. */
    public long hash(MemorySegment key, long offset, long length) {
        if (length > SHORT) {
            return multiplier * mix(SipHash.hash13(sip0, sip1, key, offset, length));
        }
        int n = (int) length;
        long[] k = keys;
        long sum = 0;
        int words = n >>> 3;
        for (int i = 0; i < words; i++) {
            sum += term(key.get(LONG_LE, offset + ((long) i << 3)), k[i]);
        }
        if ((n & 7) != 0) {
            long last = 0;
            if (words > 0) { // as tailWord: the last 8 bytes, shifted
                last = key.get(LONG_LE, offset + n - 8) >>> (64 - ((n & 7) << 3));
            } else {
                for (int j = n - 1; j >= 0; j--) {
                    last = last << 8 | (key.get(ValueLayout.JAVA_BYTE, offset + j) & 0xffL);
                }
            }
            sum += term(last, k[words++]);
        }
        return finish(sum, n, words);
    }

    /** One NH term: the word's halves plus the key's halves, each mod 2^32, multiplied. */
    private static long term(long word, long key) {
        return ((word + key) & LOW) * (((word >>> 32) + (key >>> 32)) & LOW);
    }

    /** Adds the zero words after {@code words} and the length pair, then mixes and multiplies. */
    private long finish(long sum, int n, int words) {
        long lengthKey = keys[WORDS];
        sum += tail[words] + ((n + lengthKey) & LOW) * (lengthKey >>> 32);
        return multiplier * mix(sum);
    }

    /**
     * A fixed bijection of 64-bit values that is not linear: the high half folded into the low one, a multiply
     * by an odd constant (MurmurHash3's first), and the fold again. NH is nearly linear in each key word, so
     * keys that differ in one counter give hashes in arithmetic progression, the known bad input for
     * multiply-shift with linear probing; this breaks it before the secret multiplier. Without the first fold,
     * keys that differ only in the top byte of several 32-bit words kept a structure that lengthened probes for
     * about one map in a hundred; MurmurHash3's whole finaliser (a second multiply and fold) measured no better
     * on the key sets compared, and costs two more steps on every lookup's critical path.
     */
    static long mix(long h) {
        h ^= h >>> 32;
        h *= 0xff51afd7ed558ccdL;
        return h ^ (h >>> 32);
    }
}
