package io.github.mseal4j.benchmarks;

import io.github.mseal4j.SealedMap;
import io.github.mseal4j.SealedSet;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Heap kept alive by a built map of {@code args[0]} entries (default 1,000,000; 16-byte keys, 32-byte values):
 * the used heap after full collections, with the map reachable, minus the same without it. Not a JMH
 * benchmark; run with {@code bash benchmarks/run.sh footprint}.
 */
public final class Footprint {
    private Footprint() {
    }

    public static void main(String[] args) {
        int entries = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        System.out.printf(Locale.ROOT, "%-34s %15s %15s%n", "map of " + entries + " entries", "heap bytes", "per entry");
        report("SealedMap", entries, Footprint::sealedMap);
        report("HashMap<ByteBuffer, byte[]>", entries, Footprint::hashMapByteBuffer);
        report("HashMap<String, byte[]>", entries, Footprint::hashMapString);
        report("Map.copyOf(HashMap<ByteBuffer>)", entries, n -> Map.copyOf(hashMapByteBuffer(n)));
        report("SealedSet (the keys)", entries, Footprint::sealedSet);
        report("HashSet<String> (the keys)", entries, Footprint::hashSet);
    }

    interface Builder {
        Object build(int entries);
    }

    private static void report(String name, int entries, Builder builder) {
        builder.build(1000); // load and initialise everything involved first, so only the map is measured
        long before = usedHeap();
        Object map = builder.build(entries);
        long after = usedHeap();
        System.out.printf(Locale.ROOT, "%-34s %,15d %,15.1f%n", name, after - before, (after - before) / (double) entries);
        if (map.hashCode() == 42) {
            System.out.println(); // keeps the map reachable until here
        }
    }

    private static SealedMap sealedMap(int entries) {
        MapLookupBenchmark.Data data = MapLookupBenchmark.Data.random(entries, 42);
        SealedMap.Builder builder = SealedMap.builder();
        for (int i = 0; i < entries; i++) {
            builder.put(data.keys[i], data.values[i]);
        }
        return builder.build();
    }

    private static SealedSet sealedSet(int entries) {
        MapLookupBenchmark.Data data = MapLookupBenchmark.Data.random(entries, 42);
        SealedSet.Builder builder = SealedSet.builder();
        for (int i = 0; i < entries; i++) {
            builder.add(data.keys[i]);
        }
        return builder.build();
    }

    private static java.util.HashSet<String> hashSet(int entries) {
        MapLookupBenchmark.Data data = MapLookupBenchmark.Data.random(entries, 42);
        java.util.HashSet<String> set = new java.util.HashSet<>();
        for (int i = 0; i < entries; i++) {
            set.add(new String(data.keys[i], StandardCharsets.ISO_8859_1));
        }
        return set;
    }

    private static HashMap<ByteBuffer, byte[]> hashMapByteBuffer(int entries) {
        MapLookupBenchmark.Data data = MapLookupBenchmark.Data.random(entries, 42);
        HashMap<ByteBuffer, byte[]> map = new HashMap<>();
        for (int i = 0; i < entries; i++) {
            map.put(ByteBuffer.wrap(data.keys[i]), data.values[i]);
        }
        return map;
    }

    private static HashMap<String, byte[]> hashMapString(int entries) {
        MapLookupBenchmark.Data data = MapLookupBenchmark.Data.random(entries, 42);
        HashMap<String, byte[]> map = new HashMap<>();
        for (int i = 0; i < entries; i++) {
            map.put(new String(data.keys[i], StandardCharsets.ISO_8859_1), data.values[i]);
        }
        return map;
    }

    private static long usedHeap() {
        for (int i = 0; i < 4; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
