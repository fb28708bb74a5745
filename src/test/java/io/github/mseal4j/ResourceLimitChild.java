package io.github.mseal4j;

import io.github.mseal4j.testing.Limits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * Run in a child JVM by {@link ResourceLimitTest}, under a lowered limit: {@code fsize} ({@code ulimit -f},
 * which a memfd counts against) or {@code as} ({@code ulimit -v}). Prints what each allocation answers.
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
            }
            case "as" -> {
                long mapped = Long.parseLong(Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .filter(line -> line.startsWith("VmSize:")).findFirst().orElseThrow()
                    .replaceAll("[^0-9]", "")) * 1024;
                Limits.limitAddressSpace(mapped + 64 * mib);
                report("region 128 MiB", () -> MappedRegion.allocate(128 * mib));
                report("arena", () -> SealedArena.create().allocate(16));
            }
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    private static void report(String what, Callable<Object> action) {
        try {
            System.out.println(what + ": returned " + action.call());
        } catch (Exception e) {
            System.out.println(what + ": " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }
}
