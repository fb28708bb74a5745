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
 * Sealing a 20,000-page region page by page, every other page (10,000 {@code seal(offset, page)} calls, each
 * splitting a mapping, 20,000 mappings in the end), against the same bare system calls on an identical
 * region. One shot per fork: the mappings stay for good, and a process may have only 65,530. As in
 * {@link SealColdBenchmark}, one seal and one bare call come first, outside the timing: the process's first
 * seal probes the kernel and registers the JFR events, once per process, whatever is sealed after.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 10, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 0)
@Measurement(iterations = 1)
@State(Scope.Thread)
public class PageByPageSealBenchmark {
    static final int PAGES = 20_000;
    MappedRegion region;
    long page;
    BareMseal bare;

    @Setup(Level.Iteration)
    public void setUp() {
        page = Mseal.pageSize();
        bare = new BareMseal();
        region = MappedRegion.allocate(PAGES * page);
        MappedRegion warmUp = MappedRegion.allocate(2 * page);
        warmUp.seal(0, page);
        try {
            bare.seal(warmUp.address() + page, page);
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        }
    }

    @Benchmark
    public void librarySeals() {
        for (int i = 0; i < PAGES; i += 2) {
            region.seal(i * page, page);
        }
    }

    @Benchmark
    public long bareSyscalls() throws Throwable {
        long sum = 0;
        long address = region.address();
        for (int i = 0; i < PAGES; i += 2) {
            sum += bare.seal(address + i * page, page);
        }
        return sum;
    }
}
