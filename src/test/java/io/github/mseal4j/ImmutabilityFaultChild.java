package io.github.mseal4j;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.internal.Mman;
import io.github.mseal4j.internal.Smaps;
import io.github.mseal4j.testing.AddressSpace;
import io.github.mseal4j.testing.Seccomp;
import io.github.mseal4j.testing.Seccomp.Call;
import io.github.mseal4j.testing.Seccomp.Rule;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Run in a child JVM by {@link ImmutabilityFaultTest}: a seccomp filter answers {@code memfd_create} or
 * {@code fcntl(F_ADD_SEALS)} with an errno, installed before the immutability probe ({@code args[1]} =
 * {@code before}) or after it ({@code after}). Prints the verdict and what each way of asking for immutable
 * memory did, and the descriptors and address space around each failure.
 */
public final class ImmutabilityFaultChild {
    private ImmutabilityFaultChild() {
    }

    public static void main(String[] args) throws Exception {
        // The final read-only map of a freeze: mmap(PROT_READ, MAP_SHARED|MAP_FIXED[|MAP_POPULATE], memfd), refused
        // as Linux before 6.7 and 6.12.0-6.12.8 refuse it through a read-write descriptor. The library's read-only
        // reopen of /proc/self/fd/N is told from the JVM's own opens by its flags.
        Rule finalMap = Rule.denyWhen(Call.MMAP, 2, Mman.PROT_READ, 3, Mman.MAP_SHARED | Mman.MAP_FIXED, Errno.EPERM);
        Rule finalMapPopulated = Rule.denyWhen(Call.MMAP, 2, Mman.PROT_READ, 3,
            Mman.MAP_SHARED | Mman.MAP_FIXED | Mman.MAP_POPULATE, Errno.EPERM);
        Rule noProc = Rule.denyWhen(Call.OPENAT, 2, Memfd.READ_ONLY_FLAGS, Errno.ENOENT);
        Rule[] rules = switch (args[0]) {
            case "memfd-EPERM" -> new Rule[] {Rule.deny(Call.MEMFD_CREATE, Errno.EPERM)};
            case "memfd-ENOSYS" -> new Rule[] {Rule.deny(Call.MEMFD_CREATE, Errno.ENOSYS)};
            case "seals-EINVAL" -> new Rule[] {Rule.denyWhen(Call.FCNTL, 1, 1033 /* F_ADD_SEALS */, Errno.EINVAL)};
            case "final-map-EPERM" -> new Rule[] {finalMap, finalMapPopulated};
            case "no-proc" -> new Rule[] {noProc};
            case "no-proc-final-map-EPERM" -> new Rule[] {noProc, finalMap, finalMapPopulated};
            default -> throw new IllegalArgumentException(args[0]);
        };
        long page = Mseal.pageSize();
        System.out.println("mseal=" + Mseal.support().status());
        if (args[1].equals("before")) {
            Seccomp.install(rules);
            System.out.println("verdict=" + Mseal.immutability().status() + ": " + Mseal.immutability().reason());
            report("explicit", () -> {
                MappedRegion region = MappedRegion.allocate(page, MappingOption.IMMUTABLE);
                region.segment().set(ValueLayout.JAVA_INT, 0, 7);
                region.sealReadOnly();
                // A read-only descriptor's mapping never has VM_SHARED ("sh"); the read-write one's keeps it.
                boolean sh = Smaps.read(region.address(), region.address() + 1).getFirst().flags().contains("sh");
                return "ok, isSealed=" + region.isSealed() + ", isImmutable=" + region.isImmutable() + ", sh=" + sh;
            });
            report("freeze", () -> {
                var frozen = Mseal.freeze(new byte[] {1, 2, 3});
                return "ok, bytes=" + frozen.byteSize();
            });
            report("arena", () -> {
                try (SealedArena arena = SealedArena.create()) {
                    arena.allocate(8, 8);
                    arena.seal();
                    return "ok, isSealed=" + arena.isSealed() + ", isImmutable=" + arena.isImmutable();
                }
            });
            report("map", () -> {
                SealedMap map = SealedMap.copyOf(Map.of("k", "v"));
                return "ok, get=" + map.get("k") + ", isImmutable=" + map.isImmutable();
            });
        } else {
            System.out.println("verdict=" + Mseal.immutability().status());
            // What the failures will need exists before counting: loaded classes, the filter's memory.
            SealedMap.copyOf(Map.of("warm", "up"));
            report("warm-up", () -> "ok");
            Seccomp.install(rules);
            // The first failure of each kind loads what reporting it takes (exception classes, messages, the
            // JFR check) and may make the JVM map memory for that: not the library's. Counted from the second.
            try {
                MappedRegion first = MappedRegion.allocate(page, MappingOption.IMMUTABLE);
                try {
                    first.sealReadOnly();
                } catch (RuntimeException expected) {
                    first.close();
                }
            } catch (RuntimeException expected) {
                // memfd_create refused
            }
            report("allocate after", () -> {
                MappedRegion another = MappedRegion.allocate(page, MappingOption.IMMUTABLE);
                another.close();
                return "ok";
            });
            if (!args[0].startsWith("seals") && !args[0].startsWith("final-map")) {
                return;
            }
            long fds = fds();
            AddressSpace mapped = AddressSpace.now();
            MappedRegion region = MappedRegion.allocate(page, MappingOption.IMMUTABLE);
            region.segment().set(ValueLayout.JAVA_INT, 0, 42);
            report("freeze after", () -> {
                region.sealReadOnly();
                return "ok";
            });
            report("freeze again", () -> {
                region.sealReadOnly();
                return "ok";
            });
            System.out.println("region after: maps=" + AddressSpace.permissions(region.address()) + ", value="
                + region.segment().get(ValueLayout.JAVA_INT, 0) + ", writable="
                + !region.segment().isReadOnly() + ", isImmutable=" + region.isImmutable());
            region.close();
            System.out.println("closed: fds " + fds + " -> " + fds() + ", new address space: "
                + AddressSpace.now().newSince(mapped));
        }
    }

    private static void report(String what, Supplier<String> action) throws Exception {
        long fds = fds();
        AddressSpace mapped = AddressSpace.now();
        String outcome;
        try {
            outcome = action.get();
        } catch (RuntimeException e) {
            outcome = e.getClass().getSimpleName() + ": " + e.getMessage() + " (fds " + fds + " -> " + fds()
                + ", new address space: " + AddressSpace.now().newSince(mapped) + ")";
        }
        System.out.println(what + ": " + outcome);
    }

    private static long fds() throws Exception {
        try (var entries = Files.list(Path.of("/proc/self/fd"))) {
            return entries.count() - 1; // less the one this listing opens
        }
    }


}
