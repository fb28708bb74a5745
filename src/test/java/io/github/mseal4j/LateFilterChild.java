package io.github.mseal4j;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.testing.AddressSpace;
import io.github.mseal4j.testing.Seccomp;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Run in a child JVM by {@link LateFilterTest}: the probe finds mseal available, then a seccomp filter
 * installed later answers it with EPERM. Every multi-step sealing operation must then fail and leave its
 * object as it was: usable, and failing again (never "sealed") when retried.
 */
public final class LateFilterChild {
    private LateFilterChild() {
    }

    public static void main(String[] args) throws Exception {
        System.out.println("probe=" + Mseal.support().status());
        long page = Mseal.pageSize();

        SealedArena arena = SealedArena.create();
        MemorySegment building = arena.allocate(64, 8);
        building.fill((byte) 5);
        MappedRegion region = MappedRegion.allocate(page);
        region.segment().set(ValueLayout.JAVA_INT, 0, 42);
        SealedMap.Builder builder = SealedMap.builder().put("k", "v");
        SealedMap.copyOf(java.util.Map.of("warm", "up")); // the cleaner thread and its stack exist before counting

        Seccomp.denyMseal(Errno.EPERM);

        for (int attempt = 1; attempt <= 2; attempt++) {
            System.out.println("arena seal " + attempt + ": " + outcome(arena::seal) + ", isSealed=" + arena.isSealed());
        }
        System.out.println("arena after: allocate=" + outcome(() -> arena.allocate(8, 8))
            + ", building readable=" + outcome(() -> building.get(ValueLayout.JAVA_BYTE, 63))
            + ", building writable=" + outcome(() -> building.set(ValueLayout.JAVA_BYTE, 0, (byte) 6)));

        for (int attempt = 1; attempt <= 2; attempt++) {
            System.out.println("sealReadOnly " + attempt + ": " + outcome(region::sealReadOnly));
        }
        System.out.println("region after: maps=" + AddressSpace.permissions(region.address()) + ", isSealed=" + region.isSealed()
            + ", writable=" + outcome(() -> region.segment().set(ValueLayout.JAVA_INT, 0, 43)));

        AddressSpace before = AddressSpace.now();
        for (int attempt = 1; attempt <= 2; attempt++) {
            System.out.println("build " + attempt + ": " + outcome(builder::build));
        }
        System.out.println("address space left behind by the builds=" + AddressSpace.now().newSince(before));
    }

    private static String outcome(Runnable action) {
        try {
            action.run();
            return "ok";
        } catch (RuntimeException e) {
            return e.getClass().getSimpleName() + "(" + e.getMessage() + ")";
        }
    }


}
