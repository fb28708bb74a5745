package io.github.mseal4j;

import io.github.mseal4j.testing.Limits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Run in a child JVM by {@link MappingExhaustionTest}: creates regions of two mappings each (a read-write
 * page and a PROT_NONE page, which never merge with the next region) until the kernel's
 * {@code vm.max_map_count} stops it, gives a thousand back at once so the JVM itself has room again,
 * reports the error, then closes everything.
 */
public final class ExhaustMappings {
    private ExhaustMappings() {
    }

    public static void main(String[] args) throws Exception {
        long page = Mseal.pageSize();
        // Run every path the failures will take once now (mmap ENOMEM; mprotect ENOMEM, which makes the region
        // re-read smaps; close): at the limit, even loading a class may find no mapping for its metadata.
        try {
            MappedRegion.allocate(Limits.UNMAPPABLE).close();
        } catch (SystemCallException expected) {
            expected.getMessage();
        }
        MappedRegion warmUp = MappedRegion.allocate(2 * page);
        warmUp.protect(page, page, Protection.NONE);
        io.github.mseal4j.internal.LibC.munmap(warmUp.address(), page);
        try {
            warmUp.protect(0, page, Protection.READ);
        } catch (SystemCallException expected) {
            expected.getMessage();
        }
        warmUp.close();
        long before = mappings();
        List<MappedRegion> regions = new ArrayList<>();
        SystemCallException failure = null;
        while (failure == null) {
            try {
                MappedRegion region = MappedRegion.allocate(2 * page);
                regions.add(region);
                region.protect(page, page, Protection.NONE);
            } catch (SystemCallException e) {
                failure = e;
            }
        }
        int made = regions.size();
        for (int i = 0; i < 1000 && !regions.isEmpty(); i++) {
            regions.removeLast().close();
        }
        long atLimit = mappings();
        System.out.println("regions before the limit: " + made);
        System.out.println("error: " + failure.getMessage());
        System.out.println("errno=" + failure.errnoName() + " operation=" + failure.operation());
        for (MappedRegion region : regions) {
            region.close();
        }
        System.out.println("closed all: mappings " + before + " before, " + atLimit + " with 1000 regions given back, "
            + mappings() + " after");
    }

    private static long mappings() throws Exception {
        try (var lines = Files.lines(Path.of("/proc/self/maps"))) {
            return lines.count();
        }
    }
}
