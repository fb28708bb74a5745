package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mseal4j.testing.ChildJvm;
import io.github.mseal4j.testing.SealBudget;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SealedMapTest {

    @BeforeEach
    void requireSealing() {
        assumeTrue(Mseal.isSupported(), Mseal.support().reason());
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void copyOfAnswersLikeTheMap() {
        Map<String, String> source = Map.of("db.host", "10.0.0.5", "db.port", "5432", "", "empty key", "blank", "",
            "Aa", "same String.hashCode as BB", "BB", "same String.hashCode as Aa", "ключ", "значение");
        SealedMap map = SealedMap.copyOf(source);
        assertEquals(source.size(), map.size());
        source.forEach((key, value) -> assertEquals(value, map.get(key), key));
        assertNull(map.get("db.user"));
        assertNull(map.get(utf8("db.hos")));
        assertTrue(map.containsKey(utf8("")));
        assertEquals(0, map.get(utf8("blank")).byteSize());
    }

    @Test
    void lastPutWins() {
        SealedMap map = SealedMap.builder().put("k", "first").put("other", "x").put("k", "second").build();
        assertEquals(2, map.size());
        assertEquals("second", map.get("k"));
        StringBuilder order = new StringBuilder();
        map.forEach((key, value) -> order.append(new String(key.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8))
            .append(' '));
        assertEquals("k other ", order.toString(), "the key keeps its first place");
    }

    @Test
    void segmentsAndLargeValuesRoundTrip() {
        byte[] large = new byte[3 << 20];
        for (int i = 0; i < large.length; i++) {
            large[i] = (byte) (i * 31);
        }
        SealedMap map = SealedMap.builder()
            .put(MemorySegment.ofArray(utf8("large")), MemorySegment.ofArray(large))
            .put(utf8("bytes"), new byte[] {0, -1, 127})
            .build();
        assertArrayEquals(large, map.get(utf8("large")).toArray(ValueLayout.JAVA_BYTE));
        assertArrayEquals(new byte[] {0, -1, 127}, map.get(utf8("bytes")).toArray(ValueLayout.JAVA_BYTE));
    }

    @Test
    void valuesAreReadOnlyViews() {
        SealedMap map = SealedMap.copyOf(Map.of("key", "value"));
        MemorySegment value = map.get(utf8("key"));
        assertTrue(value.isReadOnly());
        assertThrows(IllegalArgumentException.class, () -> value.set(ValueLayout.JAVA_BYTE, 0, (byte) 'V'));
    }

    @Test
    void nullIsRefused() {
        SealedMap.Builder builder = SealedMap.builder();
        assertThrows(NullPointerException.class, () -> builder.put((String) null, "v"));
        assertThrows(NullPointerException.class, () -> builder.put("k", (String) null));
        assertThrows(NullPointerException.class, () -> builder.put((byte[]) null, new byte[0]));
        assertThrows(NullPointerException.class, () -> builder.put((MemorySegment) null, MemorySegment.NULL));
        Map<String, String> withNull = new HashMap<>();
        withNull.put("k", null);
        assertThrows(NullPointerException.class, () -> SealedMap.copyOf(withNull));
        SealedMap map = SealedMap.copyOf(Map.of("k", "v"));
        assertThrows(NullPointerException.class, () -> map.get((byte[]) null));
        assertThrows(NullPointerException.class, () -> map.forEach(null));
    }

    @Test
    void theBuilderIsSpentByBuild() {
        SealedMap.Builder builder = SealedMap.builder().put("k", "v");
        builder.build();
        assertThrows(IllegalStateException.class, () -> builder.put("k2", "v2"));
        assertThrows(IllegalStateException.class, builder::build);
    }

    @Test
    void anEmptyMapWorks() {
        SealedMap map = SealedMap.builder().build();
        assertEquals(0, map.size());
        assertNull(map.get("anything"));
        map.forEach((k, v) -> {
            throw new AssertionError("no entries");
        });
    }

    @Test
    void theMapKeepsNoPerEntryObjectsOnTheHeap() {
        for (Field field : SealedMap.class.getDeclaredFields()) {
            if (!Modifier.isStatic(field.getModifiers())) {
                assertTrue(field.getType().isPrimitive() || field.getType() == MemorySegment.class
                    || field.getType() == io.github.mseal4j.internal.TableHash.class
                    || field.getType() == io.github.mseal4j.internal.FileStat.class,
                    "instance field " + field + " is a primitive, the one segment, the table's fixed-size key, or"
                        + " the identity of the memfd");
            }
        }
        for (java.lang.reflect.RecordComponent component
                : io.github.mseal4j.internal.FileStat.class.getRecordComponents()) {
            assertTrue(component.getType().isPrimitive(), "the memfd's identity is numbers: " + component);
        }
        for (Field field : io.github.mseal4j.internal.TableHash.class.getDeclaredFields()) {
            if (!Modifier.isStatic(field.getModifiers())) {
                assertTrue(field.getType().isPrimitive() || field.getType() == long[].class,
                    "the table's key is numbers and arrays of a fixed size: " + field);
            }
        }
    }

    @Test
    void aMapOfMoreThan4GiBWorks() {
        ChildJvm.Result result = ChildJvm.runMain(List.of("--enable-native-access=ALL-UNNAMED", "-Xmx256m"),
            HugeMap.class);
        assertEquals(0, result.exitStatus(), result.transcript());
        String out = result.stdout();
        long mapBytes = Long.parseLong(out.lines().filter(l -> l.startsWith("mapBytes=")).findFirst().orElseThrow()
            .substring("mapBytes=".length()));
        assertTrue(mapBytes > 4L << 30, "more than 4 GiB: " + mapBytes);
        assertTrue(out.contains("small=past the 4 GiB line"), result.transcript());
        for (int i = 0; i < 4; i++) {
            assertTrue(out.contains("big" + i + " size=" + (1_100L << 20)), result.transcript());
            assertTrue(out.contains("first=" + (char) ('A' + i) + " last=" + Long.toHexString(0x0123456789abcdefL + i)),
                result.transcript());
        }
        long lastOffset = Long.parseLong(out.lines().filter(l -> l.startsWith("big3")).findFirst().orElseThrow()
            .replaceAll(".*offset=(\\d+).*", "$1"));
        assertTrue(lastOffset + (1_100L << 20) > 4L << 30, "the last value runs past 4 GiB");
    }

    @Test
    void malformedStringsAreRefusedAndNeverMatchAnotherKey() {
        // UTF-8 would turn a lone surrogate into '?': "\ud800" and "?" must not become the same key.
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
            () -> SealedMap.copyOf(Map.of("?", "public", "\ud800", "admin")));
        assertTrue(refused.getMessage().contains("surrogate"), refused.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SealedMap.builder().put("key", "\udfff"));
        assertThrows(IllegalArgumentException.class, () -> SealedMap.builder().put("a\ud800b", "value"));
        SealedMap map = SealedMap.copyOf(Map.of("?", "public", "ok\ud83d\ude00", "a pair is fine"));
        assertEquals(2, map.size());
        assertEquals("public", map.get("?"));
        assertEquals("a pair is fine", map.get("ok\ud83d\ude00"));
        assertNull(map.get("\ud800"), "a malformed lookup finds nothing");
        assertNull(map.get("\udfff"));
        assertNull(map.get("ok\ud83d"));
    }

    /**
     * A '?' or a lone surrogate at every position of keys and values of 1 to 24 characters: the word-wide
     * checks read the last eight bytes as a word that overlaps the ones before, so every position of the
     * tail matters. A real '?' is kept and found; a lone surrogate is refused, and never finds another key.
     */
    @Test
    void aQuestionMarkOrALoneSurrogateIsSeenAtEveryPosition() {
        SealedMap.Builder builder = SealedMap.builder();
        Map<String, String> expected = new HashMap<>();
        for (int length = 1; length <= 24; length++) {
            for (int at = 0; at < length; at++) {
                String key = "k".repeat(at) + "?" + "y".repeat(length - at - 1);
                String value = "v".repeat(at) + "?" + "w".repeat(length - at - 1);
                String loneKey = key.replace('?', '\ud800');
                String loneValue = value.replace('?', '\udfff');
                assertThrows(IllegalArgumentException.class, () -> builder.put(loneKey, "value"), loneKey);
                assertThrows(IllegalArgumentException.class, () -> builder.put(key, loneValue), loneValue);
                builder.put(key, value);
                expected.put(key, value);
            }
        }
        SealedMap map = builder.build();
        assertEquals(expected.size(), map.size());
        expected.forEach((key, value) -> {
            assertEquals(value, map.get(key), key);
            assertNull(map.get(key.replace('?', '\ud800')), "a malformed lookup finds nothing: " + key);
            assertNull(map.get(key.replace('?', 'x')), "a key with no '?' there is another key: " + key);
        });
    }

    /**
     * Thousands of string entries of many lengths (one value of 300,000 bytes), values that are ASCII with a
     * {@code '?'} or Latin-1 beyond ASCII, and now and then a put refused for its value (a lone surrogate) after
     * its key was taken in: every entry comes back exactly, in first-put order, the last put winning, and a
     * refused put leaves no entry.
     */
    @Test
    void manyStringEntriesWithRefusedPutsBetweenRoundTripInOrder() {
        SealedMap.Builder builder = SealedMap.builder();
        Map<String, String> expected = new java.util.LinkedHashMap<>();
        for (int i = 0; i < 3000; i++) {
            String key = "key." + i + ".".repeat(i % 61);
            String value = (i % 7 == 0 ? "\u00e9" : "v") + "x".repeat(i % 113) + (i % 5 == 0 ? "?" : "");
            if (i == 1234) {
                value = "big".repeat(100_000);
            }
            if (i % 250 == 0) {
                String refused = "refused." + i;
                assertThrows(IllegalArgumentException.class, () -> builder.put(refused, "bad\ud800"));
            }
            builder.put(key, value);
            expected.put(key, value);
        }
        builder.put("key.7" + ".".repeat(7), "replaced"); // entry 7's key again
        expected.put("key.7" + ".".repeat(7), "replaced");
        SealedMap map = builder.build();
        assertEquals(3000, map.size());
        expected.forEach((key, value) -> assertEquals(value, map.get(key), key));
        assertEquals(new java.util.ArrayList<>(expected.keySet()), new java.util.ArrayList<>(map.asMap().keySet()),
            "first-put order");
        for (int i = 0; i < 3000; i += 250) {
            assertNull(map.get("refused." + i), "a refused put leaves no entry");
        }
    }

    @AfterAll
    static void stayWithinTheSealBudget() {
        SealBudget.check(SealedMapTest.class.getSimpleName());
    }
}
