package io.github.mseal4j;

import io.github.mseal4j.internal.Smaps;
import io.github.mseal4j.testing.Limits;
import java.util.List;

/**
 * Run in a child JVM by {@link HardenedRegionTest}: with {@code RLIMIT_MEMLOCK} at one page and no
 * {@code CAP_IPC_LOCK}, one locked page works and four are refused with an error that names the limit.
 */
public final class MemlockLimit {
    private MemlockLimit() {
    }

    public static void main(String[] args) {
        long page = Mseal.pageSize();
        Limits.limitLockedMemory(page);
        try (MappedRegion one = MappedRegion.allocate(page, MappingOption.LOCKED)) {
            Smaps.Vma vma = Smaps.read(one.address(), one.address() + 1).getFirst();
            System.out.println("one page locked: " + (vma.flags().contains("lo") ? "lo" : "NOT LOCKED " + vma));
        }
        try {
            MappedRegion.allocate(4 * page, MappingOption.LOCKED, MappingOption.GUARD_PAGES);
            System.out.println("four pages locked: the limit did not bite");
        } catch (SystemCallException e) {
            System.out.println("four pages refused: " + e.getMessage());
            // The exception names the data's address: the data and both guards must be gone.
            List<Smaps.Vma> left = Smaps.read(e.address() - page, e.address() + 5 * page);
            System.out.println("left mapped: " + (left.isEmpty() ? "none" : left));
        }
    }
}
