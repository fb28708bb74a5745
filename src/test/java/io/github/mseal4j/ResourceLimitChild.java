package io.github.mseal4j;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.testing.Limits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * Run in a child JVM by {@link ResourceLimitTest}, under a lowered limit: {@code fsize} ({@code ulimit -f},
 * which a memfd counts against), {@code as} ({@code ulimit -v}; {@code as-huge}: one above 2^63 bytes) or
 * {@code data} ({@code ulimit -d}). Prints what each allocation answers.
 */
public final class ResourceLimitChild {
    private ResourceLimitChild() {
    }

    public static void main(String[] args) throws Exception {
        long mib = 1L << 20;
        switch (args[0]) {
            case "fsize" -> {
                Limits.limitFileSize(mib);
                report("region IMMUTABLE 2 MiB", () -> MappedRegion.allocate(2 * mib, MappingOption.IMMUTABLE));
                report("arena", () -> SealedArena.create().allocate(16));
                report("arena of 5 MiB chunks", () -> SealedArena.create(5 * mib).allocate(16));
            }
            case "fsize-zero" -> {
                Limits.limitFileSize(0);
                System.out.println("immutability: " + Mseal.immutability());
            }
            case "as" -> {
                Limits.limitAddressSpace(status("VmSize:") + 64 * mib);
                report("region 128 MiB", () -> MappedRegion.allocate(128 * mib));
                report("region 2^47 - 1 MiB", () -> MappedRegion.allocate((1L << 47) - mib)); // fits no hole
                report("arena", () -> SealedArena.create().allocate(16));
                // A MAP_FIXED mapping replaces address space: the limit alone cannot be what refused it.
                System.out.println("fixed: " + Errno.remedy("mmap", Errno.ENOMEM, 128 * mib,
                    "PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED|MAP_NORESERVE"));
            }
            case "as-huge" -> {
                // A soft limit above 2^63 bytes (ulimit -v of 2^53 KiB or more): /proc prints it unsigned.
                Limits.limitAddressSpace(Long.MIN_VALUE);
                report("region 2^47", () -> MappedRegion.allocate(1L << 47));
            }
            case "data-zero" -> {
                // A soft limit of 0 under a higher hard one, which the kernel lets pass (as some programs set it).
                Limits.limitData(0);
                report("region 1 MiB", () -> MappedRegion.allocate(mib).byteSize());
                report("region 2^47", () -> MappedRegion.allocate(1L << 47));
            }
            case "data" -> {
                // Room for the JVM's own threads (a compiler thread's malloc arena took 16 MiB of room in one run
                // in five, and the JVM died), and not for the region.
                Limits.limitData(status("VmData:") + 40 * mib);
                report("region 64 MiB", () -> MappedRegion.allocate(64 * mib));
            }
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    /** A {@code kB} line of {@code /proc/self/status}, in bytes. */
    private static long status(String field) throws java.io.IOException {
        return Long.parseLong(Files.readAllLines(Path.of("/proc/self/status")).stream()
            .filter(line -> line.startsWith(field)).findFirst().orElseThrow().replaceAll("[^0-9]", "")) * 1024;
    }

    private static void report(String what, Callable<Object> action) {
        try {
            System.out.println(what + ": returned " + action.call());
        } catch (Exception e) {
            System.out.println(what + ": " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }
}
