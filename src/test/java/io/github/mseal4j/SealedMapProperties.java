package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.Mman;
import io.github.mseal4j.internal.Smaps;
import io.github.mseal4j.testing.RequiresMseal;
import io.github.mseal4j.testing.SealBudget;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.Tuple.Tuple2;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.statistics.Statistics;

/** A sealed map answers exactly like the map it was built from, and lives in sealed, read-only memory. */
@AddLifecycleHook(RequiresMseal.class)
class SealedMapProperties {

    @Property(tries = 150)
    void answersEveryPresentAndAbsentKeyLikeTheSource(@ForAll("puts") List<Tuple2<byte[], byte[]>> puts,
                                                      @ForAll("keys") List<byte[]> probes) {
        // The reference: last put wins, and a key keeps the place of its first put (as LinkedHashMap does).
        Map<ByteBuffer, byte[]> expected = new LinkedHashMap<>();
        SealedMap.Builder builder = SealedMap.builder();
        for (Tuple2<byte[], byte[]> put : puts) {
            builder.put(put.get1(), put.get2());
            expected.put(ByteBuffer.wrap(put.get1()), put.get2());
        }
        SealedMap map = builder.build();

        assertEquals(expected.size(), map.size());
        for (Map.Entry<ByteBuffer, byte[]> entry : expected.entrySet()) {
            byte[] key = entry.getKey().array();
            MemorySegment value = map.get(key);
            assertArrayEquals(entry.getValue(), value.toArray(ValueLayout.JAVA_BYTE));
            assertTrue(value.isReadOnly());
            assertTrue(map.containsKey(key));
        }
        for (byte[] probe : probes) {
            if (!expected.containsKey(ByteBuffer.wrap(probe))) {
                assertNull(map.get(probe));
                assertFalse(map.containsKey(probe));
                Statistics.label("absent probes").collect("absent");
            }
        }

        List<ByteBuffer> visited = new ArrayList<>();
        map.forEach((key, value) -> {
            assertTrue(key.isReadOnly() && value.isReadOnly());
            ByteBuffer k = ByteBuffer.wrap(key.toArray(ValueLayout.JAVA_BYTE));
            assertArrayEquals(expected.get(k), value.toArray(ValueLayout.JAVA_BYTE));
            visited.add(k);
        });
        assertEquals(new ArrayList<>(expected.keySet()), visited, "each entry once, in first-put order");

        MemorySegment memory = map.memory();
        List<Smaps.Vma> vmas = Smaps.read(memory.address(), memory.address() + memory.byteSize());
        assertTrue(Smaps.coveredAndSealed(vmas, memory.address(), memory.address() + memory.byteSize()), "sealed");
        assertTrue(vmas.stream().allMatch(vma -> vma.protection() == Protection.READ), "read-only");
        // Immutable memory cannot even ask for write access (no VM_MAYWRITE): EACCES before the seal's EPERM.
        assertEquals(Mseal.immutability().available() ? "EACCES" : "EPERM", Errno.name(LibC.mprotect(
            memory.address(), memory.byteSize(), Mman.PROT_READ | Mman.PROT_WRITE)));
        assertEquals("EPERM", Errno.name(LibC.mprotect(memory.address(), memory.byteSize(), Mman.PROT_READ)));
        assertEquals(Mseal.immutability().available(), map.isImmutable());

        Statistics.label("colliding keys").collect(map.displacedEntries() > 0 ? "some displaced" : "none");
        Statistics.label("keys").collect(expected.keySet().stream().anyMatch(k -> k.capacity() == 0) ? "with the empty key"
            : "no empty key");
        Statistics.label("repeated keys").collect(puts.size() > expected.size() ? "some" : "none");
        Statistics.label("long keys").collect(expected.keySet().stream().anyMatch(k -> k.capacity() > 64) ? "some" : "none");
        Statistics.label("colliding keys").coverage(check -> check.check("some displaced").count(count -> count > 20));
        Statistics.label("keys").coverage(check -> check.check("with the empty key").count(count -> count > 0));
        Statistics.label("repeated keys").coverage(check -> check.check("some").count(count -> count > 0));
        Statistics.label("long keys").coverage(check -> check.check("some").count(count -> count > 0));
    }

    @Property(tries = 100)
    void stringKeysOfEveryKindAreFoundAndTheMapViewIsAMap(@ForAll("stringPuts") List<Tuple2<String, String>> puts,
                                                         @ForAll("stringProbes") List<String> probes) {
        Map<String, String> expected = new LinkedHashMap<>();
        SealedMap.Builder builder = SealedMap.builder();
        for (Tuple2<String, String> put : puts) {
            builder.put(put.get1(), put.get2());
            expected.put(put.get1(), put.get2());
        }
        SealedMap map = builder.build();
        assertEquals(expected.size(), map.size());
        assertEquals(expected.isEmpty(), map.isEmpty());
        for (Map.Entry<String, String> entry : expected.entrySet()) {
            assertEquals(entry.getValue(), map.get(entry.getKey()), entry.getKey());
            assertTrue(map.containsKey(entry.getKey()));
            byte[] utf8 = entry.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            assertArrayEquals(entry.getValue().getBytes(java.nio.charset.StandardCharsets.UTF_8),
                map.get(utf8).toArray(ValueLayout.JAVA_BYTE), "the byte look-up finds the same entry");
        }
        for (String probe : probes) {
            assertEquals(expected.get(probe), map.get(probe), probe);
            assertEquals(expected.containsKey(probe), map.containsKey(probe), probe);
            assertEquals(expected.getOrDefault(probe, "absent"), map.getOrDefault(probe, "absent"));
            Statistics.label("probes").collect(expected.containsKey(probe) ? "present" : "absent");
        }
        Map<String, String> view = map.asMap();
        assertEquals(expected, view, "equals, both ways");
        assertEquals(view, expected);
        assertEquals(expected.hashCode(), view.hashCode());
        assertEquals(new ArrayList<>(expected.keySet()), new ArrayList<>(view.keySet()), "first-put order");
        assertEquals(new ArrayList<>(expected.values()), new ArrayList<>(view.values()));
        assertEquals(expected.toString(), view.toString());
        assertEquals(new java.util.HashMap<>(expected), new java.util.HashMap<>(view));
        for (String probe : probes) {
            assertEquals(expected.get(probe), view.get(probe));
            assertEquals(expected.containsKey(probe), view.containsKey(probe));
        }
        assertFalse(view.containsKey(42), "a key of another type is absent");
        org.junit.jupiter.api.Assertions.assertThrows(UnsupportedOperationException.class, () -> view.put("x", "y"));
        org.junit.jupiter.api.Assertions.assertThrows(UnsupportedOperationException.class, view::clear);
        if (!view.isEmpty()) {
            org.junit.jupiter.api.Assertions.assertThrows(UnsupportedOperationException.class,
                () -> view.entrySet().iterator().next().setValue("x"));
            org.junit.jupiter.api.Assertions.assertThrows(UnsupportedOperationException.class,
                () -> view.remove(view.keySet().iterator().next()));
        }
        Statistics.label("keys").collect(expected.keySet().stream().anyMatch(k -> k.codePoints().anyMatch(c -> c > 0xffff))
            ? "with supplementary" : expected.keySet().stream().allMatch(k -> k.chars().allMatch(c -> c < 0x80))
            ? "all ASCII" : "BMP");
        Statistics.label("keys").coverage(check -> {
            check.check("with supplementary").count(count -> count > 5);
            check.check("all ASCII").count(count -> count > 5);
        });
        Statistics.label("probes").coverage(check -> check.check("present").count(count -> count > 20));
    }

    @Property(tries = 100)
    void malformedStringsAreRefusedAndNeverFound(@ForAll("malformedKeys") String malformed) {
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
            () -> SealedMap.builder().put(malformed, "admin"));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
            () -> SealedMap.builder().put("key", malformed));
        // The bytes an encoder would make of it ('?' for the surrogate) are a key of their own.
        byte[] replaced = malformed.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        String lookalike = new String(replaced, java.nio.charset.StandardCharsets.UTF_8);
        SealedMap map = SealedMap.builder().put(lookalike, "public").put(replaced, "public bytes".getBytes(
            java.nio.charset.StandardCharsets.UTF_8)).build();
        assertEquals(1, map.size(), "the String and the byte key are one key");
        assertNull(map.get(malformed), "a malformed look-up finds nothing, never the lookalike");
        assertFalse(map.containsKey(malformed));
        assertEquals("fallback", map.getOrDefault(malformed, "fallback"));
        assertEquals("public bytes", map.get(lookalike));
    }

    @Provide
    Arbitrary<List<Tuple2<String, String>>> stringPuts() {
        Arbitrary<String> keys = Arbitraries.oneOf(io.github.mseal4j.testing.Unicode.strings(24),
            Arbitraries.of("", "a", "ab", "config.key.", "0123456789abcdef"));
        return Combinators.combine(keys, io.github.mseal4j.testing.Unicode.strings(30)).as(Tuple::of)
            .list().ofMaxSize(60);
    }

    @Provide
    Arbitrary<List<String>> stringProbes() {
        return Arbitraries.oneOf(io.github.mseal4j.testing.Unicode.strings(24),
            Arbitraries.of("", "a", "ab", "config.key.", "0123456789abcdef", "0123456789abcdeF")).list().ofMaxSize(30);
    }

    @Provide
    Arbitrary<String> malformedKeys() {
        return io.github.mseal4j.testing.Unicode.malformed(20);
    }

    /** Keys from a small alphabet (so they share prefixes and repeat), now and then empty or long. */
    @Provide
    Arbitrary<List<byte[]>> keys() {
        return key().list().ofMaxSize(20);
    }

    @Provide
    Arbitrary<List<Tuple2<byte[], byte[]>>> puts() {
        Arbitrary<byte[]> values = Arbitraries.bytes().array(byte[].class).ofMaxSize(80);
        return key().flatMap(k -> values.map(v -> Tuple.of(k, v))).list().ofMaxSize(60);
    }

    @SuppressWarnings("unchecked")
    private static Arbitrary<byte[]> key() {
        Arbitrary<byte[]> shortKeys = Arbitraries.bytes().between((byte) 'a', (byte) 'd').array(byte[].class).ofMaxSize(6);
        Arbitrary<byte[]> longKeys = Arbitraries.bytes().array(byte[].class).ofMinSize(65).ofMaxSize(300);
        return Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(new byte[0])), Tuple.of(12, shortKeys),
            Tuple.of(2, longKeys));
    }

    @AfterContainer
    static void stayWithinTheSealBudget() {
        SealBudget.check(SealedMapProperties.class.getSimpleName());
    }
}
