package io.github.mseal4j.example;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mseal4j.Mseal;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The reload idiom: 1,000 reloads of a 2,000-host allow-list leave the process's mappings and shared memory as
 * they were (each version is immutable memory with an arena's lifetime), while every lookup answers from a
 * whole version.
 */
class ReloadingAllowListTest {
    private static final int HOSTS = 2_000;
    private static final int RELOADS = 1_000;

    @BeforeEach
    void requireImmutability() {
        assumeTrue(Mseal.immutability().available(), Mseal.immutability().reason());
    }

    @ParameterizedTest
    @ValueSource(strings = {"shared", "automatic"})
    void aThousandReloadsLeaveMemoryAndMappingsFlat(String variant, @TempDir Path directory) throws Exception {
        Path file = directory.resolve("allowed-hosts");
        write(file, 0);
        Function<Path, ReloadingAllowList> open = "shared".equals(variant) ? ReloadingAllowList::shared
            : ReloadingAllowList::automatic;
        try (ReloadingAllowList allowList = open.apply(file)) {
            long mappingsBefore = Proc.libraryMappings();
            long shmemBefore = Proc.shmemKib();
            for (int version = 1; version <= RELOADS; version++) {
                if (version % 100 == 0) {
                    write(file, version);
                }
                allowList.reload();
                assertTrue(allowList.isAllowed("host-" + (version / 100 * 100) + ".example"), "the newest version");
                assertFalse(allowList.isAllowed("host-" + (version / 100 * 100 + HOSTS) + ".example"));
            }
            if ("automatic".equals(variant)) {
                Proc.collectUntil(() -> Proc.libraryMappings() <= mappingsBefore);
            }
            long mappingsAfter = Proc.libraryMappings();
            long shmemAfter = Proc.shmemKib();
            System.out.printf("%s: %d reloads; library mappings %d -> %d; RssShmem %d -> %d KiB%n", variant, RELOADS,
                mappingsBefore, mappingsAfter, shmemBefore, shmemAfter);
            assertEquals(mappingsBefore, mappingsAfter, "one version mapped, before and after");
            // One version of 2,000 hosts takes about 130 KiB; a leak of 1,000 versions would take about 130 MiB.
            assertTrue(shmemAfter - shmemBefore < 4 * 1024, "shared memory flat: " + shmemBefore + " -> " + shmemAfter
                + " KiB");
        }
    }

    /** Hosts {@code first} to {@code first + HOSTS - 1}. */
    private static void write(Path file, int first) throws IOException {
        List<String> lines = new ArrayList<>(List.of("# allowed hosts, version " + first));
        for (int i = first; i < first + HOSTS; i++) {
            lines.add("host-" + i + ".example");
        }
        Path next = file.resolveSibling(file.getFileName() + ".next");
        Files.write(next, lines);
        Files.move(next, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    /** What the kernel says about this process. */
    private static final class Proc {
        static long libraryMappings() throws IOException {
            try (var lines = Files.lines(Path.of("/proc/self/maps"))) {
                return lines.filter(line -> line.endsWith("/memfd:mseal4j (deleted)") || line.endsWith("/memfd:mseal4j"))
                    .count();
            }
        }

        static long shmemKib() throws IOException {
            try (var lines = Files.lines(Path.of("/proc/self/status"))) {
                return lines.filter(line -> line.startsWith("RssShmem:"))
                    .mapToLong(line -> Long.parseLong(line.replaceAll("[^0-9]", ""))).findFirst().orElseThrow();
            }
        }

        /** Runs the collector until {@code done} holds (at most 500 times): automatic arenas are freed by it. */
        static void collectUntil(java.util.concurrent.Callable<Boolean> done) throws Exception {
            for (int attempt = 0; attempt < 500 && !done.call(); attempt++) {
                System.gc();
                Thread.onSpinWait();
            }
        }
    }
}
