package io.github.mseal4j.benchmarks;

import io.github.mseal4j.Mseal;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A warm freeze of 32 bytes (a key), beside the same system calls made through bare downcall handles in the same
 * JVM ({@link BareFreeze}). Sealed freezes are never freed: each leaves a mapping for the life of the fork, so each
 * iteration is a batch of 1,000 calls and a fork makes 30,000, under {@code vm.max_map_count} (65,530 by default)
 * and the library's reserve. The 20 warm-up batches let the JIT compile the library's path fully (with 5, the
 * measured batches still ran partly interpreted: 14-15 us per freeze, against 8 in a warm loop). The arena variant (confined arena, closed after each freeze: unmapped) leaves nothing.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS) // per batch of 1,000: the score in ms is the time per call in µs
@Warmup(iterations = 20, batchSize = 1000)
@Measurement(iterations = 10, batchSize = 1000)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@State(Scope.Benchmark)
public class FreezeBenchmark {
    private final byte[] key = new byte[32];
    private final BareFreeze bare = new BareFreeze();

    @Benchmark
    public MemorySegment freeze() {
        return Mseal.freeze(key);
    }

    @Benchmark
    public long bareFreeze() throws Throwable {
        return bare.freeze(key, true);
    }

    @Benchmark
    public long freezeInConfinedArena() {
        try (Arena arena = Arena.ofConfined()) {
            return Mseal.freeze(key, arena).address();
        }
    }

    @Benchmark
    public long bareFreezeUnmapped() throws Throwable {
        long address = bare.freeze(key, false);
        bare.unmap(address);
        return address;
    }
}
