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
 * The two lifetimes, built side by side from the same {@code String} entries: a map sealed for good
 * ({@code build()}, which stays mapped for the life of the fork), and maps with an arena's lifetime, built and
 * given back (a confined arena: unmapped at close, no handshake; a shared arena: its close handshakes with every
 * thread). {@link #reload} is one {@link Reloadable#reload()}: load the next generation into a fresh shared arena,
 * swap, close the previous one. {@link #reloadAutomatic} swaps a volatile field to a map of a fresh automatic
 * arena, which the collector unmaps later (its cost lands partly in GC). Iterations are short (0.1 s) for the
 * sealed build's sake, as in {@link StringBuildBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 10, time = 100, timeUnit = TimeUnit.MILLISECONDS)
@Measurement(iterations = 10, time = 100, timeUnit = TimeUnit.MILLISECONDS)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx6g", "-Xms2g"})
@State(Scope.Benchmark)
public class LifetimeBuildBenchmark {
    @Param({"1000", "100000"})
    int entries;

    Strings data;
    Reloadable<SealedMap> reloadable;
    volatile SealedMap automatic;

    @Setup(Level.Trial)
    public void setUp() {
        data = Strings.random(entries, 42);
        reloadable = Reloadable.of(this::build);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        reloadable.close();
    }

    private SealedMap.Builder filled() {
        SealedMap.Builder builder = SealedMap.builder();
        String[] keys = data.keys;
        String[] values = data.values;
        for (int i = 0; i < keys.length; i++) {
            builder.put(keys[i], values[i]);
        }
        return builder;
    }

    private SealedMap build(Arena arena) {
        return filled().build(arena);
    }

    @Benchmark
    public SealedMap sealedForGood() {
        return filled().build();
    }

    @Benchmark
    public int confinedArena() {
        try (Arena arena = Arena.ofConfined()) {
            return build(arena).size();
        }
    }

    @Benchmark
    public int sharedArena() {
        try (Arena arena = Arena.ofShared()) {
            return build(arena).size();
        }
    }

    @Benchmark
    public long reload() {
        reloadable.reload();
        return reloadable.generation();
    }

    @Benchmark
    public SealedMap reloadAutomatic() {
        SealedMap next = build(Arena.ofAuto());
        automatic = next;
        return next;
    }
}
