package io.github.mseal4j.internal;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * SipHash-1-3 (Aumasson and Bernstein; one compression round per block and three finalisation rounds, the
 * variant Rust's standard library uses for its hash maps): a keyed hash, so that under a secret random key
 * nobody can craft keys that collide (hash flooding).
 *
 * <p>Three entry points compute the same function of the same bytes: over a segment, over a {@code byte[]},
 * and over the UTF-8 encoding of a {@code String}, which is read char by char and never materialised (no
 * allocation; 8 ASCII chars per step). A lone surrogate, which UTF-8 cannot encode, is hashed as its 3-byte
 * generalised form; callers that need well-formed strings check that separately.
 */
public final class SipHash {
    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle BYTES_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long C0 = 0x736f6d6570736575L;
    private static final long C1 = 0x646f72616e646f6dL;
    private static final long C2 = 0x6c7967656e657261L;
    private static final long C3 = 0x7465646279746573L;

    private long v0;
    private long v1;
    private long v2;
    private long v3;

    private SipHash(long k0, long k1) {
        v0 = k0 ^ C0;
        v1 = k1 ^ C1;
        v2 = k0 ^ C2;
        v3 = k1 ^ C3;
    }

    /** SipHash-1-3 of {@code data} under the key {@code (k0, k1)}. */
    public static long hash13(long k0, long k1, byte[] data) {
        SipHash state = new SipHash(k0, k1);
        int length = data.length;
        int blocks = length & ~7;
        for (int i = 0; i < blocks; i += 8) {
            state.absorb((long) BYTES_LE.get(data, i), 1);
        }
        long last = (long) length << 56;
        for (int i = length - 1; i >= blocks; i--) {
            last |= (data[i] & 0xffL) << ((i - blocks) * 8);
        }
        return state.finish(last, 1, 3);
    }

    /** SipHash-1-3 of {@code [offset, offset + length)} of {@code data} under the key {@code (k0, k1)}. */
    public static long hash13(long k0, long k1, MemorySegment data, long offset, long length) {
        return hash(k0, k1, data, offset, length, 1, 3);
    }

    /** SipHash-c-d; {@code c = 2, d = 4} is the reference SipHash-2-4, which the tests check. */
    static long hash(long k0, long k1, MemorySegment data, long offset, long length, int c, int d) {
        SipHash state = new SipHash(k0, k1);
        long blocks = length & ~7L;
        for (long i = 0; i < blocks; i += 8) {
            state.absorb(data.get(LONG_LE, offset + i), c);
        }
        long last = length << 56;
        for (long i = length - 1; i >= blocks; i--) {
            last |= (data.get(ValueLayout.JAVA_BYTE, offset + i) & 0xffL) << ((i - blocks) * 8);
        }
        return state.finish(last, c, d);
    }

    /**
     * SipHash-1-3 of the UTF-8 encoding of {@code text} under the key {@code (k0, k1)}, without encoding it:
     * equal to {@code hash13(k0, k1, text.getBytes(UTF_8))} for every well-formed string.
     */
    public static long hash13Utf8(long k0, long k1, String text) {
        long v0 = k0 ^ C0;
        long v1 = k1 ^ C1;
        long v2 = k0 ^ C2;
        long v3 = k1 ^ C3;
        int n = text.length();
        int i = 0;
        // ASCII, eight chars to a word: one char, one byte.
        for (; i + 8 <= n; i += 8) {
            long c0 = text.charAt(i);
            long c1 = text.charAt(i + 1);
            long c2 = text.charAt(i + 2);
            long c3 = text.charAt(i + 3);
            long c4 = text.charAt(i + 4);
            long c5 = text.charAt(i + 5);
            long c6 = text.charAt(i + 6);
            long c7 = text.charAt(i + 7);
            if ((c0 | c1 | c2 | c3 | c4 | c5 | c6 | c7) >= 0x80) {
                break;
            }
            long m = c0 | c1 << 8 | c2 << 16 | c3 << 24 | c4 << 32 | c5 << 40 | c6 << 48 | c7 << 56;
            v3 ^= m;
            v0 += v1; v1 = Long.rotateLeft(v1, 13) ^ v0; v0 = Long.rotateLeft(v0, 32);
            v2 += v3; v3 = Long.rotateLeft(v3, 16) ^ v2;
            v0 += v3; v3 = Long.rotateLeft(v3, 21) ^ v0;
            v2 += v1; v1 = Long.rotateLeft(v1, 17) ^ v2; v2 = Long.rotateLeft(v2, 32);
            v0 ^= m;
        }
        long total = i;  // bytes so far: all ASCII
        long m = 0;      // bytes not yet absorbed, little-endian
        int fill = 0;    // how many
        for (; i < n; i++) {
            int c = text.charAt(i);
            long bytes;
            int count;
            if (c < 0x80) {
                bytes = c;
                count = 1;
            } else if (c < 0x800) {
                bytes = (0xc0 | c >> 6) | (long) (0x80 | c & 0x3f) << 8;
                count = 2;
            } else if (Character.isHighSurrogate((char) c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
                int cp = Character.toCodePoint((char) c, text.charAt(++i));
                bytes = (0xf0 | cp >> 18) | (long) (0x80 | cp >> 12 & 0x3f) << 8 | (long) (0x80 | cp >> 6 & 0x3f) << 16
                    | (long) (0x80 | cp & 0x3f) << 24;
                count = 4;
            } else {
                bytes = (0xe0 | c >> 12) | (long) (0x80 | c >> 6 & 0x3f) << 8 | (long) (0x80 | c & 0x3f) << 16;
                count = 3;
            }
            m |= bytes << (fill * 8);
            fill += count;
            if (fill >= 8) {
                v3 ^= m;
                v0 += v1; v1 = Long.rotateLeft(v1, 13) ^ v0; v0 = Long.rotateLeft(v0, 32);
                v2 += v3; v3 = Long.rotateLeft(v3, 16) ^ v2;
                v0 += v3; v3 = Long.rotateLeft(v3, 21) ^ v0;
                v2 += v1; v1 = Long.rotateLeft(v1, 17) ^ v2; v2 = Long.rotateLeft(v2, 32);
                v0 ^= m;
                total += 8;
                fill -= 8;
                m = fill == 0 ? 0 : bytes >>> ((count - fill) * 8);
            }
        }
        long last = (total + fill) << 56 | m;
        v3 ^= last;
        v0 += v1; v1 = Long.rotateLeft(v1, 13) ^ v0; v0 = Long.rotateLeft(v0, 32);
        v2 += v3; v3 = Long.rotateLeft(v3, 16) ^ v2;
        v0 += v3; v3 = Long.rotateLeft(v3, 21) ^ v0;
        v2 += v1; v1 = Long.rotateLeft(v1, 17) ^ v2; v2 = Long.rotateLeft(v2, 32);
        v0 ^= last;
        v2 ^= 0xff;
        for (int r = 0; r < 3; r++) {
            v0 += v1; v1 = Long.rotateLeft(v1, 13) ^ v0; v0 = Long.rotateLeft(v0, 32);
            v2 += v3; v3 = Long.rotateLeft(v3, 16) ^ v2;
            v0 += v3; v3 = Long.rotateLeft(v3, 21) ^ v0;
            v2 += v1; v1 = Long.rotateLeft(v1, 17) ^ v2; v2 = Long.rotateLeft(v2, 32);
        }
        return v0 ^ v1 ^ v2 ^ v3;
    }

    private long finish(long last, int c, int d) {
        absorb(last, c);
        v2 ^= 0xff;
        rounds(d);
        return v0 ^ v1 ^ v2 ^ v3;
    }

    private void absorb(long word, int rounds) {
        v3 ^= word;
        rounds(rounds);
        v0 ^= word;
    }

    private void rounds(int count) {
        for (int r = 0; r < count; r++) {
            v0 += v1;
            v1 = Long.rotateLeft(v1, 13) ^ v0;
            v0 = Long.rotateLeft(v0, 32);
            v2 += v3;
            v3 = Long.rotateLeft(v3, 16) ^ v2;
            v0 += v3;
            v3 = Long.rotateLeft(v3, 21) ^ v0;
            v2 += v1;
            v1 = Long.rotateLeft(v1, 17) ^ v2;
            v2 = Long.rotateLeft(v2, 32);
        }
    }
}
