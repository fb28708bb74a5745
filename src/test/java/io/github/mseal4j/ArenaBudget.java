package io.github.mseal4j;

import io.github.mseal4j.internal.Smaps;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Run in a child JVM by {@link SealedArenaTest}, so that nothing else shares its mappings: allocates
 * {@code args[0]} blocks of {@code args[1]} bytes from a default arena, seals it, and prints how many kernel
 * mappings and mapped bytes hold them, measured from /proc/self/smaps.
 */
public final class ArenaBudget {
    private ArenaBudget() {
    }

    public static void main(String[] args) {
        int count = Integer.parseInt(args[0]);
        int size = Integer.parseInt(args[1]);
        List<MemorySegment> views = new ArrayList<>(count);
        try (SealedArena arena = SealedArena.create()) {
            List<MemorySegment> building = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                MemorySegment segment = arena.allocate(size, 8);
                segment.set(ValueLayout.JAVA_INT, 0, i);
                building.add(segment);
            }
            arena.seal();
            for (MemorySegment segment : building) {
                views.add(arena.sealedView(segment));
            }
            System.out.println("isSealed=" + arena.isSealed());
        }
        long low = views.stream().mapToLong(MemorySegment::address).min().orElseThrow();
        long high = views.stream().mapToLong(v -> v.address() + v.byteSize()).max().orElseThrow();
        // The arena's own mappings only: others (the JVM's) may lie between its reservations.
        List<Smaps.Vma> vmas = Smaps.read(low, high).stream().filter(v -> views.stream().anyMatch(view ->
            v.start() <= view.address() && view.address() < v.end())).toList();
        for (MemorySegment view : views) {
            if (vmas.stream().noneMatch(v -> v.start() <= view.address() && view.address() + view.byteSize() <= v.end()
                && v.sealed())) {
                throw new AssertionError("not inside one sealed mapping: " + view);
            }
        }
        long bytes = vmas.stream().mapToLong(v -> v.end() - v.start()).sum();
        boolean intact = true;
        for (int i = 0; i < count; i++) {
            intact &= views.get(i).get(ValueLayout.JAVA_INT, 0) == i;
        }
        System.out.println("mappings=" + vmas.size() + " mappedBytes=" + bytes + " payload=" + (long) count * size
            + " intact=" + intact + " flags=" + vmas.getFirst().flagLine());
    }
}
