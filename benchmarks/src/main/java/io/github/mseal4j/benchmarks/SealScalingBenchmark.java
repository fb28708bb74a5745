package io.github.mseal4j.benchmarks;

import io.github.mseal4j.MappedRegion;
import io.github.mseal4j.Mseal;
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
 * How the first seal of fresh memory scales: with the size of one region, and with the number of regions
 * sealed one after another. Single shots on fresh regions (mapped, untouched, outside the timing): sealed
 * memory can never be freed, so each shot leaves its regions behind, and few shots are taken. So that the
 * shots time compiled code, not the interpreter, each fork first seals 20,000 one-page regions (and seals
 * 2,000 read-only): untouched, so they cost address space and a few merged mappings, not memory.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 10)
@Measurement(iterations = 30)
@Fork(value = 2, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class SealScalingBenchmark {

    /** Runs the sealing code until the JIT has compiled it. */
    @State(Scope.Benchmark)
    public static class Warm {
        @Setup(Level.Trial)
        public void warmUp() {
            for (int i = 0; i < 20_000; i++) {
                MappedRegion.allocate(Mseal.pageSize()).seal();
            }
            for (int i = 0; i < 2_000; i++) {
                MappedRegion.allocate(Mseal.pageSize()).sealReadOnly();
            }
        }
    }

    /** One fresh region of {@code bytes}, per shot. */
    @State(Scope.Thread)
    public static class OneRegion {
        @Param({"4096", "65536", "1048576", "16777216", "268435456", "1073741824"})
        long bytes;
        MappedRegion region;

        @Setup(Level.Invocation)
        public void map() {
            region = MappedRegion.allocate(bytes);
        }
    }

    /** {@code count} fresh one-page regions, per shot. */
    @State(Scope.Thread)
    public static class ManyRegions {
        @Param({"1", "16", "256", "1024"})
        int count;
        MappedRegion[] regions;

        @Setup(Level.Invocation)
        public void map() {
            regions = new MappedRegion[count];
            for (int i = 0; i < count; i++) {
                regions[i] = MappedRegion.allocate(Mseal.pageSize());
            }
        }
    }

    @Benchmark
    public void sealOneRegion(Warm warm, OneRegion state) {
        state.region.seal();
    }

    @Benchmark
    public void sealReadOnlyOneRegion(Warm warm, OneRegion state) {
        state.region.sealReadOnly();
    }

    @Benchmark
    public void sealManyRegions(Warm warm, ManyRegions state) {
        for (MappedRegion region : state.regions) {
            region.seal();
        }
    }
}
