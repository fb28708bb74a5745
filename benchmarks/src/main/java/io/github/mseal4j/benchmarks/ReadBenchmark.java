package io.github.mseal4j.benchmarks;

import io.github.mseal4j.MappedRegion;
import io.github.mseal4j.MappingOption;
import io.github.mseal4j.Mseal;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
 * Reading sealed memory costs what reading any memory costs: summing the longs of a sealed read-only
 * segment against a segment of an {@code Arena.ofShared()} with the same contents; and immutable memory (a
 * frozen memfd mapping, shared) against sealed anonymous memory.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 3, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@State(Scope.Benchmark)
public class ReadBenchmark {
    /** 16 KiB stays in L1/L2; 16 MiB does not fit in cache. */
    @Param({"16384", "16777216"})
    long bytes;

    MemorySegment sealed;
    MemorySegment immutable;
    MemorySegment unsealed;
    MemorySegment shared;
    Arena arena;
    MappedRegion unsealedRegion;

    @Setup(Level.Trial)
    public void setUp() {
        MappedRegion region = MappedRegion.allocate(bytes);
        MappedRegion immutableRegion = MappedRegion.allocate(bytes, MappingOption.IMMUTABLE);
        MemorySegment toFreeze = immutableRegion.segment();
        unsealedRegion = MappedRegion.allocate(bytes);
        arena = Arena.ofShared();
        shared = arena.allocate(bytes, 4096);
        MemorySegment toSeal = region.segment();
        unsealed = unsealedRegion.segment();
        for (long i = 0; i < bytes; i += 8) {
            toSeal.set(ValueLayout.JAVA_LONG, i, i * 31);
            toFreeze.set(ValueLayout.JAVA_LONG, i, i * 31);
            unsealed.set(ValueLayout.JAVA_LONG, i, i * 31);
            shared.set(ValueLayout.JAVA_LONG, i, i * 31);
        }
        sealed = region.sealReadOnly();
        immutable = immutableRegion.sealReadOnly();
        if (!immutableRegion.isImmutable()) {
            throw new IllegalStateException("immutable memory is not available here: " + Mseal.immutability());
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
        unsealedRegion.close();
    }

    @Benchmark
    public long sealedReadOnly() {
        return sum(sealed);
    }

    /** Immutable: a shared mapping of a sealed memfd, read-only and sealed (faulted in read-only on freezing). */
    @Benchmark
    public long immutable() {
        return sum(immutable);
    }

    /** The same kind of mapping, not sealed: separates what sealing costs from what mmap'd memory costs. */
    @Benchmark
    public long unsealedRegion() {
        return sum(unsealed);
    }

    @Benchmark
    public long sharedArena() {
        return sum(shared);
    }

    private static long sum(MemorySegment segment) {
        long sum = 0;
        long size = segment.byteSize();
        for (long i = 0; i < size; i += 8) {
            sum += segment.get(ValueLayout.JAVA_LONG, i);
        }
        return sum;
    }
}
