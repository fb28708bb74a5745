package io.github.mseal4j;

import static io.github.mseal4j.MapLayout.ALL_UTF8;
import static io.github.mseal4j.MapLayout.BYTES;
import static io.github.mseal4j.MapLayout.ENTRY_HEADER_BYTES;
import static io.github.mseal4j.MapLayout.HEADER_BYTES;
import static io.github.mseal4j.MapLayout.INT;
import static io.github.mseal4j.MapLayout.LONG;
import static io.github.mseal4j.MapLayout.MAGIC;
import static io.github.mseal4j.MapLayout.TAG_SHIFT;
import static io.github.mseal4j.MapLayout.VALUE_ASCII;
import static io.github.mseal4j.MapLayout.align8;
import static io.github.mseal4j.MapLayout.entryBytes;
import static io.github.mseal4j.MapLayout.tagOf;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.Mman;
import io.github.mseal4j.internal.Platform;
import io.github.mseal4j.internal.SipHash;
import io.github.mseal4j.internal.TableHash;
import io.github.mseal4j.internal.Utf8;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Cleaner;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;

/**
 * What {@link SealedMap.Builder} does: collects entries, then lays them out ({@link MapLayout}) in one fresh
 * mapping and seals it with {@link #build()}. {@code String}s are kept as
 * they are until {@code build()} (they are immutable); bytes and segments are copied when put, off-heap,
 * into memory that {@code build()} frees (or, for a builder dropped unbuilt, a cleaner). When a key is put
 * twice, the last value wins (the key keeps its first position for {@link SealedMap#forEach}); a
 * {@code String} key and a byte key with the same UTF-8 bytes are the same key. Empty keys and values are
 * allowed; null is not. Not thread-safe.
 */
final class MapBuilder {
    private static final SecureRandom SEEDS = new SecureRandom();
    /** Maps at least this large ask for transparent huge pages, where their memory can have them. */
    private static final long HUGE_PAGE_WORTHWHILE = 4L << 20;
    private static final Cleaner CLEANER = Cleaner.create();
    /** Staging blocks start small (small maps stay cheap) and double up to this size. */
    private static final long MAX_BLOCK = 1L << 20;
    private static final long FIRST_BLOCK = 16L << 10;
    private static final int KEY_UTF8 = 2;
    private static final int VALUE_UTF8 = 4;

    /**
     * Staging memory for bytes and segments, made on their first put: freed by {@code build()}, or by the
     * cleaner once a builder is dropped unbuilt. (Not an automatic arena: those count against
     * {@code -XX:MaxDirectMemorySize}, which would cap maps at the heap's size.)
     */
    private Arena staging;
    private Cleaner.Cleanable release;
    private MemorySegment block = MemorySegment.NULL;
    private long blockUsed;
    private long nextBlock = FIRST_BLOCK;
    // Per entry, in put order: the key and the value (a String, or a staged segment), their UTF-8 lengths,
    // the hash, and flags (ASCII value, well-formed key, well-formed value).
    private Object[] keys = new Object[16];
    private Object[] values = new Object[16];
    private int[] keyLength = new int[16];
    private long[] valueLength = new long[16];
    private long[] hash = new long[16];
    private byte[] flags = new byte[16];
    private int count;
    /** Open addressing over entry numbers + 1, to find a key put before. */
    private int[] index = new int[32];
    private final long k0 = SEEDS.nextLong();
    private final long k1 = SEEDS.nextLong();
    private boolean spent;

    MapBuilder() {
        Platform.requireNativeCalls(); // at the builder, not after the entries were read
    }

    /** As {@link SealedMap.Builder#put(byte[], byte[])}. */
    MapBuilder put(byte[] key, byte[] value) {
        return put(MemorySegment.ofArray(Objects.requireNonNull(key, "key")),
            MemorySegment.ofArray(Objects.requireNonNull(value, "value")));
    }

    /** As {@link SealedMap.Builder#put(String, String)}. */
    MapBuilder put(String key, String value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        ensureUnspent();
        // The key as its UTF-8 bytes, kept for build(): for a Latin-1 string, ISO-8859-1 encoding is a plain
        // copy, and it is the UTF-8 encoding when no byte is above 0x7f and none is the '?' that encoder
        // writes for what it cannot encode. Anything else is validated and encoded as UTF-8.
        byte[] keyBytes = key.getBytes(StandardCharsets.ISO_8859_1);
        if (!plainAscii(keyBytes)) {
            long length = utf8Length(key, "key");
            if (length > Integer.MAX_VALUE - 8) {
                throw keyTooLong(length);
            }
            keyBytes = key.getBytes(StandardCharsets.UTF_8);
        }
        // The value likewise; an ASCII value is kept as its bytes, anything else as the string (validated
        // here, encoded by build()).
        byte[] valueLatin1 = value.getBytes(StandardCharsets.ISO_8859_1);
        Object valueKept = valueLatin1;
        long valueBytes = valueLatin1.length;
        int flag = KEY_UTF8 | VALUE_UTF8 | VALUE_ASCII;
        if (!plainAscii(valueLatin1)) {
            valueBytes = utf8Length(value, "value");
            valueKept = value;
            flag = valueBytes == value.length() ? flag : KEY_UTF8 | VALUE_UTF8;
        }
        return add(keyBytes, keyBytes.length, valueKept, valueBytes, SipHash.hash13(k0, k1, keyBytes), flag);
    }

    private static IllegalArgumentException keyTooLong(long length) {
        return new IllegalArgumentException("a key of " + length + " bytes is too long: at most "
            + (Integer.MAX_VALUE - 8));
    }

    /**
     * True when no byte is above 0x7f and none is {@code '?'}; eight at a time, the last eight again (they
     * overlap the words before them) rather than the remainder one by one.
     */
    private static boolean plainAscii(byte[] bytes) {
        int n = bytes.length;
        if (n < 8) {
            long high = 0;
            for (byte b : bytes) {
                high |= b == '?' ? 0x80 : b;
            }
            return (high & 0x80) == 0;
        }
        long high = TableHash.notPlain((long) BYTES.get(bytes, n - 8));
        for (int i = 0; i < n - 8; i += 8) {
            high |= TableHash.notPlain((long) BYTES.get(bytes, i));
        }
        return (high & 0x8080808080808080L) == 0;
    }

    /** As {@link SealedMap.Builder#put(MemorySegment, MemorySegment)}. */
    MapBuilder put(MemorySegment key, MemorySegment value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        ensureUnspent();
        if (key.byteSize() > Integer.MAX_VALUE - 8) {
            throw keyTooLong(key.byteSize());
        }
        int keyBytes = (int) key.byteSize();
        long valueBytes = value.byteSize();
        MemorySegment stagedKey = stage(key);
        MemorySegment stagedValue = stage(value);
        int flag = (Utf8.isWellFormed(stagedKey, 0, keyBytes) ? KEY_UTF8 : 0)
            | (Utf8.isWellFormed(stagedValue, 0, valueBytes) ? VALUE_UTF8 : 0)
            | (ascii(stagedValue) ? VALUE_ASCII : 0);
        return add(stagedKey, keyBytes, stagedValue, valueBytes,
            SipHash.hash13(k0, k1, stagedKey, 0, keyBytes), flag);
    }

    private MapBuilder add(Object key, int keyBytes, Object value, long valueBytes, long keyHash, int flag) {
        int slot = (int) (keyHash & (index.length - 1));
        while (index[slot] != 0) {
            int other = index[slot] - 1;
            if (hash[other] == keyHash && keyLength[other] == keyBytes && sameKey(keys[other], key, keyBytes)) {
                // Last put wins; the key keeps its place.
                values[other] = value;
                valueLength[other] = valueBytes;
                flags[other] = (byte) (flags[other] & KEY_UTF8 | flag & ~KEY_UTF8);
                return this;
            }
            slot = (slot + 1) & (index.length - 1);
        }
        if (count == hash.length) {
            grow();
            slot = (int) (keyHash & (index.length - 1));
            while (index[slot] != 0) {
                slot = (slot + 1) & (index.length - 1);
            }
        }
        keys[count] = key;
        values[count] = value;
        keyLength[count] = keyBytes;
        valueLength[count] = valueBytes;
        hash[count] = keyHash;
        flags[count] = (byte) flag;
        index[slot] = ++count;
        return this;
    }

    /** Keys are kept as UTF-8 bytes: a {@code byte[]} (from a string) or a staged segment. */
    private static boolean sameKey(Object a, Object b, int length) {
        if (a instanceof byte[] x && b instanceof byte[] y) {
            return Arrays.equals(x, y);
        }
        return MemorySegment.mismatch(segmentOf(a), 0, length, segmentOf(b), 0, length) == -1;
    }

    private static MemorySegment segmentOf(Object key) {
        return key instanceof byte[] bytes ? MemorySegment.ofArray(bytes) : (MemorySegment) key;
    }

    /** As {@link SealedMap.Builder#build()}. */
    SealedMap build() {
        ensureUnspent();
        if (Sealing.byKernel()) {
            CheckedCalls.msealStillWorks(); // refuses before anything is mapped
        }
        Sizes sizes = sizes();
        boolean immutable = Mseal.immutableExpected();
        long pageSize = Mseal.pageSize();
        SealedMap map;
        try (var _ = SealCounters.budget(Mseal.support().available()
                ? Math.max(pageSize, (sizes.total + pageSize - 1) & -pageSize) : 0)) {
            MappedRegion region = immutable ? MappedRegion.allocateAligned(sizes.total, pageSize, true)
                : MappedRegion.allocate(sizes.total);
            // Drawn now, after every key is in: nothing seen while they were put can tell anything about it.
            TableHash table = TableHash.random(SEEDS);
            try {
                populate(region, immutable);
                long entriesEnd = layOut(region.unscopedView(), table, sizes);
                MemorySegment sealed = region.sealReadOnly(true);
                map = new SealedMap(sealed, table, sizes.capacity, count, entriesEnd, sizes.allUtf8, immutable, true, null);
            } catch (RuntimeException | Error e) {
                try {
                    region.close(); // unmaps whatever is not sealed; the builder stays as it was
                } catch (RuntimeException again) {
                    e.addSuppressed(again);
                }
                throw e;
            }
        }
        spend();
        return map;
    }

    /** As {@link SealedMap.Builder#build(Arena)}. */
    SealedMap build(Arena arena) {
        ensureUnspent();
        ArenaLifetime.check(arena); // before anything is mapped
        Sizes sizes = sizes();
        TableHash table = TableHash.random(SEEDS);
        long[] entriesEnd = new long[1];
        ArenaLifetime.Frozen frozen;
        try {
            frozen = ArenaLifetime.freeze(sizes.total,
                MemfdFreeze.Contents.writtenBy(memory -> entriesEnd[0] = layOut(memory, table, sizes)), null, arena,
                java.util.Set.of());
        } catch (java.io.IOException e) {
            throw new AssertionError("laying a map out reads no file", e);
        }
        SealedMap map = new SealedMap(frozen.segment(), table, sizes.capacity, count, entriesEnd[0], sizes.allUtf8,
            frozen.immutable(), false, frozen.file());
        spend();
        return map;
    }

    /** The builder's entries go nowhere else: its staging memory is freed. */
    private void spend() {
        spent = true;
        if (release != null) {
            release.clean();
        }
        keys = null;
        values = null;
        block = MemorySegment.NULL;
    }

    /** What a build lays out: the table's capacity, where it ends, the bytes in all, and whether all is UTF-8. */
    private record Sizes(long capacity, long tableEnd, long total, boolean allUtf8) {
    }

    private Sizes sizes() {
        // At most half full: the smallest power of two of at least twice the entries.
        long capacity = Math.max(2, Long.highestOneBit(2L * count - 1) << 1);
        long tableEnd = HEADER_BYTES + capacity * 8;
        long total = tableEnd + 8; // a spare word after the last entry, for write()'s NUL
        boolean allUtf8 = true;
        try {
            for (int i = 0; i < count; i++) {
                total = Math.addExact(total, entryBytes(keyLength[i], valueLength[i]));
                allUtf8 &= (flags[i] & (KEY_UTF8 | VALUE_UTF8)) == (KEY_UTF8 | VALUE_UTF8);
            }
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("the map would exceed " + Long.MAX_VALUE + " bytes", e);
        }
        return new Sizes(capacity, tableEnd, total, allUtf8);
    }

    /**
     * Writes the map ({@link MapLayout}) into {@code memory}, zeroed and at least {@code sizes.total} bytes;
     * returns where the entries end.
     */
    private long layOut(MemorySegment memory, TableHash table, Sizes sizes) {
        long capacity = sizes.capacity;
        int shift = 64 - Long.numberOfTrailingZeros(capacity);
        memory.set(LONG, 0, MAGIC);
        memory.set(LONG, 8, count);
        memory.set(LONG, 16, capacity);
        memory.set(LONG, 32, sizes.allUtf8 ? ALL_UTF8 : 0);
        long entry = sizes.tableEnd;
        for (int i = 0; i < count; i++) {
            memory.set(INT, entry, keyLength[i]);
            memory.set(INT, entry + 4, flags[i] & VALUE_ASCII);
            memory.set(LONG, entry + 8, valueLength[i]);
            long at = entry + ENTRY_HEADER_BYTES;
            long tableHash;
            if (keys[i] instanceof byte[] bytes) {
                MemorySegment.copy(bytes, 0, memory, ValueLayout.JAVA_BYTE, at, bytes.length);
                tableHash = table.hash(bytes);
            } else {
                MemorySegment.copy((MemorySegment) keys[i], 0, memory, at, keyLength[i]);
                tableHash = table.hash((MemorySegment) keys[i], 0, keyLength[i]);
            }
            write(memory, at + keyLength[i], values[i], valueLength[i], (flags[i] & VALUE_ASCII) != 0);
            long slot = tableHash >>> shift;
            for (long probes = 0; memory.get(LONG, HEADER_BYTES + slot * 8) != 0; probes++) {
                if (probes == capacity) { // at most half full: only a write from elsewhere fills it
                    throw new IllegalStateException("the map's memory was written by someone else while it"
                        + " was being built: its table has no empty slot left");
                }
                slot = (slot + 1) & (capacity - 1);
            }
            memory.set(LONG, HEADER_BYTES + slot * 8, tagOf(tableHash) << TAG_SHIFT | entry >>> 3);
            entry += entryBytes(keyLength[i], valueLength[i]);
        }
        memory.set(LONG, 24, entry);
        return entry;
    }

    /**
     * Asks the kernel to fault the new mapping in with one call, rather than one page fault per page while
     * writing, and, for large anonymous maps, for transparent huge pages (lookups jump around the whole map:
     * huge pages save TLB misses; shared memory gets none where the kernel's {@code shmem_enabled} is
     * {@code never}). Both are hints: a refusal (THP disabled; {@code MADV_POPULATE_WRITE} before Linux
     * 5.14) changes nothing but speed, so it is only logged.
     */
    private static void populate(MappedRegion region, boolean immutable) {
        long address = region.address();
        long size = region.mappedSize();
        if (!immutable && size >= HUGE_PAGE_WORTHWHILE) {
            hint(LibC.madvise(address, size, Mman.MADV_HUGEPAGE), "MADV_HUGEPAGE");
        }
        hint(LibC.madvise(address, size, Mman.MADV_POPULATE_WRITE), "MADV_POPULATE_WRITE");
    }

    private static void hint(int errno, String advice) {
        if (errno != 0) {
            Sealing.log().log(System.Logger.Level.DEBUG, () -> "mseal4j: madvise(" + advice + ") declined: "
                + Errno.name(errno) + "; the map is built without it");
        }
    }

    /**
     * Writes a value. An ASCII string goes straight from the string into the map ({@code setString}, which
     * copies a Latin-1 string's bytes without an intermediate array, then writes a NUL after them: into the
     * next entry's header or padding, written later, or the spare byte after the last entry).
     */
    private static void write(MemorySegment memory, long at, Object what, long length, boolean ascii) {
        if (what instanceof byte[] bytes) {
            MemorySegment.copy(bytes, 0, memory, ValueLayout.JAVA_BYTE, at, bytes.length);
        } else if (what instanceof String text) {
            if (ascii) {
                memory.setString(at, text, StandardCharsets.ISO_8859_1);
            } else {
                byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
                MemorySegment.copy(bytes, 0, memory, ValueLayout.JAVA_BYTE, at, bytes.length);
            }
        } else {
            MemorySegment.copy((MemorySegment) what, 0, memory, at, length);
        }
    }

    private void ensureUnspent() {
        if (spent) {
            throw new IllegalStateException("the builder is spent: build() was called");
        }
    }

    private static long utf8Length(String text, String what) {
        long length = Utf8.length(text);
        if (length < 0) {
            int at = (int) (-1 - length);
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                "the %s has a lone surrogate U+%04X at index %d, which UTF-8 cannot encode (an encoder would"
                    + " write '?'%s)", what, (int) text.charAt(at), at,
                what.equals("key") ? ", which is another key" : ", which is another value"));
        }
        return length;
    }

    private static boolean ascii(MemorySegment bytes) {
        long length = bytes.byteSize();
        long i = 0;
        for (; i + 8 <= length; i += 8) {
            if ((bytes.get(ValueLayout.JAVA_LONG_UNALIGNED, i) & 0x8080808080808080L) != 0) {
                return false;
            }
        }
        for (; i < length; i++) {
            if (bytes.get(ValueLayout.JAVA_BYTE, i) < 0) {
                return false;
            }
        }
        return true;
    }

    /** A copy of {@code bytes} in the staging memory. */
    private MemorySegment stage(MemorySegment bytes) {
        long length = bytes.byteSize();
        if (staging == null) {
            Arena arena = Arena.ofShared();
            staging = arena;
            release = CLEANER.register(this, arena::close);
        }
        MemorySegment target;
        if (length > MAX_BLOCK / 4) {
            target = staging.allocate(Math.max(1, length), 8).asSlice(0, length);
        } else {
            if (block == MemorySegment.NULL || blockUsed + length > block.byteSize()) {
                long size = Math.max(nextBlock, align8(length));
                nextBlock = Math.min(MAX_BLOCK, nextBlock * 2);
                block = staging.allocate(size, 8);
                blockUsed = 0;
            }
            target = block.asSlice(blockUsed, length);
            blockUsed = align8(blockUsed + length);
        }
        MemorySegment.copy(bytes, 0, target, 0, length);
        return target;
    }

    private void grow() {
        int capacity = hash.length * 2;
        keys = Arrays.copyOf(keys, capacity);
        values = Arrays.copyOf(values, capacity);
        keyLength = Arrays.copyOf(keyLength, capacity);
        valueLength = Arrays.copyOf(valueLength, capacity);
        hash = Arrays.copyOf(hash, capacity);
        flags = Arrays.copyOf(flags, capacity);
        index = new int[capacity * 2];
        for (int i = 0; i < count; i++) {
            int slot = (int) (hash[i] & (index.length - 1));
            while (index[slot] != 0) {
                slot = (slot + 1) & (index.length - 1);
            }
            index[slot] = i + 1;
        }
    }
}
