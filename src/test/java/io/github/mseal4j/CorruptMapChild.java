package io.github.mseal4j;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.testing.ProcMem;
import io.github.mseal4j.testing.Seccomp;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Run in a child JVM by {@link CorruptMapTest}: a map on ordinary memory (memfd_create refused by a seccomp
 * filter, so it is not immutable) has every slot of its table overwritten through {@code /proc/self/mem}, as any
 * code in the process can do to such memory; then every kind of lookup is made and its outcome printed. A
 * lookup that probed for ever would never print, and the parent's wait would end the child.
 */
public final class CorruptMapChild {
    private CorruptMapChild() {
    }

    public static void main(String[] args) {
        Seccomp.install(Seccomp.Rule.deny(Seccomp.Call.MEMFD_CREATE, Errno.EPERM));
        SealedMap map = SealedMap.copyOf(Map.of("api.example.com", "443", "db.example.com", "5432"));
        System.out.println("immutable=" + map.isImmutable());
        long base = map.memory().address();
        long capacity = map.memory().get(ValueLayout.JAVA_LONG, 16);
        long firstEntry = 64 + capacity * 8;
        ByteBuffer slots = ByteBuffer.allocate((int) (capacity * 8)).order(ByteOrder.nativeOrder());
        while (slots.hasRemaining()) {
            slots.putLong(0x1234L << 48 | firstEntry >>> 3); // every slot taken, pointing at an entry
        }
        ProcMem.write(base + 64, slots.array());
        report("get(String)", () -> map.get("absent.example.com"));
        report("get(String) of a present key", () -> map.get("api.example.com"));
        report("get(String) not ASCII", () -> map.get("ábsent.example.com"));
        report("containsKey(String)", () -> map.containsKey("absent.example.com"));
        report("get(byte[])", () -> map.get("absent".getBytes(StandardCharsets.UTF_8)));
        report("containsKey(byte[])", () -> map.containsKey("absent".getBytes(StandardCharsets.UTF_8)));
        report("getOrDefault", () -> map.getOrDefault("absent", "default"));
        report("asMap().get", () -> map.asMap().get("absent"));
        report("asMap().containsKey", () -> map.asMap().containsKey("absent"));
    }

    private static void report(String what, Supplier<Object> lookup) {
        String outcome;
        try {
            outcome = "returned " + lookup.get();
        } catch (RuntimeException e) {
            outcome = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        System.out.println(what + ": " + outcome);
    }
}
