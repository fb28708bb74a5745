package io.github.mseal4j;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Run in a child JVM without native access by {@link FirstCallTest}: calls each type's first entry point and
 * prints, one line each, what it threw ({@code <entry>: <exception>: <message>}).
 */
public final class NoNativeAccessChild {
    private NoNativeAccessChild() {
    }

    public static void main(String[] args) {
        report("SealedMap.builder()", SealedMap::builder);
        report("SealedMap.copyOf", () -> SealedMap.copyOf(Map.of("k", "v")));
        report("SealedMap.copyOf(arena)", () -> SealedMap.copyOf(Map.of("k", "v"), Arena.ofAuto()));
        report("SealedSet.builder()", SealedSet::builder);
        report("SealedSet.copyOf", () -> SealedSet.copyOf(List.of("k")));
        report("SealedArena.create()", SealedArena::create);
        report("MappedRegion.allocate", () -> MappedRegion.allocate(4096));
        report("MappedRegion.allocate(options)", () -> MappedRegion.allocate(32, MappingOption.IMMUTABLE));
        report("Mseal.freeze(bytes)", () -> Mseal.freeze(new byte[32]));
        report("Mseal.freeze(empty)", () -> Mseal.freeze(new byte[0]));
        report("Mseal.freeze(bytes, arena)", () -> Mseal.freeze(new byte[32], Arena.ofAuto()));
        report("Mseal.freeze(path)", () -> Mseal.freeze(Path.of("/etc/hostname")));
        System.out.println("support: " + Mseal.support().status());
    }

    private static void report(String entry, Callable<?> call) {
        try {
            System.out.println(entry + ": returned " + call.call());
        } catch (Exception e) {
            System.out.println(entry + ": " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }
}
