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
 * <p>Two entry points compute the same function of the same bytes: over a segment and over a {@code byte[]}
 * (the look-up path, with its state in locals).
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

    /** SipHash-1-3 of {@code data} under the key {@code (k0, k1)}: the look-up path, kept in locals. */
    public static long hash13(long k0, long k1, byte[] data) {
        long v0 = k0 ^ C0;
        long v1 = k1 ^ C1;
        long v2 = k0 ^ C2;
        long v3 = k1 ^ C3;
        int length = data.length;
        int blocks = length & ~7;
        for (int i = 0; i < blocks; i += 8) {
            long m = (long) BYTES_LE.get(data, i);
            v3 ^= m;
            v0 += v1; v1 = Long.rotateLeft(v1, 13) ^ v0; v0 = Long.rotateLeft(v0, 32);
            v2 += v3; v3 = Long.rotateLeft(v3, 16) ^ v2;
            v0 += v3; v3 = Long.rotateLeft(v3, 21) ^ v0;
            v2 += v1; v1 = Long.rotateLeft(v1, 17) ^ v2; v2 = Long.rotateLeft(v2, 32);
            v0 ^= m;
        }
        long last = (long) length << 56;
        for (int i = blocks; i < length; i++) {
            last |= (data[i] & 0xffL) << ((i - blocks) << 3);
        }
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
