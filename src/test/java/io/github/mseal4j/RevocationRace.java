package io.github.mseal4j;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Run in a child JVM by {@link ConcurrencyTest}: threads read and write a region through its segments while
 * another thread keeps taking write and read access away and giving it back, then closes the region. If the
 * library ever changed a protection before revoking the segments that relied on it, a write would hit a
 * read-only page and this JVM would die with SIGSEGV. Prints what happened; exit status 0 when it lived.
 */
public final class RevocationRace {
    private RevocationRace() {
    }

    public static void main(String[] args) throws InterruptedException {
        int rounds = Integer.parseInt(args[0]);
        long page = Mseal.pageSize();
        MappedRegion region = MappedRegion.allocate(4 * page);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong reads = new AtomicLong();
        AtomicLong writes = new AtomicLong();
        AtomicLong revoked = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            threads.add(Thread.ofPlatform().start(() -> {
                while (!stop.get()) {
                    try {
                        MemorySegment segment = region.segment();
                        long sum = 0;
                        for (long offset = 0; offset < segment.byteSize(); offset += page) {
                            sum += segment.get(ValueLayout.JAVA_LONG, offset);
                        }
                        reads.addAndGet(1 + (sum & 0));
                    } catch (IllegalStateException e) {
                        revoked.incrementAndGet();
                    }
                }
            }));
        }
        for (int i = 0; i < 2; i++) {
            threads.add(Thread.ofPlatform().start(() -> {
                MemorySegment held = null;
                while (!stop.get()) {
                    try {
                        if (held == null) {
                            MemorySegment fresh = region.segment();
                            held = fresh.isReadOnly() ? null : fresh;
                            continue;
                        }
                        // Keep writing through a segment obtained earlier: it must stop working, not crash.
                        long offset = ThreadLocalRandom.current().nextLong(4) * page;
                        held.set(ValueLayout.JAVA_LONG, offset, offset);
                        writes.incrementAndGet();
                    } catch (IllegalStateException e) {
                        held = null;
                        revoked.incrementAndGet();
                    }
                }
            }));
        }
        while (reads.get() == 0 || writes.get() == 0) {
            Thread.onSpinWait(); // on two busy CPUs the threads may not have run yet: the race needs them all
        }
        for (int round = 0; round < rounds; round++) {
            region.protect(Protection.READ);
            region.protect(Protection.READ_WRITE);
            if (round % 10 == 0) {
                region.protect(page, page, Protection.NONE);
                region.protect(page, page, Protection.READ_WRITE);
            }
        }
        region.close();
        long revokedBeforeClose = revoked.get();
        while (revoked.get() == revokedBeforeClose) {
            Thread.onSpinWait(); // a reader is refused by the closed region before the threads stop
        }
        stop.set(true);
        for (Thread thread : threads) {
            thread.join();
        }
        System.out.println("reads=" + reads.get() + " writes=" + writes.get() + " revoked=" + revoked.get());
    }
}
