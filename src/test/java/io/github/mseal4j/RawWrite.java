package io.github.mseal4j;

import io.github.mseal4j.internal.LibC;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Run in a child JVM by {@link HardwareEnforcementTest}: writes one byte into a page through a raw, writable
 * view that bypasses every library check. With {@code sealed-read-only}, the page was sealed read-only first,
 * so the CPU faults and this JVM dies with SIGSEGV; with {@code read-write}, the write succeeds.
 */
public final class RawWrite {
    private RawWrite() {
    }

    public static void main(String[] args) {
        MappedRegion region = MappedRegion.allocate(Mseal.pageSize());
        if (args[0].equals("sealed-read-only")) {
            region.sealReadOnly();
        }
        MemorySegment raw = LibC.foreverView(region.address(), region.mappedSize()); // no read-only flag
        System.out.println("writing through a raw view of " + args[0] + " memory");
        System.out.flush();
        raw.set(ValueLayout.JAVA_BYTE, 0, (byte) 42);
        System.out.println("wrote " + raw.get(ValueLayout.JAVA_BYTE, 0));
    }
}
