package io.github.mseal4j;

import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.Mman;
import io.github.mseal4j.internal.Smaps;
import io.github.mseal4j.testing.Limits;
import io.github.mseal4j.testing.ProcMem;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Run in a child JVM by {@link MapLimitTest}: takes the process to {@code vm.max_map_count} (one mapping past
 * it, where neither {@code mmap} nor any split can succeed), then runs one operation there and prints what
 * happened. Kept interpreted and small, like {@link ExhaustMappings}, so the JVM itself needs no mapping.
 */
public final class MapLimitChild {
    private static final long PAGE = Mseal.pageSize();
    private static final List<MappedRegion> FILLER = new ArrayList<>();

    private MapLimitChild() {
    }

    public static void main(String[] args) throws Exception {
        warmUp();
        switch (args[0]) {
            case "arena-seal-immutable" -> arenaSeal(SealedArena.create(16 * PAGE));
            case "arena-seal-anonymous" -> arenaSeal(SealedArena.createAnonymous(16 * PAGE));
            case "close-guarded" -> closeGuarded();
            case "close-merged" -> closeMerged();
            case "arena-reservation" -> arenaReservation();
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    /** A seal at the limit either seals for real or leaves the arena as it was, so a retry can seal it. */
    private static void arenaSeal(SealedArena arena) {
        MemorySegment small = arena.allocate(100, 8);
        small.fill((byte) 7);
        arena.allocate(2 * PAGE + 100, 8).fill((byte) 8);
        exhaust();
        RuntimeException failure = null; // nothing is printed or concatenated at the limit: no class may load
        try {
            arena.seal();
        } catch (RuntimeException e) {
            failure = e;
        }
        release(FILLER.size());
        boolean sealed = arena.isSealed();
        System.out.println("first seal: " + (failure == null ? "ok" : failure.toString()));
        System.out.println("first isSealed=" + sealed);
        if (!sealed) {
            try {
                arena.seal();
                System.out.println("retry: ok, isSealed=" + arena.isSealed());
            } catch (RuntimeException e) {
                System.out.println("retry: " + e);
            }
        }
        System.out.println("view=" + arena.sealedView(small).get(ValueLayout.JAVA_BYTE, 99));
    }

    /**
     * A guarded region made PROT_NONE merges with its guards into one mapping; close() unmaps it in one call,
     * which needs no split. The pages next to the region are taken by read-write pages first, so that no
     * filler can land there and merge with it (mmap places new mappings top-down, so fillers land right below).
     */
    private static void closeGuarded() throws Exception {
        // A slot beside the region may be taken already by another PROT_NONE mapping (a thread stack's guard
        // zone, say), which merges with it: take another region then, up to a few times.
        MappedRegion region = null;
        List<Long> neighbours = new ArrayList<>();
        List<MappedRegion> merged = new ArrayList<>();
        for (int attempt = 0; attempt < 8 && region == null; attempt++) {
            MappedRegion candidate = guardedNone();
            long start = candidate.address() - PAGE;
            long end = candidate.address() + 2 * PAGE;
            for (long at : new long[] {start - PAGE, end}) {
                long mapped = LibC.mmap(at, PAGE, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE
                    | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED_NOREPLACE, -1, 0);
                if (mapped == at) {
                    neighbours.add(at);
                } else if (!LibC.failed(mapped)) {
                    LibC.munmap(mapped, PAGE); // an old kernel that took the flag as a hint
                }
            }
            Smaps.Vma around = Smaps.read(candidate.address(), candidate.address() + 1).getFirst();
            if (around.start() < start || around.end() > end) {
                merged.add(candidate);
            } else {
                region = candidate;
            }
        }
        System.out.println("merged with a neighbour=" + (region == null));
        if (region == null) {
            return;
        }
        closeAtTheLimit(region);
        printLeft(region);
        for (long at : neighbours) {
            LibC.munmap(at, PAGE);
        }
        for (MappedRegion other : merged) {
            other.close();
        }
    }

    /**
     * Three guarded PROT_NONE regions side by side merge into one mapping; unmapping the middle one then needs a
     * split, which the limit refuses: close() must fail with the region as it was, and succeed when retried.
     */
    private static void closeMerged() throws Exception {
        List<MappedRegion> regions = new ArrayList<>();
        MappedRegion middle = null;
        while (middle == null && regions.size() < 16) {
            regions.add(guardedNone()); // top-down: each usually lands right below the one before
            int n = regions.size();
            if (n >= 3 && adjacent(regions.get(n - 2), regions.get(n - 3))
                    && adjacent(regions.get(n - 1), regions.get(n - 2))) {
                middle = regions.get(n - 2);
            }
        }
        if (middle == null) {
            throw new IllegalStateException("no three regions side by side: " + regions);
        }
        long start = middle.address() - PAGE;
        long end = middle.address() + 2 * PAGE;
        Smaps.Vma around = Smaps.read(middle.address(), middle.address() + 1).getFirst();
        System.out.println("merged on both sides=" + (around.start() < start && around.end() > end));
        if (!closeAtTheLimit(middle)) {
            System.out.println("still open=" + !middle.toString().contains(", closed")
                + ", data page still mapped=" + ProcMem.read(middle.address(), 1).isPresent());
            middle.close();
            System.out.println("retry: ok");
        }
        printLeft(middle);
        for (MappedRegion region : regions) {
            region.close();
        }
    }

    /** Closes {@code region} at the limit, then gives the mappings back and prints what happened. */
    private static boolean closeAtTheLimit(MappedRegion region) {
        exhaust();
        RuntimeException failure = null;
        try {
            region.close();
        } catch (RuntimeException e) {
            failure = e;
        }
        release(FILLER.size());
        System.out.println("close: " + (failure == null ? "ok" : failure.toString()));
        return failure == null;
    }

    private static MappedRegion guardedNone() {
        MappedRegion region = MappedRegion.allocate(PAGE, MappingOption.GUARD_PAGES);
        region.protect(Protection.NONE);
        return region;
    }

    /** Whether {@code lower}'s upper guard page ends where {@code upper}'s lower guard page starts. */
    private static boolean adjacent(MappedRegion lower, MappedRegion upper) {
        return lower.address() + 2 * PAGE == upper.address() - PAGE;
    }

    private static void printLeft(MappedRegion region) throws Exception {
        System.out.println("data page still mapped=" + ProcMem.read(region.address(), 1).isPresent()
            + ", mappings left in the range=" + mappingsIn(region.address() - PAGE, region.address() + 2 * PAGE));
    }

    /** A reservation whose first chunk cannot be made accessible is released, not leaked. */
    private static void arenaReservation() throws Exception {
        exhaust();
        FILLER.removeLast().close(); // room for one more mapping, not for a split as well
        long before = mappings();
        SealedArena arena = SealedArena.createAnonymous(PAGE);
        RuntimeException failure = null;
        try {
            arena.allocate(1, 1);
        } catch (RuntimeException e) {
            failure = e;
        }
        arena.close();
        long after = mappings();
        release(FILLER.size());
        System.out.println("allocate: " + (failure == null ? "ok" : failure.toString()));
        System.out.println("mappings before=" + before + " after close=" + after);
    }

    /**
     * Every path the scenarios take, once, before the limit leaves no room to load a class (metaspace grows by
     * committing reserved memory, which needs a mapping split).
     */
    private static void warmUp() throws Exception {
        System.out.println("probe=" + Mseal.support().status() + ", immutability=" + Mseal.immutability().status());
        try {
            MappedRegion.allocate(Limits.UNMAPPABLE).close();
        } catch (SystemCallException expected) {
            System.out.println("warm: " + expected);
        }
        MappedRegion warm = MappedRegion.allocate(2 * PAGE);
        warm.protect(PAGE, PAGE, Protection.NONE);
        io.github.mseal4j.internal.LibC.munmap(warm.address(), PAGE);
        try {
            warm.protect(0, PAGE, Protection.READ);  // fails (unmapped): the region re-reads smaps
        } catch (SystemCallException expected) {
            System.out.println("warm: " + expected);
        }
        warm.close();
        for (SealedArena arena : List.of(SealedArena.create(PAGE), SealedArena.createAnonymous(PAGE),
                SealedArena.create(16 * PAGE), SealedArena.createAnonymous(16 * PAGE))) {
            MemorySegment small = arena.allocate(10, 8);
            arena.allocate(2 * PAGE + 100, 8);
            arena.seal();
            System.out.println("warm: " + arena.isSealed() + " " + arena.sealedView(small).get(ValueLayout.JAVA_BYTE, 0));
            arena.close();
        }
        SealedArena unsealed = SealedArena.createAnonymous(PAGE);
        unsealed.allocate(1, 1);
        unsealed.close();
        MappedRegion region = MappedRegion.allocate(PAGE, MappingOption.GUARD_PAGES);
        region.protect(Protection.NONE);
        region.close();
        System.out.println("warm: " + ProcMem.read(region.address(), 1).isPresent() + " " + mappings() + " "
            + mappingsIn(0, PAGE));
    }

    /** Two mappings per region (they never merge with the next) until the kernel refuses; then single pages. */
    private static void exhaust() {
        while (true) {
            try {
                MappedRegion region = MappedRegion.allocate(2 * PAGE);
                FILLER.add(region);
                region.protect(PAGE, PAGE, Protection.NONE);
            } catch (SystemCallException e) {
                break;
            }
        }
        while (true) {
            try {
                MappedRegion region = MappedRegion.allocate(PAGE);
                FILLER.add(region);
                region.protect(Protection.NONE); // not mergeable with a READ_WRITE neighbour
            } catch (SystemCallException e) {
                break;
            }
        }
    }

    private static void release(int count) {
        for (int i = 0; i < count && !FILLER.isEmpty(); i++) {
            FILLER.removeLast().close();
        }
    }

    private static long mappings() throws Exception {
        try (var lines = Files.lines(Path.of("/proc/self/maps"))) {
            return lines.count();
        }
    }

    private static long mappingsIn(long start, long end) throws Exception {
        try (var lines = Files.lines(Path.of("/proc/self/maps"))) {
            return lines.filter(line -> {
                String[] range = line.substring(0, line.indexOf(' ')).split("-");
                return Long.parseUnsignedLong(range[0], 16) < end && Long.parseUnsignedLong(range[1], 16) > start;
            }).count();
        }
    }
}
