package io.github.mseal4j;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Run in a child JVM by {@link ImmutableTest}: reader threads read immutable regions through segments while
 * the main thread freezes them one after another. Freezing swaps the mapping for an inaccessible placeholder
 * before mapping the file back read-only: a read that reached the placeholder would kill this JVM with
 * SIGSEGV. Prints what happened; exit status 0 when it lived and every value read was right.
 */
public final class FreezeRace {
    private FreezeRace() {
    }

    public static void main(String[] args) throws InterruptedException {
        int regions = Integer.parseInt(args[0]);
        long page = Mseal.pageSize();
        AtomicReference<MappedRegion> current = new AtomicReference<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong reads = new AtomicLong();
        AtomicLong revoked = new AtomicLong();
        AtomicLong wrong = new AtomicLong();
        List<Thread> readers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            readers.add(Thread.ofPlatform().start(() -> {
                MemorySegment held = null;
                while (!stop.get()) {
                    try {
                        if (held == null) {
                            MappedRegion region = current.get();
                            if (region == null) {
                                continue;
                            }
                            held = region.segment();
                        }
                        for (long offset = 0; offset < held.byteSize(); offset += 512) {
                            if (held.get(ValueLayout.JAVA_LONG, offset) != offset) {
                                wrong.incrementAndGet();
                            }
                        }
                        reads.incrementAndGet();
                    } catch (IllegalStateException e) {
                        held = null; // revoked by the freeze, or the region was closed: take a fresh one
                        revoked.incrementAndGet();
                    }
                }
            }));
        }
        for (int i = 0; i < regions; i++) {
            MappedRegion region = MappedRegion.allocate(2 * page, MappingOption.IMMUTABLE);
            MemorySegment writable = region.segment();
            for (long offset = 0; offset < writable.byteSize(); offset += 8) {
                writable.set(ValueLayout.JAVA_LONG, offset, offset & ~511L);
            }
            current.set(region);
            long before = reads.get();
            while (reads.get() < before + 3) {
                Thread.onSpinWait(); // let the readers hold segments of this region before it is frozen
            }
            region.sealReadOnly();
        }
        stop.set(true);
        for (Thread reader : readers) {
            reader.join();
        }
        System.out.println("regions=" + regions + " reads=" + reads.get() + " revoked=" + revoked.get() + " wrong="
            + wrong.get());
    }
}
