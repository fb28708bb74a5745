package io.github.mseal4j;

import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The layout of a {@link SealedMap} in its one mapping, shared by {@link MapBuilder}, which writes it, and the
 * map, which reads it. Every header, slot and entry is 8-aligned in a page-aligned mapping, so aligned reads are
 * plain loads.
 *
 * <pre>
 * header (64 bytes)  0: MAGIC   8: entries   16: capacity (a power of two)   24: end of the entries   32: flags
 * table              capacity slots of 8 bytes: 0 (empty), or a key's 16-bit tag then its entry's offset / 8
 * entries            each: key length (int), value flags (int), value length (long), key, value, padded to 8
 * </pre>
 */
final class MapLayout {
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    /** Eight bytes of a {@code byte[]} as one {@code long}, in the machine's order (as the map's memory reads). */
    static final VarHandle BYTES = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.nativeOrder());
    static final boolean LITTLE_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    static final long MAGIC = 0x4d5345414c344a4dL; // "MSEAL4JM"
    static final int HEADER_BYTES = 64;
    static final int ENTRY_HEADER_BYTES = 16;
    /** Entry flag, in the int after the key length: the value is ASCII. */
    static final int VALUE_ASCII = 1;
    /** Header flag: every key and value is well-formed UTF-8, so {@link SealedMap#asMap()} can decode them. */
    static final long ALL_UTF8 = 1;
    /** A slot: the hash's top 16 bits, then the entry offset divided by 8 (entries are 8-aligned). */
    static final int TAG_SHIFT = 48;
    static final long OFFSET_MASK = (1L << TAG_SHIFT) - 1;

    private MapLayout() {
    }

    /** The 16 bits of a table hash kept in its slot, to skip comparing other keys: apart from the slot's bits. */
    static long tagOf(long hash) {
        return (hash >>> 16) & 0xffff;
    }

    static long align8(long offset) {
        return (offset + 7) & ~7L;
    }

    /** The bytes an entry takes: header, key, value, padded to 8. Overflow is refused, never wrapped. */
    static long entryBytes(int keyLength, long valueLength) {
        return align8(Math.addExact(Math.addExact(ENTRY_HEADER_BYTES, (long) keyLength), valueLength));
    }
}
