package io.github.mseal4j.benchmarks;

import io.github.mseal4j.SealedArena;
import java.lang.foreign.Arena;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Allocating 64-byte blocks, {@value #BATCH} per invocation into a fresh arena (made and closed outside the
 * timing): a {@link SealedArena} against the JDK's shared and confined arenas. Reported per block.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@State(Scope.Thread)
public class ArenaAllocationBenchmark {
    static final int BATCH = 10_000;

    SealedArena sealedArena;
    Arena shared;
    Arena confined;

    @Setup(Level.Invocation)
    public void setUp() {
        sealedArena = SealedArena.create();
        shared = Arena.ofShared();
        confined = Arena.ofConfined();
    }

    @TearDown(Level.Invocation)
    public void tearDown() {
        sealedArena.close();
        shared.close();
        confined.close();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void sealedArena(Blackhole blackhole) {
        for (int i = 0; i < BATCH; i++) {
            blackhole.consume(sealedArena.allocate(64, 8));
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void sharedArena(Blackhole blackhole) {
        for (int i = 0; i < BATCH; i++) {
            blackhole.consume(shared.allocate(64, 8));
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void confinedArena(Blackhole blackhole) {
        for (int i = 0; i < BATCH; i++) {
            blackhole.consume(confined.allocate(64, 8));
        }
    }
}
