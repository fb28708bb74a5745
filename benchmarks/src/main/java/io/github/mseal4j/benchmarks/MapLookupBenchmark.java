package io.github.mseal4j.benchmarks;

import io.github.mseal4j.SealedMap;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Looking up random present keys: {@link SealedMap#get(byte[])} against the JDK's maps holding the same
 * 16-byte keys and 32-byte values. Each invocation looks up the next key of a shuffled list of all keys.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx8g", "-Xms2g"})
public class MapLookupBenchmark {

    /** The keys and values, and the keys to look up in random order (equal to the map's, not the same arrays). */
    @State(Scope.Benchmark)
    public static class Keys {
        @Param({"1000000"})
        int entries;
        Data data;
        byte[][] queries;

        @Setup(Level.Trial)
        public void setUp() {
            data = Data.random(entries, 42);
            queries = data.shuffledKeys(7);
        }
    }

    /** Each map is built only for the benchmarks that use it. */
    @State(Scope.Benchmark)
    public static class Sealed {
        SealedMap map;

        @Setup(Level.Trial)
        public void setUp(Keys keys) {
            SealedMap.Builder builder = SealedMap.builder();
            for (int i = 0; i < keys.entries; i++) {
                builder.put(keys.data.keys[i], keys.data.values[i]);
            }
            map = builder.build();
        }
    }

    @State(Scope.Benchmark)
    public static class ByBuffer {
        HashMap<ByteBuffer, byte[]> map = new HashMap<>();
        Map<ByteBuffer, byte[]> copyOf;

        @Setup(Level.Trial)
        public void setUp(Keys keys) {
            for (int i = 0; i < keys.entries; i++) {
                map.put(ByteBuffer.wrap(keys.data.keys[i]), keys.data.values[i]);
            }
            copyOf = Map.copyOf(map);
        }
    }

    @State(Scope.Benchmark)
    public static class ByString {
        HashMap<String, byte[]> map = new HashMap<>();
        String[] queries;

        @Setup(Level.Trial)
        public void setUp(Keys keys) {
            queries = new String[keys.entries];
            for (int i = 0; i < keys.entries; i++) {
                map.put(new String(keys.data.keys[i], StandardCharsets.ISO_8859_1), keys.data.values[i]);
                queries[i] = new String(keys.queries[i], StandardCharsets.ISO_8859_1);
            }
        }
    }

    /** The next query index; per thread, so threads don't share a counter. */
    @State(Scope.Thread)
    public static class Cursor {
        int next;

        int advance(Keys keys) {
            int index = next;
            next = index + 1 == keys.entries ? 0 : index + 1;
            return index;
        }
    }

    @Benchmark
    public MemorySegment sealedMap(Keys keys, Sealed sealed, Cursor cursor) {
        return sealed.map.get(keys.queries[cursor.advance(keys)]);
    }

    @Benchmark
    public byte[] hashMapByteBuffer(Keys keys, ByBuffer maps, Cursor cursor) {
        return maps.map.get(ByteBuffer.wrap(keys.queries[cursor.advance(keys)]));
    }

    @Benchmark
    public byte[] mapCopyOfByteBuffer(Keys keys, ByBuffer maps, Cursor cursor) {
        return maps.copyOf.get(ByteBuffer.wrap(keys.queries[cursor.advance(keys)]));
    }

    @Benchmark
    public byte[] hashMapString(Keys keys, ByString maps, Cursor cursor) {
        return maps.map.get(maps.queries[cursor.advance(keys)]);
    }

    /** Random keys and values, reproducible from a seed. */
    static final class Data {
        final byte[][] keys;
        final byte[][] values;

        private Data(byte[][] keys, byte[][] values) {
            this.keys = keys;
            this.values = values;
        }

        static Data random(int entries, long seed) {
            SplittableRandom random = new SplittableRandom(seed);
            byte[][] keys = new byte[entries][];
            byte[][] values = new byte[entries][];
            for (int i = 0; i < entries; i++) {
                keys[i] = new byte[16];
                values[i] = new byte[32];
                random.nextBytes(keys[i]);
                random.nextBytes(values[i]);
            }
            return new Data(keys, values);
        }

        byte[][] shuffledKeys(long seed) {
            byte[][] shuffled = keys.clone();
            shuffle(shuffled, seed);
            for (int i = 0; i < shuffled.length; i++) {
                shuffled[i] = shuffled[i].clone(); // equal, not identical, like a key read from the network
            }
            return shuffled;
        }

        /** Shuffles {@code items} in place (Fisher-Yates), the same way for the same seed. */
        static void shuffle(byte[][] items, long seed) {
            SplittableRandom random = new SplittableRandom(seed);
            for (int i = items.length - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                byte[] swap = items[i];
                items[i] = items[j];
                items[j] = swap;
            }
        }
    }
}
