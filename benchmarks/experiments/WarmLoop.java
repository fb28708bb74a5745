/*
 * An experiment, not a benchmark: warm seal() against the bare syscall(462) outside JMH, to see whether a JVM
 * stays slow throughout as some JMH forks of SealColdBenchmark.warm* do. Ten batches of 4,000 one-page
 * regions; prints per batch the microseconds, the process's mapping count (m) and how many regions lie right
 * below the one before (a). Run against the benchmarks jar (bash benchmarks/run.sh builds it):
 *   J=<JDK 22+>/bin; CP=benchmarks/target/benchmarks.jar
 *   $J/javac -cp $CP -d /tmp/warm benchmarks/experiments/WarmLoop.java
 *   for i in $(seq 8); do for m in seal bare; do $J/java --enable-native-access=ALL-UNNAMED -cp $CP:/tmp/warm WarmLoop $m; done; done
 */
import io.github.mseal4j.*;
import java.nio.file.*;
import java.lang.foreign.*;
import java.lang.invoke.*;
import static java.lang.foreign.ValueLayout.*;

public class WarmLoop {
    static final MethodHandle SYSCALL = Linker.nativeLinker().downcallHandle(
        Linker.nativeLinker().defaultLookup().find("syscall").orElseThrow(),
        FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
        Linker.Option.captureCallState("errno"), Linker.Option.firstVariadicArg(1));
    public static void main(String[] a) throws Throwable {
        boolean bare = a[0].equals("bare");
        long page = Mseal.pageSize();
        MemorySegment capture = Arena.ofAuto().allocate(Linker.Option.captureStateLayout());
        StringBuilder out = new StringBuilder(a[0] + ":");
        for (int it = 0; it < 10; it++) {
            MappedRegion[] r = new MappedRegion[4002];
            for (int i = 0; i < r.length; i++) r[i] = MappedRegion.allocate(page);
            long t = System.nanoTime();
            for (int i = 2; i < r.length; i++) {
                if (bare) { long x = (long) SYSCALL.invokeExact(capture, 462L, r[i].address(), page, 0L); if (x != 0) throw new Error(); }
                else r[i].seal();
            }
            long us = (System.nanoTime() - t) / 1000;
            long maps; try (var l = Files.lines(Path.of("/proc/self/maps"))) { maps = l.count(); }
            long adj = 0; for (int i = 3; i < r.length; i++) if (r[i].address() + page == r[i-1].address()) adj++;
            out.append(String.format(" %d(m%d,a%d)", us, maps, adj));
        }
        System.out.println(out);
    }
}
