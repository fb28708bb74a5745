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
     * which needs no split. The layout is arranged, never assumed: read-write pages are mapped right next to the
     * region ({@code MAP_FIXED_NOREPLACE}), so no PROT_NONE filler can land there and merge with it; a candidate
     * whose neighbourhood is taken already (a thread stack's guard, say) is kept aside and another is tried.
     */
    private static void closeGuarded() throws Exception {
        List<Long> neighbours = new ArrayList<>();
        List<MappedRegion> set = new ArrayList<>();
        MappedRegion region = arrange(set, candidate -> {
            long start = candidate.address() - PAGE;
            long end = candidate.address() + 2 * PAGE;
            neighbours.addAll(mapNextTo(start, end, Mman.PROT_READ | Mman.PROT_WRITE));
            Smaps.Vma around = Smaps.read(candidate.address(), candidate.address() + 1).getFirst();
            return around.start() == start && around.end() == end; // its own mapping, merged with nothing
        });
        closeAtTheLimit(region);
        printLeft(region);
        release(neighbours, set);
    }

    /**
     * A guarded PROT_NONE region merged with PROT_NONE mappings on both sides (which the kernel does for mappings of
     * the same kind): unmapping it from the middle needs a split, which the limit refuses, so close() must fail
     * with the region as it was, and succeed when retried. The neighbours are mapped right next to the region
     * ({@code MAP_FIXED_NOREPLACE}) until the kernel shows one mapping reaching past both of its ends.
     */
    private static void closeMerged() throws Exception {
        List<Long> neighbours = new ArrayList<>();
        List<MappedRegion> set = new ArrayList<>();
        MappedRegion middle = arrange(set, candidate -> {
            long start = candidate.address() - PAGE;
            long end = candidate.address() + 2 * PAGE;
            neighbours.addAll(mapNextTo(start, end, Mman.PROT_NONE));
            Smaps.Vma around = Smaps.read(candidate.address(), candidate.address() + 1).getFirst();
            return around.start() < start && around.end() > end;
        });
        if (!closeAtTheLimit(middle)) {
            System.out.println("still open=" + !middle.toString().contains(", closed")
                + ", data page still mapped=" + ProcMem.read(middle.address(), 1).isPresent());
            middle.close();
            System.out.println("retry: ok");
        }
        printLeft(middle);
        release(neighbours, set);
    }

    /**
     * The first guarded PROT_NONE region for which {@code layout} holds, after it has arranged the neighbourhood:
     * a candidate for which it does not is kept in {@code set} (so the next one lands elsewhere) until the end.
     */
    private static MappedRegion arrange(List<MappedRegion> set, java.util.function.Predicate<MappedRegion> layout) {
        for (int attempt = 1; attempt <= 64; attempt++) {
            MappedRegion candidate = guardedNone();
            if (layout.test(candidate)) {
                System.out.println("arranged at attempt " + attempt);
                return candidate;
            }
            set.add(candidate);
        }
        throw new IllegalStateException("the layout could not be arranged in 64 attempts: " + set);
    }

    /** One page of {@code prot} directly below {@code start} and directly above {@code end}, where free. */
    private static List<Long> mapNextTo(long start, long end, int prot) {
        List<Long> mapped = new ArrayList<>();
        for (long at : new long[] {start - PAGE, end}) {
            long result = LibC.mmap(at, PAGE, prot, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED_NOREPLACE,
                -1, 0);
            if (result == at) {
                mapped.add(at);
            } else if (!LibC.failed(result)) {
                LibC.munmap(result, PAGE); // an old kernel that took the flag as a hint
            }
        }
        return mapped;
    }

    private static void release(List<Long> neighbours, List<MappedRegion> set) {
        for (long at : neighbours) {
            LibC.munmap(at, PAGE);
        }
        for (MappedRegion other : set) {
            other.close();
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
