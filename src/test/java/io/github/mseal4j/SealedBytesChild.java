package io.github.mseal4j;

import io.github.mseal4j.internal.Smaps;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Run in a child JVM by {@link SealedBytesTest}, which sets the budget property as each mode needs (it is read
 * once per process), and keeps what it seals out of the test JVM. Prints {@code <mode>: ok} and exits 0 when
 * every check holds.
 */
public final class SealedBytesChild {
    private static final long PAGE = Mseal.pageSize();

    private SealedBytesChild() {
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "budget" -> budget();
            case "invalid" -> invalid();
            case "unreachable" -> unreachable();
            case "warning" -> warning();
            default -> throw new IllegalArgumentException(args[0]);
        }
        System.out.println(args[0] + ": ok");
    }

    /**
     * With a budget of 16 pages ({@code -Dio.github.mseal4j.maxSealedBytes=16 pages}): what fits is sealed; a
     * seal, freeze or build that would pass it is refused with nothing changed; memory with an arena's lifetime
     * is never counted.
     */
    private static void budget() {
        Mseal.freeze(new byte[(int) (8 * PAGE)]);
        check(SealCounters.bytes() == 8 * PAGE, "8 pages sealed: " + SealCounters.bytes());

        refused(() -> Mseal.freeze(new byte[(int) (12 * PAGE)]), "a freeze");

        MappedRegion region = MappedRegion.allocate(12 * PAGE);
        region.segment().set(ValueLayout.JAVA_LONG, 0, 42L);
        refused(() -> {
            region.seal();
            return null;
        }, "a region's seal");
        refused(region::sealReadOnly, "a region's sealReadOnly");
        check(!region.isSealed(), "the region is not sealed");
        region.segment().set(ValueLayout.JAVA_LONG, 8, 43L); // still writable
        check(region.segment().get(ValueLayout.JAVA_LONG, 0) == 42L, "and holds its data");
        region.seal(0, 4 * PAGE); // what fits: 4 pages, 12 sealed in all
        region.close();

        SealedArena arena = SealedArena.create();
        MemorySegment key = arena.allocate(6 * PAGE);
        key.set(ValueLayout.JAVA_BYTE, 0, (byte) 7);
        refused(() -> {
            arena.seal();
            return null;
        }, "an arena's seal");
        check(key.get(ValueLayout.JAVA_BYTE, 0) == 7, "the arena is still building: its segments work");
        arena.allocate(16).set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
        arena.close();

        SealedMap.Builder builder = SealedMap.builder().put("large", "v".repeat((int) (6 * PAGE)));
        refused(builder::build, "a map's build");
        try (Arena lifetime = Arena.ofConfined()) {
            check(builder.build(lifetime).get("large").length() == 6 * PAGE, "the builder was left as it was, and an"
                + " arena's map is not counted");
            check(Mseal.freeze(new byte[(int) (64 * PAGE)], lifetime).byteSize() == 64 * PAGE,
                "an arena's freeze is not counted");
        }

        Mseal.freeze(new byte[(int) (4 * PAGE)]); // exactly to the budget
        check(SealCounters.bytes() == 16 * PAGE, "16 pages sealed: " + SealCounters.bytes());
        refused(() -> Mseal.freeze(new byte[1]), "one byte more");
    }

    /** Each refusal: an IllegalStateException naming the property, its value and what is sealed now; no change. */
    private static void refused(Supplier<?> operation, String what) {
        long sealed = SealCounters.bytes();
        long sealedMappings = sealedMappings();
        try {
            operation.get();
        } catch (IllegalStateException e) {
            String message = e.getMessage();
            check(message.contains("-Dio.github.mseal4j.maxSealedBytes=" + System.getProperty(
                SealCounters.BUDGET_PROPERTY)) && message.contains(sealed + " bytes are sealed now")
                && message.contains("Arena"), what + ": the message names the property, its value, what is sealed and"
                + " the remedy: " + message);
            check(SealCounters.bytes() == sealed && sealedMappings() == sealedMappings, what + ": nothing sealed");
            return;
        }
        throw new AssertionError(what + " was not refused");
    }

    /** A budget that is not a size is refused at the first seal, naming the property; arena memory still works. */
    private static void invalid() {
        try {
            Mseal.freeze(new byte[1]);
            throw new AssertionError("an invalid budget was accepted");
        } catch (IllegalArgumentException e) {
            check(e.getMessage().contains("-D" + SealCounters.BUDGET_PROPERTY + "=64 megabytes is not a size"),
                "names the property and echoes its value: " + e.getMessage());
        }
        try (Arena arena = Arena.ofConfined()) {
            Mseal.freeze(new byte[1], arena);
        }
    }

    /**
     * Sealed bytes count as unreachable once nothing refers to their map, region or frozen copy, nor to a segment
     * over them; and not before.
     */
    private static void unreachable() throws InterruptedException {
        SealedMap kept = SealedMap.copyOf(Map.of("kept", "yes"));
        MemorySegment keptValue = SealedMap.copyOf(Map.of("value", "kept through its segment"))
            .get("value".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        MappedRegion keptRegion = MappedRegion.allocate(PAGE);
        keptRegion.seal();
        long dropped = droppedMapAndFreeze();
        check(dropped >= 3 * PAGE, "dropped " + dropped);
        long counted = awaitUnreachable(dropped);
        check(counted == dropped, "unreachable " + counted + " bytes, exactly the dropped " + dropped);
        check(Mseal.statistics().unreachableSealedBytes() == dropped, "as statistics() says");
        check("yes".equals(kept.get("kept")) && keptValue.byteSize() > 0 && keptRegion.isSealed(), "kept");
        long more = SealCounters.bytes() - dropped;
        kept = null;
        keptValue = null;
        keptRegion = null;
        counted = awaitUnreachable(dropped + more);
        check(counted == dropped + more, "once dropped, the rest counts too: " + counted + " of " + (dropped + more));
    }

    /** Seals a map of two pages and a frozen copy of one page, drops both; returns their sealed bytes. */
    private static long droppedMapAndFreeze() {
        long before = SealCounters.bytes();
        SealedMap.copyOf(Map.of("big", "b".repeat((int) PAGE)));
        Mseal.freeze(new byte[100]);
        return SealCounters.bytes() - before;
    }

    /** Runs the collector until the unreachable count reaches {@code expected} (or 100 collections pass). */
    private static long awaitUnreachable(long expected) throws InterruptedException {
        long seen = SealCounters.unreachable();
        for (int attempt = 0; attempt < 100 && seen < expected; attempt++) {
            System.gc();
            seen = SealCounters.awaitUnreachable(50);
        }
        return seen;
    }

    /** Past 64 MiB unreachable: one warning naming the arena variants, and a JFR event. */
    private static void warning() throws Exception {
        try (jdk.jfr.Recording recording = new jdk.jfr.Recording()) {
            recording.enable("io.github.mseal4j.UnreachableSealedMemory");
            recording.start();
            for (int i = 0; i < 2; i++) {
                Mseal.freeze(new byte[33 << 20]); // dropped at once
            }
            long counted = awaitUnreachable(66L << 20);
            check(counted >= 64L << 20, "unreachable " + counted);
            Mseal.freeze(new byte[1]);
            awaitUnreachable(counted + PAGE);
            recording.stop();
            java.nio.file.Path dump = java.nio.file.Files.createTempFile("unreachable", ".jfr");
            recording.dump(dump);
            long events = jdk.jfr.consumer.RecordingFile.readAllEvents(dump).stream()
                .filter(event -> event.getEventType().getName().equals("io.github.mseal4j.UnreachableSealedMemory"))
                .count();
            java.nio.file.Files.delete(dump);
            check(events >= 2, "a JFR event for each owner found unreachable: " + events);
        }
    }

    private static long sealedMappings() {
        return Smaps.read(0, Long.MAX_VALUE).stream().filter(Smaps.Vma::sealed).count();
    }

    private static void check(boolean holds, String what) {
        if (!holds) {
            throw new AssertionError(what);
        }
    }
}
