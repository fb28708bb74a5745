package io.github.mseal4j;

import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.Mman;
import io.github.mseal4j.testing.Descriptors;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Run in a child JVM by {@link ImmutableTest}: points an immutable region's memfd descriptor number at another,
 * unsealed memfd of the same name ({@code dup2}, as any code in the process can) before the region is frozen,
 * then freezes it and prints what happened. {@code args[0]}: {@code own} (the read-only map through the memfd's
 * own descriptor, as this kernel allows) or {@code read-only} (through a descriptor opened read-only, as kernels
 * that refuse the former need). Before the fix the freeze sealed and mapped the other file and reported the
 * region immutable, and the other file's writer could still change it.
 */
public final class DescriptorSwapChild {
    private DescriptorSwapChild() {
    }

    public static void main(String[] args) throws Exception {
        long page = Mseal.pageSize();
        MappedRegion region = MappedRegion.allocate(page, MappingOption.IMMUTABLE);
        Memfd.throughReadOnlyDescriptor = args[0].equals("read-only"); // after the probe, which sets it
        region.segment().setString(0, "GOOD data");
        int n = regionDescriptor();
        int evil = LibC.memfdCreate(Mman.MFD_CLOEXEC | Mman.MFD_ALLOW_SEALING); // named "mseal4j" too
        LibC.ftruncate(evil, page);
        long at = LibC.mmap(0, page, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, evil, 0);
        try (Arena arena = Arena.ofConfined()) {
            LibC.view(at, page, arena).setString(0, "EVIL data");
        }
        LibC.munmap(at, page);
        int keep = Descriptors.dup(n);
        int swapped = Descriptors.dup2(evil, n);
        System.out.println("swapped=" + (swapped == n));
        try {
            region.sealReadOnly();
            System.out.println("freeze: returned");
        } catch (RuntimeException e) {
            System.out.println("freeze: " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        System.out.println("isImmutable=" + region.isImmutable() + " isSealed=" + region.isSealed());
        int restored = Descriptors.dup2(keep, n);
        System.out.println("restored=" + (restored == n));
        try {
            MemorySegmentHolder.view = region.sealReadOnly();
            System.out.println("retry: returned, reads '" + MemorySegmentHolder.view.getString(0) + "', isImmutable="
                + region.isImmutable());
        } catch (RuntimeException e) {
            System.out.println("retry: " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    /** The descriptor whose link names the library's memfd: the only one open in this JVM. */
    private static int regionDescriptor() throws Exception {
        try (var entries = Files.list(Path.of("/proc/self/fd"))) {
            for (Path entry : entries.toList()) {
                try {
                    if (Files.readSymbolicLink(entry).toString().startsWith("/memfd:mseal4j")) {
                        return Integer.parseInt(entry.getFileName().toString());
                    }
                } catch (java.io.IOException gone) {
                    // the listing's own descriptor
                }
            }
        }
        throw new IllegalStateException("no memfd descriptor");
    }

    private static final class MemorySegmentHolder {
        static java.lang.foreign.MemorySegment view;
    }
}
