package io.github.mseal4j;

import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.Mman;
import io.github.mseal4j.internal.SipHash;
import io.github.mseal4j.internal.TableHash;
import io.github.mseal4j.internal.Smaps;
import io.github.mseal4j.internal.Utf8;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Cleaner;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * An immutable map from byte strings to byte strings that lives off-heap in sealed, read-only memory: an
 * allow-list, a table of keys, a configuration that nothing in the process can change or remap once built.
 * Where {@link Mseal#immutability()} is available (the default on Linux 6.10+), the memory is immutable:
 * not even {@code /proc/self/mem} or a debugger can write it ({@link #isImmutable()}).
 *
 * {@snippet :
 * SealedMap config = SealedMap.builder()
 *     .put("db.host", "10.0.0.5")
 *     .put("db.port", "5432")
 *     .build();                       // laid out off-heap, made read-only and immutable, sealed
 * String host = config.get("db.host");
 * MemorySegment port = config.get("db.port".getBytes(StandardCharsets.UTF_8));  // read-only view
 * Map<String, String> asMap = config.asMap();                                   // a java.util.Map view
 * }
 *
 * <h2>Strings</h2>
 * {@code String} keys and values are stored as UTF-8. A string that UTF-8 cannot encode (one with a lone
 * surrogate, such as {@code "\ud800"}) is refused with {@link IllegalArgumentException} when put, and is
 * never found when looked up: an encoder would turn it into {@code "?"}, and an allow-list must not confuse
 * the two. A lookup by {@code String} encodes the key (for an ASCII key, one vectorised check and a copy),
 * hashes and compares its bytes, and decodes the value. Keys and values are not NUL-terminated, so
 * {@link MemorySegment#getString(long)} does not apply to the segments {@link #forEach} passes; use
 * {@link #asMap()} for strings.
 *
 * <h2>Layout and cost</h2>
 * One mapping holds a header, an open-addressing hash table (8 bytes per slot, at most half full) and the
 * entries (a 16-byte header, the key, the value, padded to 8 bytes). The map object itself holds a handful of
 * fields whatever its size: no per-entry Java objects. Offsets are 64-bit, so a map may exceed 4 GiB.
 *
 * <h2>Hash flooding</h2>
 * The table is hashed with a keyed hash whose secret is drawn from {@link SecureRandom} in {@code build()}, after
 * every key is in: NH (the universal hash of UMAC) for keys of up to 64 bytes, SipHash-1-3 for longer ones.
 * Without the secret nobody can choose keys that collide more often than by chance (any two keys share a slot
 * with probability at most 2<sup>-32</sup> + 2 / capacity); {@code docs/sealed-collections.md} has the argument.
 *
 * <h2>Lifetime</h2>
 * The memory is sealed, so it is never freed: a map lives until the process exits, and building a new one to
 * replace it leaves the old one mapped. Size rebuilds accordingly (see {@code docs/sealed-collections.md}).
 *
 * <h2>Threads</h2>
 * A built map is immutable and safe to read from any number of threads. A {@link Builder} is not
 * thread-safe.
 */
public final class SealedMap {
    /** Aligned: every header, slot and entry is 8-aligned in a page-aligned mapping (and aligned reads are plain loads). */
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final java.lang.invoke.VarHandle BYTES = java.lang.invoke.MethodHandles.byteArrayViewVarHandle(
        long[].class, java.nio.ByteOrder.nativeOrder());
    private static final boolean LITTLE_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    private static final long MAGIC = 0x4d5345414c344a4dL; // "MSEAL4JM"
    private static final int HEADER_BYTES = 64;
    private static final int ENTRY_HEADER_BYTES = 16;
    /** Entry flags, in the int after the key length. */
    private static final int VALUE_ASCII = 1;
    /** Header flag: every key and value is well-formed UTF-8, so {@link #asMap()} can decode them. */
    private static final long ALL_UTF8 = 1;
    /** A slot: the hash's top 16 bits, then the entry offset divided by 8 (entries are 8-aligned). */
    private static final int TAG_SHIFT = 48;
    private static final long OFFSET_MASK = (1L << TAG_SHIFT) - 1;
    private static final SecureRandom SEEDS = new SecureRandom();
    private static final System.Logger LOG = System.getLogger("io.github.mseal4j");
    /** Maps at least this large ask for transparent huge pages, where their memory can have them. */
    private static final long HUGE_PAGE_WORTHWHILE = 4L << 20;

    private final MemorySegment data;
    /** The table's keyed hash; its top bits are a key's home slot. */
    private final TableHash table;
    /** 64 - log2(capacity). */
    private final int shift;
    private final long mask;
    private final int size;
    private final long entriesEnd;
    private final boolean allUtf8;
    private final boolean immutable;

    private SealedMap(MemorySegment data, TableHash table, long capacity, int size, long entriesEnd, boolean allUtf8,
                      boolean immutable) {
        this.data = data;
        this.table = table;
        this.shift = 64 - Long.numberOfTrailingZeros(capacity);
        this.mask = capacity - 1;
        this.size = size;
        this.entriesEnd = entriesEnd;
        this.allUtf8 = allUtf8;
        this.immutable = immutable;
    }

    /**
     * A builder for a new map.
     *
     * @return an empty builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A sealed map with the entries of {@code map}, keys and values encoded as UTF-8.
     *
     * @param map the entries
     * @return the sealed map
     * @throws NullPointerException if {@code map}, a key or a value is null
     * @throws IllegalArgumentException if a key or value has a lone surrogate (UTF-8 cannot encode it), or the
     *     {@linkplain SealPolicy policy} property names no policy
     * @throws UnsupportedOperationException if mseal is not available here and the {@linkplain SealPolicy policy} is
     *     strict
     * @throws IllegalStateException if it would need mappings the library keeps for the JVM under
     *     {@code vm.max_map_count} ({@code -Dio.github.mseal4j.mappingReserve}); nothing is changed
     * @throws SystemCallException if mapping or sealing fails
     */
    public static SealedMap copyOf(Map<String, String> map) {
        Builder builder = builder();
        map.forEach(builder::put);
        return builder.build();
    }

    /**
     * The value of {@code key}, as a read-only view of the sealed memory, valid for the life of the process.
     *
     * @param key the key bytes; may be empty
     * @return the value, or null when the key is absent
     */
    public MemorySegment get(byte[] key) {
        long entry = find(key);
        return entry < 0 ? null : value(entry);
    }

    /**
     * The value of {@code key}, keys and values taken as UTF-8. A key of plain ASCII (the common case) is
     * copied once into a byte array and hashed on the way, then compared word by word; any other key is
     * encoded to UTF-8 first. A value that is not well-formed UTF-8 (put as bytes) decodes with replacement
     * characters.
     *
     * @param key the key
     * @return the value decoded from UTF-8, or null when the key is absent (always, for a key with a lone
     *     surrogate)
     * @throws IllegalStateException if the value is too long for a {@code String} (more than
     *     {@code Integer.MAX_VALUE - 8} bytes; get it as a segment)
     */
    public String get(String key) {
        byte[] latin1 = key.getBytes(StandardCharsets.ISO_8859_1);
        long hash = table.hashPlainAscii(latin1);
        if (hash != TableHash.NOT_PLAIN) {
            return getString(latin1, hash); // the common case, in one pass over the map's memory
        }
        long entry = find(key);
        return entry < 0 ? null : decodeValue(entry);
    }

    /**
     * {@link #get(String)} of a plain ASCII key given as its bytes, with their table hash. The probe of
     * {@link #find(byte[], long)} again, kept apart on purpose: reading the entry's header once and decoding
     * the value from here measured about 2 ns (5%) faster at 1,000 entries than {@code find} followed by
     * {@link #decodeValue}, and this is the lookup the map is for.
     */
    private String getString(byte[] key, long hash) {
        MemorySegment d = data;
        long m = mask;
        long tag = tagOf(hash);
        long index = hash >>> shift;
        for (long probes = 0; probes <= m; probes++, index = (index + 1) & m) {
            long slot = d.get(LONG, HEADER_BYTES + (index << 3));
            if (slot == 0) {
                return null;
            }
            if (slot >>> TAG_SHIFT == tag) {
                long entry = (slot & OFFSET_MASK) << 3;
                long header = d.get(LONG, entry); // the key length, then the flags: one read for both
                int keyLength = (int) (LITTLE_ENDIAN ? header : header >>> 32);
                long keyAt = entry + ENTRY_HEADER_BYTES;
                if (keyLength == key.length && sameKey(d, keyAt, key)) {
                    int flags = (int) (LITTLE_ENDIAN ? header >>> 32 : header);
                    return decode(keyAt + keyLength, d.get(LONG, entry + 8), (flags & VALUE_ASCII) != 0);
                }
            }
        }
        throw corrupt();
    }

    /**
     * The value of {@code key}, or {@code defaultValue} when it is absent: as {@link Map#getOrDefault}.
     *
     * @param key the key
     * @param defaultValue what to return for an absent key; may be null
     * @return the value decoded from UTF-8, or {@code defaultValue}
     */
    public String getOrDefault(String key, String defaultValue) {
        long entry = find(key);
        return entry < 0 ? defaultValue : decodeValue(entry);
    }

    /**
     * Whether the map has {@code key}.
     *
     * @param key the key bytes
     * @return true when present
     */
    public boolean containsKey(byte[] key) {
        return find(key) >= 0;
    }

    /**
     * Whether the map has {@code key} (as UTF-8). Reads no value and decodes nothing: the only allocation is
     * the key's bytes, as in {@link #get(String)}.
     *
     * @param key the key
     * @return true when present; false for a key with a lone surrogate
     */
    public boolean containsKey(String key) {
        return find(key) >= 0;
    }

    /**
     * The number of entries.
     *
     * @return the size
     */
    public int size() {
        return size;
    }

    /**
     * Whether the map has no entries.
     *
     * @return {@code size() == 0}
     */
    public boolean isEmpty() {
        return size == 0;
    }

    /**
     * Whether the map's memory is immutable, as the kernel reports it (see {@link MappedRegion#isImmutable()}):
     * true where {@link Mseal#immutability()} was available when the map was built. Reads smaps.
     *
     * @return true when nothing in the process can write the map
     */
    public boolean isImmutable() {
        if (!immutable) {
            return false;
        }
        long start = data.address();
        long end = start + data.byteSize();
        return Smaps.coveredAndImmutable(Smaps.read(start, end), start, end);
    }

    /**
     * Calls {@code action} once for every entry, in the order the keys were first put, with read-only views of
     * the key and the value. The views are not NUL-terminated: decode them with
     * {@code new String(segment.toArray(ValueLayout.JAVA_BYTE), UTF_8)}, or use {@link #asMap()}.
     *
     * @param action what to do with each key and value
     */
    public void forEach(BiConsumer<MemorySegment, MemorySegment> action) {
        Objects.requireNonNull(action, "action");
        long entry = tableEnd();
        while (entry < entriesEnd) {
            int keyLength = data.get(INT, entry);
            long valueLength = data.get(LONG, entry + 8);
            long key = entry + ENTRY_HEADER_BYTES;
            action.accept(data.asSlice(key, keyLength), data.asSlice(key + keyLength, valueLength));
            entry = align8(key + keyLength + valueLength);
        }
    }

    /**
     * This map as an unmodifiable {@link Map}{@code <String, String>} that decodes keys and values from UTF-8
     * on access: {@code get} and {@code containsKey} are the map's own look-ups; iteration follows the order
     * of first puts; {@code equals} and {@code hashCode} follow the {@link Map} contract, so it equals a
     * {@code HashMap} with the same entries. Every mutator, of the map and of its views, throws
     * {@link UnsupportedOperationException}, even one that would change nothing.
     *
     * @return the view
     * @throws IllegalStateException if some key or value was put as bytes that are not well-formed UTF-8, which
     *     a {@code Map<String, String>} cannot represent faithfully
     */
    public Map<String, String> asMap() {
        if (!allUtf8) {
            throw new IllegalStateException("the map holds keys or values that are not well-formed UTF-8 (put as"
                + " bytes); read them with get(byte[]) and forEach instead");
        }
        return java.util.Collections.unmodifiableMap(new StringView());
    }

    /** The sealed memory that holds the map; for tests. */
    MemorySegment memory() {
        return data;
    }

    /** How many entries sit past their home slot because another key hashed there first; for tests. */
    long displacedEntries() {
        long displaced = 0;
        for (long index = 0; index <= mask; index++) {
            long slot = data.get(LONG, HEADER_BYTES + (index << 3));
            if (slot != 0) {
                long entry = (slot & OFFSET_MASK) << 3;
                long home = table.hash(data, entry + ENTRY_HEADER_BYTES, data.get(INT, entry)) >>> shift;
                displaced += home == index ? 0 : 1;
            }
        }
        return displaced;
    }

    @Override
    public String toString() {
        return "SealedMap[" + size + " entries, " + data.byteSize() + " bytes " + Sealing.sealedLabel() + "]";
    }

    private long tableEnd() {
        return HEADER_BYTES + ((mask + 1) << 3);
    }

    private MemorySegment value(long entry) {
        int keyLength = data.get(INT, entry);
        return data.asSlice(entry + ENTRY_HEADER_BYTES + keyLength, data.get(LONG, entry + 8));
    }

    private String decodeValue(long entry) {
        MemorySegment d = data;
        long header = d.get(LONG, entry); // the key length, then the flags: one read for both
        int keyLength = (int) (LITTLE_ENDIAN ? header : header >>> 32);
        int flags = (int) (LITTLE_ENDIAN ? header >>> 32 : header);
        return decode(entry + ENTRY_HEADER_BYTES + keyLength, d.get(LONG, entry + 8), (flags & VALUE_ASCII) != 0);
    }

    private String decode(long offset, long length, boolean ascii) {
        if (length > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("a value of " + length + " bytes is too long for a String; get it as a"
                + " segment with get(byte[])");
        }
        byte[] bytes = new byte[(int) length];
        MemorySegment.copy(data, ValueLayout.JAVA_BYTE, offset, bytes, 0, bytes.length);
        return new String(bytes, ascii ? StandardCharsets.ISO_8859_1 : StandardCharsets.UTF_8);
    }

    /** The offset of {@code key}'s entry, or -1. */
    private long find(byte[] key) {
        return find(key, table.hash(key));
    }

    /** The offset of {@code key}'s entry, whose table hash is {@code hash}, or -1. */
    private long find(byte[] key, long hash) {
        MemorySegment d = data;
        long m = mask;
        long tag = tagOf(hash);
        long index = hash >>> shift;
        for (long probes = 0; probes <= m; probes++, index = (index + 1) & m) {
            long slot = d.get(LONG, HEADER_BYTES + (index << 3));
            if (slot == 0) {
                return -1;
            }
            if (slot >>> TAG_SHIFT == tag) {
                long entry = (slot & OFFSET_MASK) << 3;
                // Segment accesses cost more than the arithmetic here: one bulk mismatch, not a loop of reads.
                if (d.get(INT, entry) == key.length && MemorySegment.mismatch(d, entry + ENTRY_HEADER_BYTES,
                        entry + ENTRY_HEADER_BYTES + key.length, MemorySegment.ofArray(key), 0, key.length) == -1) {
                    return entry;
                }
            }
        }
        throw corrupt();
    }

    /**
     * What a lookup that probed every slot without finding the key or an empty slot throws: the table is at most
     * half full as built, so its memory was written since (possible where the map is not immutable, through
     * {@code /proc/self/mem} or a debugger). Failing closed: no answer, rather than one that may be wrong.
     */
    private IllegalStateException corrupt() {
        return new IllegalStateException("the map's table is corrupt: a lookup probed all " + (mask + 1) + " slots"
            + " and found neither the key nor an empty slot, though the map was built at most half full; its memory"
            + " was written after it was sealed" + (immutable ? "" : " (it is not immutable: /proc/self/mem or a"
            + " debugger can write it)") + ", so no lookup in it can be trusted");
    }

    /**
     * The offset of {@code key}'s entry (UTF-8), or -1; never found for a key with a lone surrogate. An ASCII
     * key's UTF-8 is its ISO-8859-1 encoding, which for a Latin-1 string is a plain copy of its bytes: that
     * copy is taken, checked (no byte above 0x7f, and no {@code '?'}, which that encoder writes for every char
     * it cannot encode), hashed and compared. Anything else is encoded as UTF-8; and since that encoder writes
     * a lone surrogate as {@code '?'} too, a hit is confirmed against the string's chars.
     */
    private long find(String key) {
        byte[] latin1 = key.getBytes(StandardCharsets.ISO_8859_1);
        long hash = table.hashPlainAscii(latin1);
        if (hash != TableHash.NOT_PLAIN) {
            return find(latin1, hash);
        }
        long entry = find(key.getBytes(StandardCharsets.UTF_8));
        return entry >= 0 && Utf8.length(key) < 0 ? -1 : entry; // "\ud800" must not find "?"
    }

    /**
     * True when {@code key} is at {@code offset}: keys of 8 to 64 bytes a word at a time, the last word read
     * where it ends (overlapping the one before), so no byte is read alone; others with one bulk mismatch.
     */
    private static boolean sameKey(MemorySegment d, long offset, byte[] key) {
        int n = key.length;
        if (n < 8 || n > TableHash.SHORT) {
            return MemorySegment.mismatch(d, offset, offset + n, MemorySegment.ofArray(key), 0, n) == -1;
        }
        for (int i = 0; i < n - 8; i += 8) {
            if (d.get(LONG, offset + i) != (long) BYTES.get(key, i)) {
                return false;
            }
        }
        return d.get(ValueLayout.JAVA_LONG_UNALIGNED, offset + n - 8) == (long) BYTES.get(key, n - 8);
    }

    /** The 16 bits of a table hash kept in its slot, to skip comparing other keys: apart from the slot's bits. */
    private static long tagOf(long hash) {
        return (hash >>> 16) & 0xffff;
    }

    private static long align8(long offset) {
        return (offset + 7) & ~7L;
    }

    /** The bytes an entry takes: header, key, value, padded to 8. Overflow is refused, never wrapped. */
    static long entryBytes(int keyLength, long valueLength) {
        return align8(Math.addExact(Math.addExact(ENTRY_HEADER_BYTES, (long) keyLength), valueLength));
    }

    /** {@link #asMap()}: decodes on access, answers look-ups from the sealed table. */
    private final class StringView extends AbstractMap<String, String> {
        @Override
        public int size() {
            return size;
        }

        @Override
        public boolean containsKey(Object key) {
            return key instanceof String text && find(text) >= 0;
        }

        @Override
        public String get(Object key) {
            return key instanceof String text ? SealedMap.this.get(text) : null;
        }

        @Override
        public String getOrDefault(Object key, String defaultValue) {
            return key instanceof String text ? SealedMap.this.getOrDefault(text, defaultValue) : defaultValue;
        }

        @Override
        public Set<Entry<String, String>> entrySet() {
            return new AbstractSet<>() {
                @Override
                public int size() {
                    return size;
                }

                @Override
                public boolean contains(Object o) {
                    return o instanceof Map.Entry<?, ?> e && e.getKey() instanceof String key
                        && e.getValue() instanceof String value && value.equals(SealedMap.this.get(key));
                }

                @Override
                public Iterator<Entry<String, String>> iterator() {
                    return new Iterator<>() {
                        private long entry = tableEnd();

                        @Override
                        public boolean hasNext() {
                            return entry < entriesEnd;
                        }

                        @Override
                        public Entry<String, String> next() {
                            if (entry >= entriesEnd) {
                                throw new NoSuchElementException();
                            }
                            int keyLength = data.get(INT, entry);
                            long valueLength = data.get(LONG, entry + 8);
                            long keyAt = entry + ENTRY_HEADER_BYTES;
                            String key = decode(keyAt, keyLength, false);
                            String value = decode(keyAt + keyLength, valueLength,
                                (data.get(INT, entry + 4) & VALUE_ASCII) != 0);
                            entry = align8(keyAt + keyLength + valueLength);
                            return new SimpleImmutableEntry<>(key, value);
                        }
                    };
                }
            };
        }
    }

    /**
     * Collects entries, then lays them out and seals them with {@link #build()}. {@code String}s are kept as
     * they are until {@code build()} (they are immutable); bytes and segments are copied when put, off-heap,
     * into memory that {@code build()} frees (or, for a builder dropped unbuilt, a cleaner). When a key is put
     * twice, the last value wins (the key keeps its first position for {@link SealedMap#forEach}); a
     * {@code String} key and a byte key with the same UTF-8 bytes are the same key. Empty keys and values are
     * allowed; null is not. Not thread-safe.
     */
    public static final class Builder {
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

        private Builder() {
        }

        /**
         * Adds or replaces an entry.
         *
         * @param key the key bytes, copied; at most {@code Integer.MAX_VALUE - 8} of them
         * @param value the value bytes, copied
         * @return this builder
         * @throws IllegalArgumentException if the key is longer than {@code Integer.MAX_VALUE - 8} bytes
         * @throws IllegalStateException if the builder is spent
         */
        public Builder put(byte[] key, byte[] value) {
            return put(MemorySegment.ofArray(Objects.requireNonNull(key, "key")),
                MemorySegment.ofArray(Objects.requireNonNull(value, "value")));
        }

        /**
         * Adds or replaces an entry, keys and values encoded as UTF-8.
         *
         * @param key the key
         * @param value the value
         * @return this builder
         * @throws IllegalArgumentException if the key or the value has a lone surrogate, which UTF-8 cannot
         *     encode (an encoder would make it {@code "?"}, and so another key), or the key's UTF-8 is longer than
         *     {@code Integer.MAX_VALUE - 8} bytes
         * @throws IllegalStateException if the builder is spent
         */
        public Builder put(String key, String value) {
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

        /**
         * Adds or replaces an entry, copying the bytes of two segments (heap or native).
         *
         * @param key the key bytes; at most {@code Integer.MAX_VALUE - 8} of them
         * @param value the value bytes
         * @return this builder
         * @throws IllegalArgumentException if the key is too long
         * @throws IllegalStateException if the builder is spent, or a segment's scope is closed
         */
        public Builder put(MemorySegment key, MemorySegment value) {
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

        private Builder add(Object key, int keyBytes, Object value, long valueBytes, long keyHash, int flag) {
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

        /**
         * Lays the entries out in one fresh mapping (immutable where {@link Mseal#immutability()} is
         * available), makes it read-only and seals it. The builder is spent afterwards. If this fails, the
         * builder is left as it was, so {@code build()} can be retried, and everything mapped is unmapped again
         * (except when the kernel fails half-way through sealing itself, with ENOMEM at
         * {@code vm.max_map_count}: sealed pages can never be unmapped).
         *
         * @return the sealed map
         * @throws IllegalStateException if the builder is spent
         * @throws IllegalArgumentException if the map would be too large to address, or the
         *     {@linkplain SealPolicy policy} property names no policy
         * @throws UnsupportedOperationException if mseal is not available here and the
         *     {@linkplain SealPolicy policy} is strict
         * @throws IllegalStateException if it would need mappings the library keeps for the JVM under
         *     {@code vm.max_map_count} ({@code -Dio.github.mseal4j.mappingReserve}); nothing is changed
     * @throws SystemCallException if mapping or sealing fails, for example ENOMEM
         */
        public SealedMap build() {
            ensureUnspent();
            if (Sealing.byKernel()) {
                CheckedCalls.msealStillWorks(); // refuses before anything is mapped
            }
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
            boolean immutable = Mseal.immutableExpected();
            long pageSize = Mseal.pageSize();
            MappedRegion region = immutable ? MappedRegion.allocateAligned(total, pageSize, true)
                : MappedRegion.allocate(total);
            SealedMap map;
            // Drawn now, after every key is in: nothing seen while they were put can tell anything about it.
            TableHash table = TableHash.random(SEEDS);
            int shift = 64 - Long.numberOfTrailingZeros(capacity);
            try {
                MemorySegment memory = region.unscopedView();
                populate(region, immutable);
                memory.set(LONG, 0, MAGIC);
                memory.set(LONG, 8, count);
                memory.set(LONG, 16, capacity);
                memory.set(LONG, 32, allUtf8 ? ALL_UTF8 : 0);
                long entry = tableEnd;
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
                MemorySegment sealed = region.sealReadOnly(true);
                map = new SealedMap(sealed, table, capacity, count, entry, allUtf8, immutable);
            } catch (RuntimeException | Error e) {
                try {
                    region.close(); // unmaps whatever is not sealed; the builder stays as it was
                } catch (RuntimeException again) {
                    e.addSuppressed(again);
                }
                throw e;
            }
            spent = true;
            if (release != null) {
                release.clean();
            }
            keys = null;
            values = null;
            block = MemorySegment.NULL;
            return map;
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
            long size = region.byteSize();
            if (!immutable && size >= HUGE_PAGE_WORTHWHILE) {
                hint(LibC.madvise(address, size, Mman.MADV_HUGEPAGE), "MADV_HUGEPAGE");
            }
            hint(LibC.madvise(address, size, Mman.MADV_POPULATE_WRITE), "MADV_POPULATE_WRITE");
        }

        private static void hint(int errno, String advice) {
            if (errno != 0) {
                LOG.log(System.Logger.Level.DEBUG, () -> "mseal4j: madvise(" + advice + ") declined: "
                    + io.github.mseal4j.internal.Errno.name(errno) + "; the map is built without it");
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
                throw new IllegalArgumentException(String.format(java.util.Locale.ROOT,
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
}
