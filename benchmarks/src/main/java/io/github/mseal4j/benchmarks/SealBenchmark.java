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
 * What {@link MappedRegion#seal()} costs over the bare system call. Both seal the same, already sealed
 * region, so the kernel does the same work each time (take the mmap lock, walk the mappings, find them
 * sealed); the difference is the library's checks, lock, bookkeeping and errno handling.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@State(Scope.Thread)
public class SealBenchmark {
    /** The region size in pages. */
    @Param({"1", "256"})
    int pages;

    private MappedRegion region;
    private long address;
    private long length;
    private BareMseal bare;

    @Setup(Level.Trial)
    public void setUp() {
        if (!Mseal.isSupported()) {
            throw new IllegalStateException(Mseal.support().reason());
        }
        region = MappedRegion.allocate(pages * Mseal.pageSize());
        region.seal();
        address = region.address();
        length = region.byteSize();
        bare = new BareMseal();
    }

    /** {@code syscall(462, address, length, 0)} through a downcall handle: the floor. */
    @Benchmark
    public long bareSyscall() throws Throwable {
        return bare.seal(address, length);
    }

    /** The library's {@code seal()} of the whole region. */
    @Benchmark
    public void regionSeal() {
        region.seal();
    }

    /** The library's {@code seal(offset, length)} of the first page. */
    @Benchmark
    public void regionSealFirstPage() {
        region.seal(0, Mseal.pageSize());
    }

    /**
     * Sealing the sealed first page of a region whose last page is not sealed: the path that takes the
     * region's lock and consults its page map.
     */
    @Benchmark
    public void partlySealedRegionSealFirstPage(PartlySealed partly) {
        partly.region.seal(0, Mseal.pageSize());
    }

    /** A region of {@code pages + 1} pages with every page but the last sealed. */
    @State(Scope.Thread)
    public static class PartlySealed {
        MappedRegion region;

        @Setup(Level.Trial)
        public void setUp(SealBenchmark benchmark) {
            long page = Mseal.pageSize();
            region = MappedRegion.allocate((benchmark.pages + 1) * page);
            region.seal(0, benchmark.pages * page);
        }
    }
}
