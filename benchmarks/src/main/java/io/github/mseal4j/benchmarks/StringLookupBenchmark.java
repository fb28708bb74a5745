package io.github.mseal4j.benchmarks;

import io.github.mseal4j.SealedMap;
import java.util.HashMap;
import java.util.Map;
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
 * {@code get(String)} returning a {@code String}, what a configuration or allow-list lookup is, against
 * {@code HashMap<String, String>} and {@code Map.copyOf} of it, holding the same entries. Each invocation
 * makes a fresh key string (equal to the map's, not the same object, its hash not cached: like a key just
 * read from a request) and looks it up; {@link #freshKeyOnly} measures making the string alone, which every
 * other benchmark here pays too. The keys are visited in a shuffled order.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx6g", "-Xms2g"})
@State(Scope.Benchmark)
public class StringLookupBenchmark {
    @Param({"1000", "1000000"})
    int entries;

    /** {@code immutable} (the default) or {@code anonymous} (the fallback); see {@link Backing}. */
    @Param({"immutable"})
    String backing;

    Strings data;
    byte[][] queries;
    SealedMap sealed;
    HashMap<String, String> hashMap;
    Map<String, String> copyOf;

    @Setup(Level.Trial)
    public void setUp() {
        Backing.use(backing);
        data = Strings.random(entries, 42);
        queries = data.shuffledKeyBytes(7);
        SealedMap.Builder builder = SealedMap.builder();
        hashMap = new HashMap<>();
        for (int i = 0; i < entries; i++) {
            builder.put(data.keys[i], data.values[i]);
            hashMap.put(data.keys[i], data.values[i]);
        }
        sealed = builder.build();
        copyOf = Map.copyOf(hashMap);
    }

    @Benchmark
    public String sealedMap(FreshKeys cursor) {
        return sealed.get(cursor.next(queries));
    }

    @Benchmark
    public String hashMap(FreshKeys cursor) {
        return hashMap.get(cursor.next(queries));
    }

    @Benchmark
    public String mapCopyOf(FreshKeys cursor) {
        return copyOf.get(cursor.next(queries));
    }

    /** Making the fresh key alone: the part of every benchmark above that is not the lookup. */
    @Benchmark
    public String freshKeyOnly(FreshKeys cursor) {
        return cursor.next(queries);
    }
}
