package io.github.mseal4j.benchmarks;

import io.github.mseal4j.SealedMap;
import java.nio.ByteBuffer;
import java.util.HashMap;
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
 * Building a map from scratch: putting every entry into a {@link SealedMap.Builder} and sealing it, against
 * filling a {@code HashMap<ByteBuffer, byte[]>} with the same keys and values. Single shots: each sealed map
 * stays mapped until the JVM exits, so only a few are built per fork.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 5)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx8g", "-Xms4g"})
@State(Scope.Benchmark)
public class MapBuildBenchmark {
    @Param({"1000000"})
    int entries;

    MapLookupBenchmark.Data data;

    @Setup(Level.Trial)
    public void setUp() {
        data = MapLookupBenchmark.Data.random(entries, 42);
    }

    @Benchmark
    public SealedMap sealedMap() {
        SealedMap.Builder builder = SealedMap.builder();
        for (int i = 0; i < entries; i++) {
            builder.put(data.keys[i], data.values[i]);
        }
        return builder.build();
    }

    @Benchmark
    public HashMap<ByteBuffer, byte[]> hashMapByteBuffer() {
        HashMap<ByteBuffer, byte[]> map = new HashMap<>();
        for (int i = 0; i < entries; i++) {
            map.put(ByteBuffer.wrap(data.keys[i]), data.values[i]);
        }
        return map;
    }
}
