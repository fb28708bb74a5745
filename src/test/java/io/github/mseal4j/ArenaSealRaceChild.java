package io.github.mseal4j;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.testing.Seccomp;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Run in a child JVM by {@link SealedArenaTest}: a thread claims its bytes in an arena and is held there by the
 * arena's test observer while two seals fail (a seccomp filter refuses the mseal of one page, after the views
 * were invalidated and the memory made read-only, so each seal goes back to building); then it is let go.
 * Prints each seal's failure and what the allocation got, with how often it found its view invalidated.
 */
public final class ArenaSealRaceChild {
    private ArenaSealRaceChild() {
    }

    public static void main(String[] args) throws Exception {
        long page = Mseal.pageSize();
        SealedArena arena = SealedArena.createAnonymous(16 * page);
        arena.allocate(16, 8);
        CountDownLatch claimed = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger retries = new AtomicInteger(-1);
        CompletableFuture<MemorySegment> allocation = new CompletableFuture<>();
        Thread held = new Thread(() -> {
            try {
                allocation.complete(arena.allocate(8, 8));
            } catch (Throwable t) {
                allocation.completeExceptionally(t);
            }
        });
        SealedArena.allocationObserver = () -> {
            if (Thread.currentThread() != held) {
                return;
            }
            if (retries.incrementAndGet() == 0) {
                claimed.countDown(); // claimed; now held until the seals have failed
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            } else if (retries.get() > 10) {
                throw new IllegalStateException("the allocation keeps finding its view invalidated");
            }
        };
        held.start();
        claimed.await();
        Seccomp.install(Seccomp.Rule.denyWhen(Seccomp.Call.MSEAL, 1, page, Errno.EPERM));
        for (int i = 0; i < 2; i++) {
            try {
                arena.seal();
                System.out.println("seal: returned");
            } catch (RuntimeException e) {
                System.out.println("seal: " + e.getClass().getSimpleName() + ": " + e.getMessage());
            }
        }
        release.countDown();
        try {
            MemorySegment segment = allocation.get();
            segment.set(ValueLayout.JAVA_LONG, 0, 42L);
            System.out.println("allocation: " + (segment.scope().isAlive() ? "valid" : "invalid") + ", retries="
                + retries.get() + ", value=" + segment.get(ValueLayout.JAVA_LONG, 0));
        } catch (Exception e) {
            System.out.println("allocation: " + e.getCause());
        }
    }
}
