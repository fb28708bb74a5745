package io.github.mseal4j;

import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.Mman;
import io.github.mseal4j.internal.SipHash;
import java.lang.foreign.Arena;
import java.lang.ref.Cleaner;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiConsumer;

/**
 * An immutable map from byte strings to byte strings that lives off-heap in sealed, read-only memory: an
 * allow-list, a table of keys, a configuration that nothing in the process can change or remap once built.
 *
 * {@snippet :
 * SealedMap config = SealedMap.builder()
 *     .put("db.host", "10.0.0.5")
 *     .put("db.port", "5432")
 *     .build();                       // laid out off-heap, made read-only, sealed
 * String host = config.get("db.host");
 * MemorySegment port = config.get("db.port".getBytes(StandardCharsets.UTF_8));  // read-only view
 * }
 *
 * <h2>Layout and cost</h2>
 * One mapping holds a header, an open-addressing hash table (8 bytes per slot, at most half full) and the
 * entries (a 16-byte header, the key, the value, padded to 8 bytes). The map object itself holds a handful of
 * fields whatever its size: no per-entry Java objects. A lookup hashes the key, probes the table and compares
 * bytes; it allocates nothing but the returned view. Offsets are 64-bit, so a map may exceed 4 GiB.
 *
 * <h2>Hash flooding</h2>
 * Keys are hashed with SipHash-1-3 under a 128-bit key drawn from {@link SecureRandom} for each map, so
 * nobody who does not know it can choose keys that collide.
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
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    private static final VarHandle BYTES_AS_LONG =
        MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.nativeOrder());
    private static final long MAGIC = 0x4d5345414c344a4dL; // "MSEAL4JM"
    private static final int HEADER_BYTES = 64;
    private static final int ENTRY_HEADER_BYTES = 16;
    /** A slot: the hash's top 16 bits, then the entry offset divided by 8 (entries are 8-aligned). */
    private static final int TAG_SHIFT = 48;
    private static final long OFFSET_MASK = (1L << TAG_SHIFT) - 1;
    private static final SecureRandom SEEDS = new SecureRandom();
    private static final Cleaner CLEANER = Cleaner.create();
    /** Maps at least this large ask for transparent huge pages. */
    private static final long HUGE_PAGE_WORTHWHILE = 4L << 20;

    private final MemorySegment data;
    private final long k0;
    private final long k1;
    private final long mask;
    private final int size;
    private final long entriesEnd;

    private SealedMap(MemorySegment data, long k0, long k1, long capacity, int size, long entriesEnd) {
        this.data = data;
        this.k0 = k0;
        this.k1 = k1;
        this.mask = capacity - 1;
        this.size = size;
        this.entriesEnd = entriesEnd;
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
     * @throws UnsupportedOperationException if mseal is not available here and the {@linkplain SealPolicy policy} is
     *     strict
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
        if (entry < 0) {
            return null;
        }
        int keyLength = data.get(INT, entry);
        return data.asSlice(entry + ENTRY_HEADER_BYTES + keyLength, data.get(LONG, entry + 8));
    }

    /**
     * The value of {@code key}, keys and values taken as UTF-8.
     *
     * @param key the key
     * @return the value decoded from UTF-8, or null when the key is absent
     */
    public String get(String key) {
        MemorySegment value = get(key.getBytes(StandardCharsets.UTF_8));
        return value == null ? null : new String(value.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
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
     * The number of entries.
     *
     * @return the size
     */
    public int size() {
        return size;
    }

    /**
     * Calls {@code action} once for every entry, in the order the keys were first put, with read-only views of
     * the key and the value.
     *
     * @param action what to do with each key and value
     */
    public void forEach(BiConsumer<MemorySegment, MemorySegment> action) {
        Objects.requireNonNull(action, "action");
        long entry = HEADER_BYTES + (mask + 1) * 8;
        while (entry < entriesEnd) {
            int keyLength = data.get(INT, entry);
            long valueLength = data.get(LONG, entry + 8);
            long key = entry + ENTRY_HEADER_BYTES;
            action.accept(data.asSlice(key, keyLength), data.asSlice(key + keyLength, valueLength));
            entry = align8(key + keyLength + valueLength);
        }
    }

    /** The sealed memory that holds the map; for tests. */
    MemorySegment memory() {
        return data;
    }

    /** How many entries sit past their home slot because another key hashed there first; for tests. */
    long displacedEntries() {
        long displaced = 0;
        for (long index = 0; index <= mask; index++) {
            long slot = data.get(ValueLayout.JAVA_LONG, HEADER_BYTES + (index << 3));
            if (slot != 0) {
                long entry = (slot & OFFSET_MASK) << 3;
                long home = SipHash.hash13(k0, k1, data, entry + ENTRY_HEADER_BYTES, data.get(INT, entry)) & mask;
                displaced += home == index ? 0 : 1;
            }
        }
        return displaced;
    }

    @Override
    public String toString() {
        return "SealedMap[" + size + " entries, " + data.byteSize() + " bytes sealed]";
    }

    /** The offset of {@code key}'s entry, or -1. */
    private long find(byte[] key) {
        long hash = SipHash.hash13(k0, k1, key);
        long tag = hash >>> TAG_SHIFT;
        long index = hash & mask;
        while (true) {
            long slot = data.get(ValueLayout.JAVA_LONG, HEADER_BYTES + (index << 3));
            if (slot == 0) {
                return -1;
            }
            if (slot >>> TAG_SHIFT == tag) {
                long entry = (slot & OFFSET_MASK) << 3;
                if (data.get(INT, entry) == key.length && sameBytes(entry + ENTRY_HEADER_BYTES, key)) {
                    return entry;
                }
            }
            index = (index + 1) & mask;
        }
    }

    private boolean sameBytes(long offset, byte[] key) {
        int i = 0;
        for (; i + 8 <= key.length; i += 8) {
            if (data.get(LONG, offset + i) != (long) BYTES_AS_LONG.get(key, i)) {
                return false;
            }
        }
        for (; i < key.length; i++) {
            if (data.get(ValueLayout.JAVA_BYTE, offset + i) != key[i]) {
                return false;
            }
        }
        return true;
    }

    private static long align8(long offset) {
        return (offset + 7) & ~7L;
    }

    /**
     * Collects entries, then lays them out and seals them with {@link #build()}. Keys and values are copied
     * when put, off-heap, into memory that {@code build()} frees (or, for a builder dropped unbuilt, a
     * cleaner). When a key is put twice, the last value wins (the key keeps its first position for
     * {@link SealedMap#forEach}). Empty keys and values are allowed; null is not. Not thread-safe; spent by
     * {@code build()}.
     */
    public static final class Builder {
        /** Staging blocks start small (small maps stay cheap) and double up to this size. */
        private static final long MAX_BLOCK = 1L << 20;
        private static final long FIRST_BLOCK = 16L << 10;

        /**
         * Staging memory: freed by {@code build()}, or by the cleaner once a builder is dropped unbuilt. (Not
         * an automatic arena: those count against {@code -XX:MaxDirectMemorySize}, which would cap maps at
         * the heap's size.)
         */
        private final Arena staging = Arena.ofShared();
        private final Cleaner.Cleanable release = CLEANER.register(this, staging::close);
        private final List<MemorySegment> blocks = new ArrayList<>();
        private MemorySegment block = MemorySegment.NULL;
        private long blockUsed;
        private long nextBlock = FIRST_BLOCK;
        // Per entry, in put order: where its key (then value) is staged, the lengths, the hash.
        private MemorySegment[] where = new MemorySegment[16];
        private long[] offset = new long[16];
        private int[] keyLength = new int[16];
        private long[] valueLength = new long[16];
        private long[] hash = new long[16];
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
         * @param key the key bytes, copied
         * @param value the value bytes, copied
         * @return this builder
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
         */
        public Builder put(String key, String value) {
            return put(Objects.requireNonNull(key, "key").getBytes(StandardCharsets.UTF_8),
                Objects.requireNonNull(value, "value").getBytes(StandardCharsets.UTF_8));
        }

        /**
         * Adds or replaces an entry, copying the bytes of two segments (heap or native).
         *
         * @param key the key bytes; at most {@code Integer.MAX_VALUE - 8} of them
         * @param value the value bytes
         * @return this builder
         * @throws IllegalStateException if the builder is spent, or a segment's scope is closed
         */
        public Builder put(MemorySegment key, MemorySegment value) {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, "value");
            if (spent) {
                throw new IllegalStateException("the builder is spent: build() was called");
            }
            if (key.byteSize() > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("a key of " + key.byteSize() + " bytes is too long");
            }
            int keyBytes = (int) key.byteSize();
            long valueBytes = value.byteSize();
            MemorySegment target = stage(keyBytes + valueBytes);
            long at = target == block ? blockUsed : 0;
            MemorySegment.copy(key, 0, target, at, keyBytes);
            MemorySegment.copy(value, 0, target, at + keyBytes, valueBytes);
            if (target == block) {
                blockUsed = align8(blockUsed + keyBytes + valueBytes);
            }
            long keyHash = SipHash.hash13(k0, k1, target, at, keyBytes);

            int slot = (int) (keyHash & (index.length - 1));
            while (index[slot] != 0) {
                int other = index[slot] - 1;
                if (hash[other] == keyHash && keyLength[other] == keyBytes && MemorySegment.mismatch(
                    where[other], offset[other], offset[other] + keyBytes, target, at, at + keyBytes) == -1) {
                    // Last put wins; the key keeps its place.
                    where[other] = target;
                    offset[other] = at;
                    valueLength[other] = valueBytes;
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
            where[count] = target;
            offset[count] = at;
            keyLength[count] = keyBytes;
            valueLength[count] = valueBytes;
            hash[count] = keyHash;
            index[slot] = ++count;
            return this;
        }

        /**
         * Lays the entries out in one fresh mapping, makes it read-only and seals it. The builder is spent
         * afterwards, whether or not this succeeds. On failure, everything mapped is unmapped again and
         * nothing is left sealed (except when the kernel fails half-way through sealing itself, with ENOMEM at
         * {@code vm.max_map_count}: sealed pages can never be unmapped).
         *
         * @return the sealed map
         * @throws IllegalStateException if the builder is spent
         * @throws UnsupportedOperationException if mseal is not available here and the
         *     {@linkplain SealPolicy policy} is strict
         * @throws SystemCallException if mapping or sealing fails, for example ENOMEM
         */
        public SealedMap build() {
            if (spent) {
                throw new IllegalStateException("the builder is spent: build() was called");
            }
            spent = true;
            try {
                Sealing.byKernel(); // refuses before mapping anything, if the policy is strict
                // At most half full: the smallest power of two of at least twice the entries.
                long capacity = Math.max(2, Long.highestOneBit(2L * count - 1) << 1);
                long entries = 0;
                for (int i = 0; i < count; i++) {
                    entries += align8(ENTRY_HEADER_BYTES + keyLength[i] + valueLength[i]);
                }
                long tableEnd = HEADER_BYTES + capacity * 8;
                MappedRegion region = MappedRegion.allocate(tableEnd + entries);
                if (region.byteSize() >= HUGE_PAGE_WORTHWHILE) {
                    // Lookups jump around the whole map: huge pages save TLB misses. Only a hint; the
                    // kernel may ignore it (THP disabled), and it is not a discarding advice.
                    LibC.madvise(region.address(), region.byteSize(), Mman.MADV_HUGEPAGE);
                }
                try {
                    MemorySegment memory = region.segment();
                    memory.set(LONG, 0, MAGIC);
                    memory.set(LONG, 8, count);
                    memory.set(LONG, 16, capacity);
                    long entry = tableEnd;
                    for (int i = 0; i < count; i++) {
                        memory.set(INT, entry, keyLength[i]);
                        memory.set(LONG, entry + 8, valueLength[i]);
                        MemorySegment.copy(where[i], offset[i], memory, entry + ENTRY_HEADER_BYTES,
                            keyLength[i] + valueLength[i]);
                        long slot = hash[i] & (capacity - 1);
                        while (memory.get(ValueLayout.JAVA_LONG, HEADER_BYTES + slot * 8) != 0) {
                            slot = (slot + 1) & (capacity - 1);
                        }
                        memory.set(ValueLayout.JAVA_LONG, HEADER_BYTES + slot * 8,
                            (hash[i] >>> TAG_SHIFT) << TAG_SHIFT | entry >>> 3);
                        entry = align8(entry + ENTRY_HEADER_BYTES + keyLength[i] + valueLength[i]);
                    }
                    MemorySegment sealed = region.sealReadOnly();
                    return new SealedMap(sealed, k0, k1, capacity, count, entry);
                } catch (RuntimeException | Error e) {
                    region.close();
                    throw e;
                }
            } finally {
                release.clean();
                blocks.clear();
                where = null;
                block = MemorySegment.NULL;
            }
        }

        /** Where to copy {@code bytes} bytes: the current block, a new block, or (if large) a segment of its own. */
        private MemorySegment stage(long bytes) {
            if (bytes > MAX_BLOCK / 4) {
                MemorySegment own = staging.allocate(Math.max(1, bytes), 8);
                blocks.add(own);
                return own;
            }
            if (block == MemorySegment.NULL || blockUsed + bytes > block.byteSize()) {
                long size = Math.max(nextBlock, align8(bytes));
                nextBlock = Math.min(MAX_BLOCK, nextBlock * 2);
                block = staging.allocate(size, 8);
                blocks.add(block);
                blockUsed = 0;
            }
            return block;
        }

        private void grow() {
            int capacity = hash.length * 2;
            where = Arrays.copyOf(where, capacity);
            offset = Arrays.copyOf(offset, capacity);
            keyLength = Arrays.copyOf(keyLength, capacity);
            valueLength = Arrays.copyOf(valueLength, capacity);
            hash = Arrays.copyOf(hash, capacity);
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
