package io.github.mseal4j.benchmarks;

import io.github.mseal4j.SealedSet;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
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
 * {@code contains(String)}, what an allow-list check is, in a {@link SealedSet} against {@code HashSet<String>} and
 * {@code Set.copyOf} of it, holding the same strings (the keys of {@link Strings}), in the same fork. Fresh probe
 * strings (equal, not identical, hash not cached), shuffled; {@code freshKeyOnly} is the part every benchmark pays.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Xmx6g", "-Xms2g"})
@State(Scope.Benchmark)
public class SetLookupBenchmark {
    @Param({"1000", "1000000"})
    int entries;

    byte[][] queries;
    SealedSet sealed;
    HashSet<String> hashSet;
    Set<String> copyOf;

    @Setup(Level.Trial)
    public void setUp() {
        Strings data = Strings.random(entries, 42);
        queries = data.shuffledKeyBytes(7);
        sealed = SealedSet.copyOf(Arrays.asList(data.keys));
        hashSet = new HashSet<>(Arrays.asList(data.keys));
        copyOf = Set.copyOf(hashSet);
    }

    @Benchmark
    public boolean sealedSet(FreshKeys keys) {
        return sealed.contains(keys.next(queries));
    }

    @Benchmark
    public boolean hashSet(FreshKeys keys) {
        return hashSet.contains(keys.next(queries));
    }

    @Benchmark
    public boolean setCopyOf(FreshKeys keys) {
        return copyOf.contains(keys.next(queries));
    }

    @Benchmark
    public String freshKeyOnly(FreshKeys keys) {
        return keys.next(queries);
    }
}
