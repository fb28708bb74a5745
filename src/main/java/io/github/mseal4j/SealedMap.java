package io.github.mseal4j;

import static io.github.mseal4j.MapLayout.BYTES;
import static io.github.mseal4j.MapLayout.ENTRY_HEADER_BYTES;
import static io.github.mseal4j.MapLayout.HEADER_BYTES;
import static io.github.mseal4j.MapLayout.INT;
import static io.github.mseal4j.MapLayout.LITTLE_ENDIAN;
import static io.github.mseal4j.MapLayout.LONG;
import static io.github.mseal4j.MapLayout.OFFSET_MASK;
import static io.github.mseal4j.MapLayout.TAG_SHIFT;
import static io.github.mseal4j.MapLayout.VALUE_ASCII;
import static io.github.mseal4j.MapLayout.align8;
import static io.github.mseal4j.MapLayout.tagOf;

import io.github.mseal4j.internal.FileStat;
import io.github.mseal4j.internal.Smaps;
import io.github.mseal4j.internal.TableHash;
import io.github.mseal4j.internal.Utf8;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.AbstractMap;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
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
 * The table is hashed with a keyed hash whose secret is drawn from {@link java.security.SecureRandom} in {@code build()}, after
 * every key is in: NH (the universal hash of UMAC) for keys of up to 64 bytes, SipHash-1-3 for longer ones.
 * Without the secret nobody can choose keys that collide more often than by chance (any two keys share a slot
 * with probability at most 2<sup>-32</sup> + 2 / capacity); {@code docs/sealed-collections.md} has the argument.
 *
 * <h2>Lifetime</h2>
 * A map built by {@link #copyOf(Map)} or {@link Builder#build()} is sealed, so its memory is never freed: it
 * lives until the process exits, and building a new one to replace it leaves the old one mapped (counted by
 * {@link SealStatistics#unreachableSealedBytes()} once nothing refers to it). A map that is replaced, such as a
 * configuration that reloads, wants an {@link Arena}'s lifetime instead: {@link #copyOf(Map, Arena)} and
 * {@link Builder#build(Arena)} make the same immutable map, not sealed, unmapped when the arena closes. A lookup
 * after that throws {@link IllegalStateException}, also one racing the close in another thread (the JDK's
 * rule for a closed arena's segments): it never reads freed memory. {@link Reloadable} swaps generations of
 * such maps so that no lookup ever meets a closed one. See {@code docs/lifetimes.md}.
 *
 * <h2>Threads</h2>
 * A built map is immutable and safe to read from any number of threads (a map of a confined arena: from its
 * thread only). A {@link Builder} is not
 * thread-safe.
 */
public final class SealedMap {
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
    /** Built sealed for good; false: built with an arena's lifetime. */
    private final boolean sealed;
    /** Of a map with an arena's lifetime in immutable memory, the memfd its mapping must be of; else null. */
    private final FileStat file;

    /**
     * A map over {@code data}: {@code sealed} for good, or with the lifetime of {@code data}'s arena, in a
     * mapping of {@code file} where it is {@code immutable} (null: ordinary memory, the best-effort fallback).
     */
    SealedMap(MemorySegment data, TableHash table, long capacity, int size, long entriesEnd, boolean allUtf8,
              boolean immutable, boolean sealed, FileStat file) {
        this.data = data;
        this.table = table;
        this.shift = 64 - Long.numberOfTrailingZeros(capacity);
        this.mask = capacity - 1;
        this.size = size;
        this.entriesEnd = entriesEnd;
        this.allUtf8 = allUtf8;
        this.immutable = immutable;
        this.sealed = sealed;
        this.file = file;
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
     *     {@code vm.max_map_count} ({@code -Dio.github.mseal4j.mappingReserve}), or seal more than the budget
     *     for memory sealed for good allows ({@code -Dio.github.mseal4j.maxSealedBytes}); nothing is changed
     * @throws SystemCallException if mapping or sealing fails
     */
    public static SealedMap copyOf(Map<String, String> map) {
        Builder builder = builder();
        map.forEach(builder::put);
        return builder.build();
    }

    /**
     * An immutable map with the entries of {@code map} whose memory lives as long as {@code arena} and is
     * <em>not</em> sealed: see {@link Builder#build(Arena)}. The choice for a map that is replaced, such as a
     * configuration that reloads.
     *
     * {@snippet :
     * Arena generation = Arena.ofShared();
     * SealedMap allowList = SealedMap.copyOf(hosts, generation);
     * // ... once a newer map has replaced it and no lookup uses it: generation.close() unmaps it
     * }
     *
     * @param map the entries
     * @param arena the lifetime of the map's memory
     * @return the map
     * @throws NullPointerException if {@code map}, a key, a value or {@code arena} is null
     * @throws IllegalStateException if {@code arena} is closed (checked before anything is mapped)
     * @throws WrongThreadException if {@code arena} is confined to another thread (checked before anything is
     *     mapped)
     * @throws IllegalArgumentException if a key or value has a lone surrogate (UTF-8 cannot encode it), or the
     *     {@linkplain SealPolicy policy} property names no policy
     * @throws UnsupportedOperationException if immutable memory is not available here and the
     *     {@linkplain SealPolicy policy} is strict
     * @throws IllegalStateException if it would need mappings the library keeps for the JVM under
     *     {@code vm.max_map_count} ({@code -Dio.github.mseal4j.mappingReserve}); nothing is changed
     * @throws SystemCallException if a system call fails; nothing is left mapped
     */
    public static SealedMap copyOf(Map<String, String> map, Arena arena) {
        ArenaLifetime.check(arena);
        Builder builder = builder();
        map.forEach(builder::put);
        return builder.build(arena);
    }

    /**
     * The value of {@code key}, as a read-only view of the map's memory: valid for as long as the map's memory
     * is (for a map with an arena's lifetime, until the arena closes; then using it throws
     * {@link IllegalStateException}).
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
     * true where {@link Mseal#immutability()} was available when the map was built. Reads smaps. A map of a
     * closed arena is not (its memory is gone).
     *
     * @return true when nothing in the process can write the map
     */
    public boolean isImmutable() {
        if (!immutable) {
            return false;
        }
        long start = data.address();
        long end = start + data.byteSize();
        if (sealed) {
            return Smaps.coveredAndImmutable(Smaps.read(start, end), start, end);
        }
        // Not sealed: the mapping could have been replaced (by code that unmapped it and mapped another memfd of
        // the same name there, or moved another part of its own file over it with mremap), so it must be of the
        // map's own file from its first byte; and gone with a closed arena.
        return data.scope().isAlive() && Smaps.coveredBy(Smaps.read(start, end), start, end,
                Smaps.Vma::writeProtected)
            && Smaps.mappedFileAt(start).filter(mapped -> mapped.maps(file, start, end - start)).isPresent();
    }

    /**
     * Whether the map's memory is sealed with mseal, as the kernel reports it (reads smaps): true for a map built
     * sealed for good ({@link #copyOf(Map)}, {@link Builder#build()}) where mseal works; false for one built with
     * an arena's lifetime ({@link #copyOf(Map, Arena)}, {@link Builder#build(Arena)}), which is immutable but can
     * be unmapped, and is when its arena closes.
     *
     * @return true when the map's memory can never be unmapped, remapped or re-protected
     */
    public boolean isSealed() {
        if (!sealed) {
            return false;
        }
        long start = data.address();
        long end = start + data.byteSize();
        return Smaps.coveredBy(Smaps.read(start, end), start, end, Smaps.Vma::sealed);
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
        return java.util.Collections.unmodifiableMap(new SealedMapView(this));
    }

    /**
     * The entries decoded as strings, in the order of first puts: for {@link #asMap()}, which can only be had
     * when every key and value is well-formed UTF-8.
     */
    Iterator<Map.Entry<String, String>> entries() {
        return new Iterator<>() {
            private long entry = tableEnd();

            @Override
            public boolean hasNext() {
                return entry < entriesEnd;
            }

            @Override
            public Map.Entry<String, String> next() {
                if (entry >= entriesEnd) {
                    throw new NoSuchElementException();
                }
                int keyLength = data.get(INT, entry);
                long valueLength = data.get(LONG, entry + 8);
                long keyAt = entry + ENTRY_HEADER_BYTES;
                String key = decode(keyAt, keyLength, false);
                String value = decode(keyAt + keyLength, valueLength, (data.get(INT, entry + 4) & VALUE_ASCII) != 0);
                entry = align8(keyAt + keyLength + valueLength);
                return new AbstractMap.SimpleImmutableEntry<>(key, value);
            }
        };
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
        return "SealedMap[" + size + " entries, " + data.byteSize() + " bytes "
            + (sealed ? Sealing.sealedLabel() : "with an arena's lifetime") + "]";
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

    /**
     * Collects entries, then lays them out and seals them with {@link #build()}. {@code String}s are kept as
     * they are until {@code build()} (they are immutable); bytes and segments are copied when put, off-heap,
     * into memory that {@code build()} frees (or, for a builder dropped unbuilt, a cleaner). When a key is put
     * twice, the last value wins (the key keeps its first position for {@link SealedMap#forEach}); a
     * {@code String} key and a byte key with the same UTF-8 bytes are the same key. Empty keys and values are
     * allowed; null is not. Not thread-safe.
     */
    public static final class Builder {
        private final MapBuilder staging = new MapBuilder();

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
            staging.put(key, value);
            return this;
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
            staging.put(key, value);
            return this;
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
            staging.put(key, value);
            return this;
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
         *     {@code vm.max_map_count} ({@code -Dio.github.mseal4j.mappingReserve}), or seal more than the
         *     budget for memory sealed for good allows ({@code -Dio.github.mseal4j.maxSealedBytes}); nothing is
         *     changed
         * @throws SystemCallException if mapping or sealing fails, for example ENOMEM
         */
        public SealedMap build() {
            return staging.build();
        }

        /**
         * Lays the entries out in one fresh mapping of immutable memory whose lifetime is {@code arena}'s, and is
         * <em>not</em> sealed: nothing in the process can write the map (not through its mapping,
         * {@code /proc/self/mem} or a debugger), and it is unmapped when the arena is closed (a shared or confined
         * arena), becomes unreachable (an automatic one), or never ({@link Arena#global()}). Lookups after that
         * throw {@link IllegalStateException}. Unlike a sealed map, its mapping can be replaced by code in the
         * process that calls {@code munmap} and {@code mmap} at its address; it does not count against the
         * budget for memory sealed for good. Where {@link Mseal#immutability()} is not available, the strict
         * {@linkplain SealPolicy policy} refuses; best-effort gives read-only memory and warns once.
         * {@link SealedMap#isSealed()} is false for such a map. The builder is spent afterwards; if this fails,
         * nothing is left mapped and the builder is as it was.
         *
         * @param arena the lifetime of the map's memory; a shared or automatic arena for a map read by many
         *     threads (a confined arena's map can be read by its thread only)
         * @return the map
         * @throws NullPointerException if {@code arena} is null
         * @throws IllegalStateException if the builder is spent, or {@code arena} is closed (checked before
         *     anything is mapped)
         * @throws WrongThreadException if {@code arena} is confined to another thread
         * @throws IllegalArgumentException if the map would be too large to address, or the
         *     {@linkplain SealPolicy policy} property names no policy
         * @throws UnsupportedOperationException if immutable memory is not available here and the
         *     {@linkplain SealPolicy policy} is strict
         * @throws IllegalStateException if it would need mappings the library keeps for the JVM under
         *     {@code vm.max_map_count} ({@code -Dio.github.mseal4j.mappingReserve}); nothing is changed
         * @throws SystemCallException if a system call fails; nothing is left mapped
         */
        public SealedMap build(Arena arena) {
            return staging.build(arena);
        }
    }
}
