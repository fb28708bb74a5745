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
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code seal()} of fresh one-page regions as a process meets it: the first 4,000 calls after one warm-up
 * call, in a fresh JVM (one shot per fork, so nothing is compiled yet but what the JVM started with), against
 * the bare {@code syscall(462)} downcall on the same kind of regions. Then the same batch once warm (five
 * batches first). Every region is allocated before the clock starts; each sealed page stays for the fork.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Thread)
public class SealColdBenchmark {
    static final int CALLS = 4000;
    MappedRegion[] regions;
    long page;
    BareMseal bare;

    /** Fresh regions for this batch, and the one call that comes before it (the first ever, in a cold fork). */
    @Setup(Level.Iteration)
    public void setUp() throws Throwable {
        if (!Mseal.isSupported()) {
            throw new IllegalStateException(Mseal.support().reason());
        }
        page = Mseal.pageSize();
        bare = new BareMseal();
        regions = new MappedRegion[CALLS + 2];
        for (int i = 0; i < regions.length; i++) {
            regions[i] = MappedRegion.allocate(page);
        }
        regions[0].seal();
        bare.seal(regions[1].address(), page);
    }

    @Benchmark
    @Fork(value = 20, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
    @Warmup(iterations = 0)
    @Measurement(iterations = 1)
    public void firstSeals() {
        for (int i = 2; i < regions.length; i++) {
            regions[i].seal();
        }
    }

    @Benchmark
    @Fork(value = 20, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
    @Warmup(iterations = 0)
    @Measurement(iterations = 1)
    public long firstBareSyscalls() throws Throwable {
        long sum = 0;
        for (int i = 2; i < regions.length; i++) {
            sum += bare.seal(regions[i].address(), page);
        }
        return sum;
    }

    @Benchmark
    @Fork(value = 3, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
    @Warmup(iterations = 5)
    @Measurement(iterations = 5)
    public void warmSeals() {
        firstSeals();
    }

    @Benchmark
    @Fork(value = 3, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
    @Warmup(iterations = 5)
    @Measurement(iterations = 5)
    public long warmBareSyscalls() throws Throwable {
        return firstBareSyscalls();
    }
}
