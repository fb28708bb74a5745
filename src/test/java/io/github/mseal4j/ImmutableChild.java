package io.github.mseal4j;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

/**
 * Run in a child JVM by {@link ImmutableTest}: holds an immutable page and a sealed read-only anonymous page,
 * prints its pid and their addresses, waits for a line on stdin (while the parent attacks both through
 * {@code /proc/<pid>/mem}), then prints what each page holds.
 */
public final class ImmutableChild {
    static final String IMMUTABLE = "immutable: cannot be changed";
    static final String ANONYMOUS = "anonymous: sealed read-only";

    private ImmutableChild() {
    }

    public static void main(String[] args) throws Exception {
        io.github.mseal4j.testing.Ptrace.allowAnyTracer(); // the parent's other child pokes this one
        long page = Mseal.pageSize();
        MappedRegion immutable = MappedRegion.allocate(page, MappingOption.IMMUTABLE);
        immutable.segment().setString(0, IMMUTABLE);
        MemorySegment frozen = immutable.sealReadOnly();
        MappedRegion anonymous = MappedRegion.allocate(page);
        anonymous.segment().setString(0, ANONYMOUS);
        MemorySegment sealed = anonymous.sealReadOnly();
        System.out.println("pid=" + ProcessHandle.current().pid() + " immutable=" + frozen.address() + " anonymous="
            + sealed.address());
        System.out.flush();
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        System.out.println("immutable holds: " + frozen.getString(0));
        System.out.println("anonymous holds: " + sealed.getString(0));
    }
}
