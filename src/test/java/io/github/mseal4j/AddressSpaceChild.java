package io.github.mseal4j;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Run in a child JVM by {@link SealedArenaTest}: an allocation as large and as aligned as the arena's chunk,
 * which must take a region of its own instead of reserving address space until the kernel refuses.
 */
public final class AddressSpaceChild {
    private AddressSpaceChild() {
    }

    public static void main(String[] args) throws Exception {
        long size = Long.parseLong(args[0]);
        long alignment = Long.parseLong(args[1]);
        long before = vmSize();
        try (SealedArena arena = SealedArena.create(size)) {
            MemorySegment segment = arena.allocate(size, alignment);
            System.out.println("allocated: size=" + segment.byteSize() + " aligned=" + (segment.address() % alignment == 0)
                + " regions=" + arena.regionCount());
            System.out.println("address space grew by at most=" + (vmSize() - before));
        }
    }

    private static long vmSize() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmSize:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmSize");
    }
}
