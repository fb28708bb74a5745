package io.github.mseal4j;

import io.github.mseal4j.testing.Limits;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Run in a child JVM with the JVM's default flags by {@link MappingReserveTest}: builds maps, freezes bytes or
 * seals regions ({@code args[0]}) until the library refuses, as a long-running process that keeps sealing would;
 * prints the refusal; then makes the JVM need new mappings (threads, allocation, a full GC) and prints that it
 * lived. Without the reserve the JVM died at {@code vm.max_map_count} ("Native memory allocation (mmap) failed").
 */
public final class MappingReserveChild {
    private MappingReserveChild() {
    }

    public static void main(String[] args) throws Exception {
        long page = Mseal.pageSize();
        if (args[0].equals("invalid")) {
            try {
                MappedRegion.allocate(page).close();
                System.out.println("allocate: returned");
            } catch (RuntimeException e) {
                System.out.println("allocate: " + e);
            }
            return;
        }
        List<Object> kept = new ArrayList<>();
        Throwable refusal = null;
        boolean noDescriptors = args[0].equals("region-no-fds");
        if (noDescriptors) {
            // Every path the loop takes, once, while classes can still be loaded (a class file is opened to load it),
            // and the library has counted once; then no descriptor is left: /proc cannot be opened.
            for (int i = 0; i < 2; i++) {
                MappedRegion region = MappedRegion.allocate(page);
                if (i % 2 == 0) {
                    region.protect(Protection.READ);
                }
                region.seal();
                kept.add(region);
            }
            String.format(java.util.Locale.ROOT, "%s %d %,d", "warm", 1L, 2L);
            Limits.limitOpenFiles(0);
        }
        try {
            for (int i = 0; ; i++) {
                switch (noDescriptors ? "region" : args[0]) {
                    case "map" -> kept.add(SealedMap.copyOf(Map.of("key", "value " + i)));
                    case "freeze" -> kept.add(Mseal.freeze(new byte[] {(byte) i}));
                    case "region" -> {
                        MappedRegion region = MappedRegion.allocate(page);
                        if (i % 2 == 0) {
                            region.protect(Protection.READ); // neighbours of another protection never merge
                        }
                        region.seal();
                        kept.add(region);
                    }
                    default -> throw new IllegalArgumentException(args[0]);
                }
            }
        } catch (Throwable e) {
            refusal = e;
        }
        if (noDescriptors) {
            Limits.limitOpenFiles(4096);
        }
        System.out.println("made: " + kept.size());
        System.out.println("refused: " + refusal);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            Thread thread = new Thread(() -> {
                byte[] work = new byte[1 << 20];
                work[work.length - 1] = 1;
            });
            thread.start();
            threads.add(thread);
        }
        for (Thread thread : threads) {
            thread.join();
        }
        List<byte[]> garbage = new ArrayList<>();
        for (int i = 0; i < 512; i++) {
            garbage.add(new byte[1 << 20]);
        }
        garbage.clear();
        System.gc();
        System.out.println("alive: threads started, 512 MiB allocated, collected; first kept: "
            + (kept.isEmpty() ? "none" : kept.getFirst() instanceof MemorySegment segment ? segment.byteSize() + " bytes"
            : kept.getFirst().getClass().getSimpleName()));
    }
}
