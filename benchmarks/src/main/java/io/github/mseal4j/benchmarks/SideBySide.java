package io.github.mseal4j.benchmarks;

import io.github.mseal4j.SealedMap;
import io.github.mseal4j.SealedSet;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Not JMH: a harness for figures that a shared VM makes noisy. It alternates batches of lookups, one batch
 * against the {@code SealedMap}, the next against a {@code HashMap<String, String>} with the same entries,
 * many times over, so that both meet the same background; then prints, per side, the fastest, the median and
 * the slowest batch in ns per lookup. Keys are fresh strings in a shuffled order, as in
 * {@link StringLookupBenchmark}. Usage: {@code SideBySide entries batches [backing] [map|set]}: with {@code set},
 * {@code SealedSet.contains} against {@code HashSet<String>.contains} and {@code Set.copyOf(...).contains}.
 */
public final class SideBySide {
    private SideBySide() {
    }

    public static void main(String[] args) {
        int entries = Integer.parseInt(args[0]);
        int batches = Integer.parseInt(args[1]);
        Backing.use(args.length > 2 ? args[2] : "immutable");
        Strings data = Strings.random(entries, 42);
        byte[][] queries = data.shuffledKeyBytes(7);
        SealedMap.Builder builder = SealedMap.builder();
        HashMap<String, String> hashMap = new HashMap<>();
        for (int i = 0; i < entries; i++) {
            builder.put(data.keys[i], data.values[i]);
            hashMap.put(data.keys[i], data.values[i]);
        }
        SealedMap sealed = builder.build();
        Map<String, String> copyOf = Map.copyOf(hashMap);
        boolean sets = args.length > 3 && args[3].equals("set");
        SealedSet sealedSet = sets ? SealedSet.copyOf(Arrays.asList(data.keys)) : null;
        HashSet<String> hashSet = sets ? new HashSet<>(Arrays.asList(data.keys)) : null;
        Set<String> setCopyOf = sets ? Set.copyOf(hashSet) : null;
        int first = sets ? 3 : 0;
        int perBatch = Math.max(entries, 200_000);
        long[][] times = new long[3][batches];
        long sink = 0;
        int cursor = 0;
        for (int round = -3; round < batches; round++) { // three rounds to warm up
            for (int side = 0; side < 3; side++) {
                long start = System.nanoTime();
                for (int i = 0; i < perBatch; i++) {
                    String key = new String(queries[cursor], StandardCharsets.ISO_8859_1);
                    cursor = cursor + 1 == entries ? 0 : cursor + 1;
                    sink += switch (first + side) {
                        case 0 -> sealed.get(key).length();
                        case 1 -> hashMap.get(key).length();
                        case 2 -> copyOf.get(key).length();
                        case 3 -> sealedSet.contains(key) ? 1 : 0;
                        case 4 -> hashSet.contains(key) ? 1 : 0;
                        default -> setCopyOf.contains(key) ? 1 : 0;
                    };
                }
                if (round >= 0) {
                    times[side][round] = System.nanoTime() - start;
                }
            }
        }
        String[] names = sets ? new String[] {"SealedSet.contains(String)", "HashSet<String>.contains",
            "Set.copyOf(...).contains"} : new String[] {"SealedMap.get(String)", "HashMap<String,String>.get",
            "Map.copyOf(...).get"};
        System.out.printf(Locale.ROOT, "%d entries, %d alternating batches of %d lookups (backing %s; sink %d)%n",
            entries, batches, perBatch, args.length > 2 ? args[2] : "immutable", sink % 10);
        for (int side = 0; side < 3; side++) {
            long[] t = times[side].clone();
            Arrays.sort(t);
            System.out.printf(Locale.ROOT, "%-28s min %7.1f  median %7.1f  max %7.1f ns/lookup%n", names[side],
                (double) t[0] / perBatch, (double) t[t.length / 2] / perBatch, (double) t[t.length - 1] / perBatch);
        }
        double[] ratios = new double[batches];
        for (int i = 0; i < batches; i++) {
            ratios[i] = (double) times[1][i] / times[0][i];
        }
        Arrays.sort(ratios);
        System.out.printf(Locale.ROOT, "%s time / %s time, batch by batch: min %.2f  median %.2f  max %.2f%n",
            sets ? "HashSet" : "HashMap", sets ? "SealedSet" : "SealedMap", ratios[0], ratios[batches / 2],
            ratios[batches - 1]);
        double[] copyRatios = new double[batches];
        for (int i = 0; i < batches; i++) {
            copyRatios[i] = (double) times[2][i] / times[0][i];
        }
        Arrays.sort(copyRatios);
        System.out.printf(Locale.ROOT, "%s time / %s time, batch by batch: min %.2f  median %.2f  max %.2f%n",
            sets ? "Set.copyOf" : "Map.copyOf", sets ? "SealedSet" : "SealedMap", copyRatios[0],
            copyRatios[batches / 2], copyRatios[batches - 1]);
    }
}
