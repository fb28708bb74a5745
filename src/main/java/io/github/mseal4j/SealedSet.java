package io.github.mseal4j;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Collection;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;

/**
 * An immutable set of byte strings off-heap, in sealed, read-only (where available, immutable) memory: an
 * allow-list, a deny-list, a set of known key identifiers. The same table as {@link SealedMap}, whose entries
 * here have no value: the same layout, keyed hash, bounded probing and lifetimes (sealed for good, or an
 * {@link Arena}'s).
 *
 * {@snippet :
 * SealedSet allowed = SealedSet.copyOf(List.of("api.example.com", "cdn.example.com"));  // immutable, sealed
 * if (!allowed.contains(request.host())) {
 *     throw new SecurityException("host not allowed");
 * }
 * }
 *
 * <p>Strings are stored as UTF-8; a string UTF-8 cannot encode (a lone surrogate) is refused when added and never
 * found. {@link #contains(String)} of a plain ASCII string copies it once and hashes it on the way; the heap kept
 * by a set is a handful of objects whatever its size. See {@link SealedMap} for the layout, the hash and the
 * lifetimes; {@code docs/lifetimes.md} for which lifetime to choose.
 *
 * <p>A built set is safe to read from any number of threads (a set of a confined arena: from its thread only). A
 * {@link Builder} is not thread-safe.
 */
public final class SealedSet {
    private static final byte[] NO_VALUE = new byte[0];
    private final SealedMap table;

    private SealedSet(SealedMap table) {
        this.table = table;
    }

    /**
     * A builder for a new set.
     *
     * @return an empty builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A sealed set of {@code elements}, encoded as UTF-8; duplicates are kept once.
     *
     * @param elements the elements
     * @return the set, sealed for good
     * @throws NullPointerException if {@code elements} or an element is null
     * @throws IllegalArgumentException if an element has a lone surrogate, or the {@linkplain SealPolicy policy}
     *     property names no policy
     * @throws UnsupportedOperationException if mseal is not available here and the policy is strict
     * @throws IllegalStateException if it would need mappings the library keeps for the JVM under
     *     {@code vm.max_map_count} ({@code -Dio.github.mseal4j.mappingReserve}), or seal more than the budget
     *     for memory sealed for good allows ({@code -Dio.github.mseal4j.maxSealedBytes}); nothing is changed
     * @throws SystemCallException if mapping or sealing fails
     */
    public static SealedSet copyOf(Collection<String> elements) {
        return builderOf(elements).build();
    }

    /**
     * An immutable set of {@code elements} whose memory lives as long as {@code arena} and is not sealed: see
     * {@link SealedMap.Builder#build(Arena)}. For a set that is replaced (an allow-list that reloads).
     *
     * @param elements the elements
     * @param arena the lifetime of the set's memory
     * @return the set
     * @throws NullPointerException if {@code elements}, an element or {@code arena} is null
     * @throws IllegalStateException if {@code arena} is closed (checked before anything is mapped)
     * @throws WrongThreadException if {@code arena} is confined to another thread
     * @throws IllegalArgumentException if an element has a lone surrogate, or the {@linkplain SealPolicy policy}
     *     property names no policy
     * @throws UnsupportedOperationException if immutable memory is not available here and the policy is strict
     * @throws IllegalStateException if it would need mappings the library keeps for the JVM under
     *     {@code vm.max_map_count} ({@code -Dio.github.mseal4j.mappingReserve}); nothing is changed
     * @throws SystemCallException if a system call fails; nothing is left mapped
     */
    public static SealedSet copyOf(Collection<String> elements, Arena arena) {
        ArenaLifetime.check(arena);
        return builderOf(elements).build(arena);
    }

    private static Builder builderOf(Collection<String> elements) {
        Builder builder = builder();
        for (String element : Objects.requireNonNull(elements, "elements")) {
            builder.add(element);
        }
        return builder;
    }

    /**
     * Whether the set has {@code element} (as UTF-8). Allocates only the element's bytes.
     *
     * @param element the element
     * @return true when present; false for a string with a lone surrogate
     * @throws IllegalStateException if the set's arena is closed
     */
    public boolean contains(String element) {
        return table.containsKey(element);
    }

    /**
     * Whether the set has {@code element}.
     *
     * @param element the element's bytes
     * @return true when present
     * @throws IllegalStateException if the set's arena is closed
     */
    public boolean contains(byte[] element) {
        return table.containsKey(element);
    }

    /**
     * The number of elements.
     *
     * @return the size
     */
    public int size() {
        return table.size();
    }

    /**
     * Whether the set has no elements.
     *
     * @return {@code size() == 0}
     */
    public boolean isEmpty() {
        return table.isEmpty();
    }

    /**
     * Whether the set's memory is sealed with mseal, as the kernel reports it: see {@link SealedMap#isSealed()}.
     *
     * @return true for a set sealed for good where mseal works; false for one with an arena's lifetime
     */
    public boolean isSealed() {
        return table.isSealed();
    }

    /**
     * Whether the set's memory is immutable, as the kernel reports it: see {@link SealedMap#isImmutable()}.
     *
     * @return true when nothing in the process can write the set
     */
    public boolean isImmutable() {
        return table.isImmutable();
    }

    /**
     * Calls {@code action} once for every element, in the order they were first added, with a read-only view of
     * its bytes (not NUL-terminated).
     *
     * @param action what to do with each element
     */
    public void forEach(Consumer<MemorySegment> action) {
        Objects.requireNonNull(action, "action");
        table.forEach((key, value) -> action.accept(key));
    }

    /**
     * This set as an unmodifiable {@link Set}{@code <String>} that decodes elements from UTF-8 on access:
     * {@code contains} is the set's own look-up (false for anything but a {@code String}); iteration follows the
     * order of first adds; {@code equals} and {@code hashCode} follow the {@link Set} contract.
     *
     * @return the view
     * @throws IllegalStateException if some element was added as bytes that are not well-formed UTF-8
     */
    public Set<String> asSet() {
        return table.asMap().keySet();
    }

    /** The map whose keys are this set's elements; for tests. */
    SealedMap table() {
        return table;
    }

    @Override
    public String toString() {
        return "SealedSet" + table.toString().substring("SealedMap".length()).replace(" entries", " elements");
    }

    /**
     * Collects elements, then lays them out with {@link #build()} (sealed for good) or {@link #build(Arena)}.
     * Strings are kept until the build; bytes and segments are copied when added. Adding an element twice keeps
     * it once, in its first place. Not thread-safe.
     */
    public static final class Builder {
        private final MapBuilder staging = new MapBuilder();

        private Builder() {
        }

        /**
         * Adds an element, encoded as UTF-8.
         *
         * @param element the element
         * @return this builder
         * @throws IllegalArgumentException if it has a lone surrogate (UTF-8 cannot encode it), or its UTF-8 is
         *     longer than {@code Integer.MAX_VALUE - 8} bytes
         * @throws IllegalStateException if the builder is spent
         */
        public Builder add(String element) {
            staging.put(element, "");
            return this;
        }

        /**
         * Adds an element's bytes, copied.
         *
         * @param element the bytes; at most {@code Integer.MAX_VALUE - 8} of them
         * @return this builder
         * @throws IllegalArgumentException if the element is too long
         * @throws IllegalStateException if the builder is spent
         */
        public Builder add(byte[] element) {
            staging.put(element, NO_VALUE);
            return this;
        }

        /**
         * Adds the bytes of a segment (heap or native), copied.
         *
         * @param element the bytes; at most {@code Integer.MAX_VALUE - 8} of them
         * @return this builder
         * @throws IllegalArgumentException if the element is too long
         * @throws IllegalStateException if the builder is spent, or the segment's scope is closed
         */
        public Builder add(MemorySegment element) {
            staging.put(element, MemorySegment.ofArray(NO_VALUE));
            return this;
        }

        /**
         * Lays the elements out in one fresh mapping, immutable where {@link Mseal#immutability()} is available,
         * read-only and sealed for good: as {@link SealedMap.Builder#build()}.
         *
         * @return the set
         * @throws IllegalStateException if the builder is spent; or as {@link SealedMap.Builder#build()}
         * @throws IllegalArgumentException as {@link SealedMap.Builder#build()}
         * @throws UnsupportedOperationException as {@link SealedMap.Builder#build()}
         * @throws SystemCallException as {@link SealedMap.Builder#build()}
         */
        public SealedSet build() {
            return new SealedSet(staging.build());
        }

        /**
         * Lays the elements out in immutable memory whose lifetime is {@code arena}'s, not sealed: as
         * {@link SealedMap.Builder#build(Arena)}.
         *
         * @param arena the lifetime of the set's memory
         * @return the set
         * @throws NullPointerException if {@code arena} is null
         * @throws IllegalStateException if the builder is spent, or {@code arena} is closed; or as
         *     {@link SealedMap.Builder#build(Arena)}
         * @throws WrongThreadException if {@code arena} is confined to another thread
         * @throws IllegalArgumentException as {@link SealedMap.Builder#build(Arena)}
         * @throws UnsupportedOperationException as {@link SealedMap.Builder#build(Arena)}
         * @throws SystemCallException as {@link SealedMap.Builder#build(Arena)}
         */
        public SealedSet build(Arena arena) {
            return new SealedSet(staging.build(arena));
        }
    }
}
