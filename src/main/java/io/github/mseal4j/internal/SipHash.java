package io.github.mseal4j.internal;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * SipHash-1-3 (Aumasson and Bernstein; one compression round per block and three finalisation rounds, the
 * variant Rust's standard library uses for its hash maps): a keyed hash, so that under a secret random key
 * nobody can craft keys that collide (hash flooding).
 */
public final class SipHash {
    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private long v0;
    private long v1;
    private long v2;
    private long v3;

    private SipHash(long k0, long k1) {
        v0 = k0 ^ 0x736f6d6570736575L;
        v1 = k1 ^ 0x646f72616e646f6dL;
        v2 = k0 ^ 0x6c7967656e657261L;
        v3 = k1 ^ 0x7465646279746573L;
    }

    /** SipHash-1-3 of {@code data} under the key {@code (k0, k1)}. */
    public static long hash13(long k0, long k1, byte[] data) {
        return hash(k0, k1, MemorySegment.ofArray(data), 0, data.length, 1, 3);
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
        state.absorb(last, c);
        state.v2 ^= 0xff;
        state.rounds(d);
        return state.v0 ^ state.v1 ^ state.v2 ^ state.v3;
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
