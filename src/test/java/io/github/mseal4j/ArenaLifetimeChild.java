package io.github.mseal4j;

import io.github.mseal4j.internal.Smaps;
import io.github.mseal4j.testing.ProcMem;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Run in a child JVM by {@link ArenaLifetimeTest}, for what must never run in the test JVM: writing this
 * process's memory through {@code /proc/self/mem} (were the library wrong, it would change memory), and many
 * threads reading maps whose arenas close under them (were it wrong, the JVM would crash). Prints
 * {@code <mode>: ok} and exits 0 when every check holds; anything else is a failure.
 */
public final class ArenaLifetimeChild {
    private static final int READERS = 4;

    private ArenaLifetimeChild() {
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "procmem" -> procSelfMem();
            case "race" -> lookupsRacingClose();
            case "reloadable" -> reloads();
            default -> throw new IllegalArgumentException(args[0]);
        }
        System.out.println(args[0] + ": ok");
    }

    /** A write through {@code /proc/self/mem} to an arena's frozen copy and map is refused (EIO), and changes nothing. */
    private static void procSelfMem() {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment frozen = Mseal.freeze("an arena's frozen key".getBytes(StandardCharsets.US_ASCII), arena);
            SealedMap map = SealedMap.copyOf(Map.of("role", "reader"), arena);
            check(!frozen.scope().equals(Arena.global().scope()) && !map.isSealed(), "not sealed");
            refused(frozen.address(), "frozen copy");
            refused(map.memory().address() + map.memory().byteSize() - 64, "map");
            check(new String(frozen.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII)
                .equals("an arena's frozen key"), "the frozen copy is unchanged");
            check("reader".equals(map.get("role")), "the map is unchanged");
        }
    }

    private static void refused(long address, String what) {
        try {
            ProcMem.write(address, "FORGED".getBytes(StandardCharsets.US_ASCII));
        } catch (UncheckedIOException e) {
            check(e.getCause().getMessage().contains("Input/output error"), what + ": refused with EIO, got " + e);
            return;
        }
        throw new AssertionError("a /proc/self/mem write to the arena's " + what + " went through");
    }

    /**
     * Readers look up, without pause, in the generation they hold until its arena closes under them; the main
     * thread makes each generation, waits until every reader is in it (the arrangement: each close then races
     * lookups in progress), and closes it. Every lookup answers right or throws IllegalStateException; each
     * reader meets every close.
     */
    private static void lookupsRacingClose() throws Exception {
        int generations = 40;
        Map<String, String> source = new HashMap<>();
        for (int i = 0; i < 2_000; i++) {
            source.put("key-" + i, "value-" + i + "-" + "x".repeat(i % 40));
        }
        AtomicReference<SealedMap> current = new AtomicReference<>();
        AtomicLong wrong = new AtomicLong();
        AtomicLong closesMet = new AtomicLong();
        AtomicLong lookups = new AtomicLong();
        CountDownLatch[] entered = new CountDownLatch[generations];
        for (int g = 0; g < generations; g++) {
            entered[g] = new CountDownLatch(READERS);
        }
        List<Thread> readers = new ArrayList<>();
        for (int r = 0; r < READERS; r++) {
            int seed = r;
            Thread reader = new Thread(() -> {
                SealedMap held = null;
                for (int g = 0; g < generations; g++) {
                    SealedMap map;
                    while ((map = current.get()) == held || map == null) {
                        Thread.onSpinWait();
                    }
                    held = map;
                    entered[g].countDown();
                    long done = 0;
                    try {
                        for (int i = seed; ; i = (i + 7) % 2_100) {
                            String key = "key-" + i;
                            String expected = source.get(key);
                            if (!java.util.Objects.equals(expected, map.get(key))
                                    || map.containsKey(key) != (expected != null)) {
                                wrong.incrementAndGet();
                            }
                            MemorySegment value = map.get(key.getBytes(StandardCharsets.US_ASCII));
                            if (expected != null && !expected.equals(new String(value.toArray(ValueLayout.JAVA_BYTE),
                                    StandardCharsets.UTF_8))) {
                                wrong.incrementAndGet();
                            }
                            done++;
                        }
                    } catch (IllegalStateException closed) {
                        closesMet.incrementAndGet();
                    }
                    lookups.addAndGet(done);
                }
            });
            reader.start();
            readers.add(reader);
        }
        for (int g = 0; g < generations; g++) {
            Arena arena = Arena.ofShared();
            current.set(SealedMap.copyOf(source, arena));
            entered[g].await();
            arena.close();
        }
        for (Thread reader : readers) {
            reader.join();
        }
        check(wrong.get() == 0, wrong.get() + " lookups answered wrong");
        check(closesMet.get() == (long) generations * READERS, "every reader met every close: " + closesMet);
        check(memfdMappings() == 0, "every generation unmapped");
        System.out.println("lookups=" + lookups.get() + " closes=" + closesMet.get());
    }

    /**
     * Readers read through a {@link Reloadable} without pause while the main thread reloads it 300 times: no read
     * ever fails or answers wrong, and only the current generation stays mapped.
     */
    private static void reloads() throws Exception {
        AtomicLong version = new AtomicLong();
        Reloadable<SealedMap> config = Reloadable.of(arena -> SealedMap.copyOf(
            Map.of("version", String.valueOf(version.incrementAndGet()), "mode", "strict"), arena));
        AtomicLong failures = new AtomicLong();
        AtomicLong reads = new AtomicLong();
        AtomicLong stop = new AtomicLong();
        List<Thread> readers = new ArrayList<>();
        for (int r = 0; r < READERS; r++) {
            Thread reader = new Thread(() -> {
                long last = 0;
                while (stop.get() == 0) {
                    try {
                        long seen = config.read(map -> {
                            check("strict".equals(map.get("mode")), "the map answers");
                            return Long.parseLong(map.get("version"));
                        });
                        if (seen < last) {
                            failures.incrementAndGet(); // generations only move forward
                        }
                        last = seen;
                        reads.incrementAndGet();
                    } catch (RuntimeException | AssertionError e) {
                        failures.incrementAndGet();
                        e.printStackTrace();
                    }
                }
            });
            reader.start();
            readers.add(reader);
        }
        for (int i = 0; i < 300; i++) {
            config.reload();
        }
        stop.set(1);
        for (Thread reader : readers) {
            reader.join();
        }
        check(failures.get() == 0, failures.get() + " reads failed");
        check(config.generation() == 301, "301 generations: " + config.generation());
        check(memfdMappings() == 1, "only the current generation is mapped: "
            + memfdMappings());
        config.close();
        check(memfdMappings() == 0, "none once closed");
        System.out.println("reads=" + reads.get());
    }

    private static void check(boolean holds, String what) {
        if (!holds) {
            throw new AssertionError(what);
        }
    }

    /** The library's memfd mappings in this process. */
    private static long memfdMappings() {
        return Smaps.read(0, Long.MAX_VALUE).stream().filter(vma -> vma.path().equals(Smaps.MEMFD_PATH)).count();
    }
}
