package io.github.mseal4j.benchmarks;

import io.github.mseal4j.Reloadable;
import io.github.mseal4j.SealedMap;
import java.lang.foreign.Arena;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code get(String)} in maps of the two lifetimes holding the same entries, side by side: sealed for good, of a
 * shared arena, of an automatic arena, and through {@link Reloadable#read} (a shared arena's map, with the
 * reader count around each lookup). Fresh key strings, shuffled, as in {@link StringLookupBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx6g", "-Xms2g"})
@State(Scope.Benchmark)
public class LifetimeLookupBenchmark {
    @Param({"1000", "100000"})
    int entries;

    Strings data;
    byte[][] queries;
    SealedMap sealed;
    Arena shared;
    SealedMap ofShared;
    SealedMap ofAuto;
    Reloadable<SealedMap> reloadable;

    @Setup(Level.Trial)
    public void setUp() {
        data = Strings.random(entries, 42);
        queries = data.shuffledKeyBytes(7);
        sealed = filled().build();
        shared = Arena.ofShared();
        ofShared = filled().build(shared);
        ofAuto = filled().build(Arena.ofAuto());
        reloadable = Reloadable.of(arena -> filled().build(arena));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        reloadable.close();
        shared.close();
    }

    private SealedMap.Builder filled() {
        SealedMap.Builder builder = SealedMap.builder();
        for (int i = 0; i < entries; i++) {
            builder.put(data.keys[i], data.values[i]);
        }
        return builder;
    }

    @Benchmark
    public String sealedForGood(FreshKeys cursor) {
        return sealed.get(cursor.next(queries));
    }

    @Benchmark
    public String sharedArena(FreshKeys cursor) {
        return ofShared.get(cursor.next(queries));
    }

    @Benchmark
    public String automaticArena(FreshKeys cursor) {
        return ofAuto.get(cursor.next(queries));
    }

    @Benchmark
    public String reloadableRead(FreshKeys cursor) {
        String key = cursor.next(queries);
        return reloadable.read(map -> map.get(key));
    }
}
