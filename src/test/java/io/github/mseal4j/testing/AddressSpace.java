package io.github.mseal4j.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The process's mapped address space, from {@code /proc/self/maps}, merged into ranges: to tell what a call left
 * mapped from what the JVM did meanwhile. Counting the lines of {@code /proc/self/maps} is not enough for that:
 * the JVM commits parts of its reserved heap and glibc grows its arenas at any moment, which splits mappings it
 * already had. A leak is address space that was not mapped before and is mapped after; changes inside ranges that
 * were mapped before (committing, protecting, splitting) are not.
 */
public final class AddressSpace {
    /**
     * Options for a child JVM whose address space is checked: without them the JVM maps memory of its own at
     * moments nobody chooses (a compiler or GC thread started on demand brings a stack; the heap grows), which a
     * leak check would count. Interpreted only, the serial collector, a fixed heap.
     */
    public static final List<String> STEADY_JVM = List.of("-Xint", "-XX:+UseSerialGC", "-Xms64m", "-Xmx64m");

    private final List<long[]> ranges;

    private AddressSpace(List<long[]> ranges) {
        this.ranges = ranges;
    }

    /** What is mapped now. */
    public static AddressSpace now() {
        List<String> lines;
        try {
            lines = Files.readAllLines(Path.of("/proc/self/maps"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<long[]> merged = new ArrayList<>();
        for (String line : lines) {
            String[] bounds = line.substring(0, line.indexOf(' ')).split("-");
            long start = Long.parseUnsignedLong(bounds[0], 16);
            long end = Long.parseUnsignedLong(bounds[1], 16);
            if (start < 0 || end < 0) {
                continue; // [vsyscall], above the user address space
            }
            long[] last = merged.isEmpty() ? null : merged.get(merged.size() - 1);
            if (last != null && last[1] == start) {
                last[1] = end;
            } else {
                merged.add(new long[] {start, end});
            }
        }
        return new AddressSpace(merged);
    }

    /** The permissions {@code /proc/self/maps} shows for the mapping at {@code address} ({@code r--p}...), or "(unmapped)". */
    public static String permissions(long address) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
                String[] bounds = line.substring(0, line.indexOf(' ')).split("-");
                if (Long.parseUnsignedLong(bounds[0], 16) <= address
                        && Long.compareUnsigned(address, Long.parseUnsignedLong(bounds[1], 16)) < 0) {
                    return line.split(" +")[1];
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return "(unmapped)";
    }

    /** The ranges mapped now that were not mapped at all in {@code before}: "none", or a list. */
    public String newSince(AddressSpace before) {
        return newSince(before, 0, Long.MAX_VALUE);
    }

    /**
     * {@link #newSince(AddressSpace)} within {@code [from, to)} only: for a check in a JVM that is not
     * {@link #STEADY_JVM}, where a compiler thread or a malloc arena may appear elsewhere at any moment.
     */
    public String newSince(AddressSpace before, long from, long to) {
        StringBuilder found = new StringBuilder();
        for (long[] range : ranges) {
            long at = Math.max(range[0], from);
            long end = Math.min(range[1], to);
            while (at < end) {
                long[] covering = before.covering(at);
                if (covering != null) {
                    at = Math.min(covering[1], end);
                    continue;
                }
                long next = Math.min(end, before.nextStartAfter(at));
                found.append(found.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT, "%x-%x", at, next));
                at = next;
            }
        }
        return found.isEmpty() ? "none" : found.toString();
    }

    private long[] covering(long address) {
        for (long[] range : ranges) {
            if (range[0] <= address && address < range[1]) {
                return range;
            }
        }
        return null;
    }

    private long nextStartAfter(long address) {
        long next = Long.MAX_VALUE;
        for (long[] range : ranges) {
            if (range[0] > address && range[0] < next) {
                next = range[0];
            }
        }
        return next;
    }
}
