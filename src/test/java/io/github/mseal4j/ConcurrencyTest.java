package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mseal4j.testing.ChildJvm;
import io.github.mseal4j.testing.Layout;
import io.github.mseal4j.testing.Limits;
import io.github.mseal4j.testing.ProcMem;
import io.github.mseal4j.testing.SealBudget;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Many threads, one library: every method is safe to call concurrently. */
class ConcurrencyTest {
    private static final long PAGE = Mseal.pageSize();
    private static final int THREADS = 8;

    /** A region a thread used, the random marker it wrote at each page, and whether its last page was sealed. */
    record Used(long address, int pages, long marker, boolean lastPageSealed) {
    }

    @Test
    void threadsCyclingTheirOwnRegionsLeaveOnlyTheSealedPagesBehind() throws InterruptedException {
        boolean seal = Mseal.isSupported();
        ConcurrentLinkedQueue<Used> used = new ConcurrentLinkedQueue<>();
        onThreads(THREADS, thread -> {
            for (int round = 0; round < 25; round++) {
                long marker = ThreadLocalRandom.current().nextLong() | 1;
                boolean sealLast = seal && round % 5 == 0;
                try (MappedRegion region = MappedRegion.allocate(3 * PAGE)) {
                    for (int page = 0; page < 3; page++) {
                        region.segment().set(ValueLayout.JAVA_LONG, page * PAGE, marker);
                    }
                    region.protect(0, PAGE, Protection.READ);
                    if (sealLast) {
                        region.seal(2 * PAGE, PAGE);
                    }
                    assertEquals(marker, region.segment().get(ValueLayout.JAVA_LONG, 2 * PAGE));
                    used.add(new Used(region.address(), 3, marker, sealLast));
                }
            }
        });
        assertEquals(THREADS * 25, used.size());
        for (Used region : used) {
            for (int page = 0; page < region.pages(); page++) {
                long address = region.address() + page * PAGE;
                Optional<Long> value = ProcMem.read(address, 8)
                    .map(bytes -> ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder()).getLong());
                boolean sealedPage = region.lastPageSealed() && page == 2;
                if (sealedPage) {
                    assertEquals(Optional.of(region.marker()), value, "the sealed page stays, intact");
                    assertTrue(Layout.read(address, 1, PAGE).page(0).sealed());
                } else {
                    // Unmapped, or reused by a later mapping: either way, not this region's page any more.
                    assertFalse(value.equals(Optional.of(region.marker())), "page " + page + " was unmapped");
                }
            }
        }
    }

    @Test
    void threadsProtectingAndSealingDifferentPagesOfOneRegionAtOnce() throws InterruptedException {
        assumeTrue(Mseal.isSupported(), Mseal.support().reason());
        MappedRegion region = MappedRegion.allocate(THREADS * PAGE);
        for (int page = 0; page < THREADS; page++) {
            region.segment().set(ValueLayout.JAVA_LONG, page * PAGE, page);
        }
        onThreads(THREADS, page -> {
            region.protect(page * PAGE, PAGE, page % 2 == 0 ? Protection.READ : Protection.READ_WRITE);
            region.seal(page * PAGE, PAGE);
            region.seal(page * PAGE, PAGE);
        });
        assertTrue(region.isSealed());
        region.close();
        Layout layout = Layout.read(region.address(), THREADS, PAGE);
        for (int page = 0; page < THREADS; page++) {
            assertEquals(page % 2 == 0 ? Protection.READ : Protection.READ_WRITE, layout.page(page).protection());
            assertTrue(layout.page(page).sealed());
        }
    }

    /**
     * Eight or more threads cycle allocate, write, protect, partial seal, a provoked failure and close, at once.
     * Half provoke EPERM (memory sealed behind the library's back, then re-protected), half ENOMEM (a mapping
     * larger than the address space): if errno were shared between threads, some failure would report the
     * other's errno.
     */
    @Test
    void everyFailureCarriesTheErrnoOfItsOwnCallAndNothingUnsealedIsLeft() throws Exception {
        assumeTrue(Mseal.isSupported(), Mseal.support().reason());
        int threads = Math.max(8, Runtime.getRuntime().availableProcessors() * 2);
        int rounds = 20;
        record Cycled(long address, long marker, boolean middleSealed) {
        }
        ConcurrentLinkedQueue<Cycled> cycled = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        long mappingsBefore = mappings();
        onThreads(threads, thread -> {
            for (int round = 0; round < rounds; round++) {
                long marker = ThreadLocalRandom.current().nextLong() | 1;
                try (MappedRegion region = MappedRegion.allocate(3 * PAGE)) {
                    for (int page = 0; page < 3; page++) {
                        region.segment().set(ValueLayout.JAVA_LONG, page * PAGE, marker);
                    }
                    region.protect(0, PAGE, Protection.READ);
                    region.seal(2 * PAGE, PAGE);
                    SystemCallException e;
                    if (thread % 2 == 0) {
                        assertEquals(0, io.github.mseal4j.internal.LibC.mseal(region.address() + PAGE, PAGE));
                        e = assertThrows(SystemCallException.class, () -> region.protect(PAGE, PAGE, Protection.NONE));
                        failures.add("mprotect " + e.errnoName());
                        assertEquals("EPERM", e.errnoName(), e.getMessage());
                        cycled.add(new Cycled(region.address(), marker, true));
                    } else {
                        e = assertThrows(SystemCallException.class, () -> MappedRegion.allocate(Limits.UNMAPPABLE));
                        failures.add("mmap " + e.errnoName());
                        assertEquals("ENOMEM", e.errnoName(), e.getMessage());
                        cycled.add(new Cycled(region.address(), marker, false));
                    }
                }
            }
        });
        assertEquals(threads * rounds, failures.size());
        for (Cycled region : cycled) {
            for (int page = 0; page < 3; page++) {
                long address = region.address() + page * PAGE;
                boolean sealedPage = page == 2 || page == 1 && region.middleSealed();
                Optional<Long> value = ProcMem.read(address, 8)
                    .map(bytes -> ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder()).getLong());
                if (sealedPage) {
                    assertEquals(Optional.of(region.marker()), value, "sealed pages stay");
                } else {
                    assertFalse(value.equals(Optional.of(region.marker())), "unsealed page " + page + " was unmapped");
                }
            }
        }
        // Counting /proc/self/maps: what remains is the sealed pages (two mappings at most per region).
        long sealedPages = cycled.stream().mapToLong(c -> c.middleSealed() ? 2 : 1).sum();
        long grown = mappings() - mappingsBefore;
        assertTrue(grown <= sealedPages + 32, "mappings grew by " + grown + " for " + sealedPages + " sealed pages");
    }

    private static long mappings() throws java.io.IOException {
        try (var lines = java.nio.file.Files.lines(java.nio.file.Path.of("/proc/self/maps"))) {
            return lines.count();
        }
    }

    @Test
    void segmentsRacingWithProtectAndCloseThrowInsteadOfCrashing() {
        ChildJvm.Result result = ChildJvm.runMain(List.of("--enable-native-access=ALL-UNNAMED"),
            RevocationRace.class, "3000");
        assertEquals(0, result.exitStatus(), result.transcript());
        Matcher counts = Pattern.compile("reads=(\\d+) writes=(\\d+) revoked=(\\d+)").matcher(result.stdout());
        assertTrue(counts.find(), result.transcript());
        assertTrue(Long.parseLong(counts.group(1)) > 0, "readers read: " + result.stdout());
        assertTrue(Long.parseLong(counts.group(2)) > 0, "writers wrote: " + result.stdout());
        assertTrue(Long.parseLong(counts.group(3)) > 0, "segments were revoked under the threads: " + result.stdout());
        assertFalse(result.stderr().contains("SIGSEGV"), result.transcript());
    }

    /** Something each of {@code count} threads does, given its number; it may throw. */
    interface Work {
        void run(int thread) throws Exception;
    }

    /** Runs {@code work} on {@code count} threads released at once; fails with every failure they met. */
    static void onThreads(int count, Work work) throws InterruptedException {
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < count; t++) {
            int number = t;
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                    work.run(number);
                } catch (Throwable e) {
                    failures.add(e);
                }
            }));
        }
        start.countDown();
        for (Thread thread : threads) {
            thread.join();
        }
        assertTrue(failures.isEmpty(), () -> "failures: " + failures);
    }

    @AfterAll
    static void stayWithinTheSealBudget() {
        SealBudget.check(ConcurrencyTest.class.getSimpleName());
    }
}
