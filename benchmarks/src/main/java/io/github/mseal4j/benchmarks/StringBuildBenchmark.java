package io.github.mseal4j.benchmarks;

import io.github.mseal4j.SealedMap;
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
 * Building a map from {@code String} entries, as a configuration is built at start-up: every
 * {@code Builder.put(String, String)} and the {@code build()} that lays the map out, freezes and seals it,
 * against filling a {@code HashMap<String, String>} with the same entries. Each built map stays mapped for
 * the life of the fork (sealed memory is never freed), so iterations are short: 0.1 s, averaged (at 1,000 entries that still leaves some 8,000 maps, well under the
 * 65,530 mappings a process may have).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 10, time = 100, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 10, time = 100, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx6g", "-Xms2g"})
@State(Scope.Benchmark)
public class StringBuildBenchmark {
    @Param({"1000", "10000", "100000"})
    int entries;

    /** {@code immutable} (the default) or {@code anonymous} (the fallback); see {@link Backing}. */
    @Param({"immutable"})
    String backing;

    Strings data;

    @Setup(Level.Trial)
    public void setUp() {
        Backing.use(backing);
        data = Strings.random(entries, 42);
    }

    @Benchmark
    public SealedMap sealedMap() {
        SealedMap.Builder builder = SealedMap.builder();
        String[] keys = data.keys;
        String[] values = data.values;
        for (int i = 0; i < keys.length; i++) {
            builder.put(keys[i], values[i]);
        }
        return builder.build();
    }

    @Benchmark
    public HashMap<String, String> hashMap() {
        HashMap<String, String> map = new HashMap<>();
        String[] keys = data.keys;
        String[] values = data.values;
        for (int i = 0; i < keys.length; i++) {
            map.put(keys[i], values[i]);
        }
        return map;
    }
}
