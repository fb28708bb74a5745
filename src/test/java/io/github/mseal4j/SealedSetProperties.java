package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mseal4j.testing.RequiresMseal;
import io.github.mseal4j.testing.Unicode;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.statistics.Statistics;

/**
 * A sealed set answers like the set it was built from, by string and by bytes alike, whatever the strings hold.
 * Most tries use an arena's lifetime (closed at the end of the try, so nothing stays mapped); every tenth is sealed
 * for good, a page or two each.
 */
@AddLifecycleHook(RequiresMseal.class)
class SealedSetProperties {

    @Property(tries = 200)
    void everyStringRoundTripsAbsentOnesAreAbsentAndTheByteAndStringViewsAgree(
            @ForAll("elements") List<String> elements, @ForAll("probes") List<String> probes) {
        Set<String> expected = new LinkedHashSet<>(elements);
        boolean sealed = elements.size() % 10 == 3;
        try (Arena arena = Arena.ofConfined()) {
            SealedSet set = sealed ? SealedSet.copyOf(elements) : SealedSet.copyOf(elements, arena);
            assertEquals(expected.size(), set.size());
            assertEquals(expected.isEmpty(), set.isEmpty());
            assertEquals(sealed, set.isSealed());
            assertTrue(set.isImmutable());
            for (String element : expected) {
                assertTrue(set.contains(element), element);
                assertTrue(set.contains(element.getBytes(StandardCharsets.UTF_8)), "by its bytes: " + element);
            }
            for (String probe : probes) {
                boolean present = expected.contains(probe);
                assertEquals(present, set.contains(probe), probe);
                assertEquals(present, set.contains(probe.getBytes(StandardCharsets.UTF_8)), "by bytes: " + probe);
                Statistics.label("probes").collect(present ? "present" : "absent");
            }
            Set<String> view = set.asSet();
            assertEquals(expected, view, "equals, both ways");
            assertEquals(view, expected);
            assertEquals(expected.hashCode(), view.hashCode());
            assertEquals(new ArrayList<>(expected), new ArrayList<>(view), "first-add order");
            assertFalse(view.contains(42), "an object of another type is absent");
            assertThrows(UnsupportedOperationException.class, () -> view.add("x"));
            List<String> visited = new ArrayList<>();
            set.forEach(bytes -> visited.add(new String(bytes.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8)));
            assertEquals(new ArrayList<>(expected), visited);
            Statistics.label("lifetime").collect(sealed ? "sealed" : "arena");
            Statistics.label("elements").collect(expected.stream().anyMatch(e -> e.codePoints().anyMatch(c -> c > 0xffff))
                ? "with supplementary" : expected.stream().allMatch(e -> e.chars().allMatch(c -> c < 0x80))
                ? "all ASCII" : "BMP");
        }
        Statistics.label("lifetime").coverage(check -> check.check("sealed").count(count -> count >= 5));
        Statistics.label("probes").coverage(check -> check.check("present").count(count -> count > 20));
        Statistics.label("elements").coverage(check -> check.check("with supplementary").count(count -> count > 5));
    }

    @Property(tries = 50)
    void bytesThatAreNotUtf8AreFoundAsBytesAndTheStringViewRefusesThem(
            @ForAll("raw") List<byte[]> raw) {
        try (Arena arena = Arena.ofConfined()) {
            SealedSet.Builder builder = SealedSet.builder();
            raw.forEach(builder::add);
            builder.add(MemorySegment.ofArray(new byte[] {(byte) 0xff, 0x41}));
            SealedSet set = builder.build(arena);
            for (byte[] element : raw) {
                assertTrue(set.contains(element));
            }
            assertTrue(set.contains(new byte[] {(byte) 0xff, 0x41}));
            assertThrows(IllegalStateException.class, set::asSet, "0xff is not UTF-8");
            List<byte[]> visited = new ArrayList<>();
            set.forEach(bytes -> visited.add(bytes.toArray(ValueLayout.JAVA_BYTE)));
            assertArrayEquals(new byte[] {(byte) 0xff, 0x41}, visited.getLast());
        }
    }

    @Property(tries = 50)
    void malformedStringsAreRefusedAndNeverFound(@ForAll("malformed") String malformed) {
        assertThrows(IllegalArgumentException.class, () -> SealedSet.builder().add(malformed));
        String lookalike = new String(malformed.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
        try (Arena arena = Arena.ofConfined()) {
            SealedSet set = SealedSet.copyOf(List.of(lookalike), arena);
            assertFalse(set.contains(malformed), "never the lookalike an encoder would make");
            assertTrue(set.contains(lookalike));
        }
    }

    @Provide
    Arbitrary<List<String>> elements() {
        return Arbitraries.oneOf(Unicode.strings(24), Arbitraries.of("", "a", "api.example.com", "0123456789abcdef"))
            .list().ofMaxSize(60);
    }

    @Provide
    Arbitrary<List<String>> probes() {
        return Arbitraries.oneOf(Unicode.strings(24), Arbitraries.of("", "a", "api.example.com", "0123456789abcdeF"))
            .list().ofMaxSize(30);
    }

    @Provide
    Arbitrary<List<byte[]>> raw() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(40).list().ofMaxSize(20);
    }

    @Provide
    Arbitrary<String> malformed() {
        return Unicode.malformed(20);
    }
}
