package io.github.mseal4j.internal;

import jdk.jfr.Category;
import jdk.jfr.DataAmount;
import jdk.jfr.Description;
import jdk.jfr.Event;
import jdk.jfr.EventType;
import jdk.jfr.FlightRecorder;
import jdk.jfr.Label;
import jdk.jfr.MemoryAddress;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * The JDK Flight Recorder events themselves. Only {@link Events} touches this class, and only when
 * {@code jdk.jfr} is present: nothing here may load without it.
 */
final class JfrEvents {
    private JfrEvents() {
    }

    /** What every mseal4j event says: where, how much, and who asked (the stack trace). */
    @Category({"mseal4j"})
    @StackTrace(true)
    abstract static class RangeEvent extends Event {
        @Label("Address")
        @MemoryAddress
        long address;

        @Label("Length")
        @DataAmount
        long length;
    }

    /** Pages became sealed. */
    @Name("io.github.mseal4j.Seal")
    @Label("Memory Sealed")
    @Description("Pages sealed with mseal(2), as it answered (or, under the best-effort policy, protected but not sealed)")
    static final class SealEvent extends RangeEvent {
        @Label("Sealed by the Kernel")
        @Description("False under the best-effort policy where mseal is unavailable")
        boolean byKernel;
    }

    /** Pages changed protection. */
    @Name("io.github.mseal4j.Protect")
    @Label("Memory Protection Changed")
    static final class ProtectEvent extends RangeEvent {
        @Label("Protection")
        String protection;
    }

    /** A system call mseal4j made failed. */
    @Name("io.github.mseal4j.SystemCallFailure")
    @Label("Memory System Call Failed")
    static final class FailureEvent extends RangeEvent {
        @Label("Operation")
        String operation;

        @Label("Errno")
        int errno;

        @Label("Errno Name")
        String errnoName;
    }

    /** Sealed memory became unreachable: mapped until the process exits, and of no use. */
    @Name("io.github.mseal4j.UnreachableSealedMemory")
    @Label("Sealed Memory Unreachable")
    @Description("Sealed memory (a map, arena, region or frozen copy) that the program no longer references: it stays"
        + " mapped until the process exits. Data that is replaced wants an Arena's lifetime instead")
    @Category({"mseal4j"})
    @StackTrace(false)
    static final class UnreachableEvent extends Event {
        @Label("Bytes")
        @DataAmount
        long bytes;

        @Label("Total Unreachable")
        @DataAmount
        long total;
    }

    /**
     * The event types, registered on first use. Registering the first event class initialises JFR's metadata
     * (about 100 ms here), so nothing is registered until the Flight Recorder itself is: a process that never
     * records never pays it. Asking the type before creating an event is a field read, where creating one runs
     * through JFR's instrumented constructor and {@code shouldCommit()}, which costs a cold caller (the first
     * thousands of seals run interpreted) more than the seal.
     */
    private static final class Types {
        static final EventType SEAL = EventType.getEventType(SealEvent.class);
        static final EventType PROTECT = EventType.getEventType(ProtectEvent.class);
        static final EventType FAILURE = EventType.getEventType(FailureEvent.class);
        static final EventType UNREACHABLE = EventType.getEventType(UnreachableEvent.class);
    }

    /** Records that {@code [address, address + length)} became sealed. */
    static void sealed(long address, long length, boolean byKernel) {
        if (!FlightRecorder.isInitialized() || !Types.SEAL.isEnabled()) {
            return;
        }
        SealEvent event = new SealEvent();
        if (event.shouldCommit()) {
            event.address = address;
            event.length = length;
            event.byKernel = byKernel;
            event.commit();
        }
    }

    /** Records that {@code [address, address + length)} changed protection. */
    static void protectionChanged(long address, long length, String protection) {
        if (!FlightRecorder.isInitialized() || !Types.PROTECT.isEnabled()) {
            return;
        }
        ProtectEvent event = new ProtectEvent();
        if (event.shouldCommit()) {
            event.address = address;
            event.length = length;
            event.protection = protection;
            event.commit();
        }
    }

    /** Records that {@code bytes} of sealed memory became unreachable, making {@code total}. */
    static void unreachableSealed(long bytes, long total) {
        if (!FlightRecorder.isInitialized() || !Types.UNREACHABLE.isEnabled()) {
            return;
        }
        UnreachableEvent event = new UnreachableEvent();
        if (event.shouldCommit()) {
            event.bytes = bytes;
            event.total = total;
            event.commit();
        }
    }

    /** Records a failed system call. */
    static void failed(String operation, long address, long length, int errno) {
        if (!FlightRecorder.isInitialized() || !Types.FAILURE.isEnabled()) {
            return;
        }
        FailureEvent event = new FailureEvent();
        if (event.shouldCommit()) {
            event.operation = operation;
            event.address = address;
            event.length = length;
            event.errno = errno;
            event.errnoName = Errno.name(errno);
            event.commit();
        }
    }
}
