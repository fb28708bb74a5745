package io.github.mseal4j;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.testing.AddressSpace;
import io.github.mseal4j.testing.Seccomp;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;

/**
 * Run in a child JVM by {@link PolicyTest}, with {@code -Dio.github.mseal4j.policy=...}: when
 * {@code args[0]} names an errno, a seccomp filter first makes the kernel answer mseal with it. Then it seals
 * a region read-only, an arena and a map, and prints what the kernel and the library say.
 */
public final class PolicyChild {
    private PolicyChild() {
    }

    public static void main(String[] args) throws Exception {
        if (!args[0].equals("none")) {
            Seccomp.denyMseal(args[0].equals("ENOSYS") ? Errno.ENOSYS : Errno.EPERM);
        }
        System.out.println("status=" + Mseal.support().status());
        try {
            System.out.println("policy=" + Mseal.policy());
        } catch (IllegalArgumentException e) {
            System.out.println("policy refused: " + e.getMessage());
        }
        try {
            Mseal.freeze(new byte[0]);
            System.out.println("empty freeze: returned");
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            System.out.println("empty freeze refused: " + e.getClass().getSimpleName());
        }
        long page = Mseal.pageSize();
        MappedRegion region = MappedRegion.allocate(2 * page);
        region.segment().setString(0, "config");
        try {
            MemorySegment view = region.sealReadOnly();
            System.out.println("sealReadOnly returned: " + view.getString(0) + ", readOnly=" + view.isReadOnly());
            System.out.println("maps=" + AddressSpace.permissions(region.address()));
            System.out.println("isSealed=" + region.isSealed());
            System.out.println("region says: " + region);
            try {
                region.protect(Protection.READ_WRITE);
                System.out.println("protect after sealReadOnly: allowed");
            } catch (IllegalStateException e) {
                System.out.println("protect after sealReadOnly: refused");
                System.out.println("refusal says: " + e.getMessage());
            }
            try (MappedRegion fallback = MappedRegion.allocate(page, MappingOption.IMMUTABLE)) {
                System.out.println("immutable region says: " + fallback);
            }
            region.close();
            System.out.println("view after close: " + view.getString(0));
            for (int i = 0; i < 3; i++) {
                MappedRegion.allocate(page).sealReadOnly();
            }
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            System.out.println("refused: " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        try (SealedArena arena = SealedArena.create()) {
            MemorySegment value = arena.allocateFrom(ValueLayout.JAVA_INT, 7);
            arena.seal();
            System.out.println("arena sealed: " + arena.sealedView(value).get(ValueLayout.JAVA_INT, 0)
                + ", isSealed=" + arena.isSealed());
            System.out.println("arena says: " + arena);
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            System.out.println("arena refused: " + e.getClass().getSimpleName());
        }
        for (int attempt = 0; attempt < 2; attempt++) {
            // The first attempt also starts what any map needs (its cleaner thread has a stack mapping).
            buildMap(attempt == 1);
        }
    }

    private static void buildMap(boolean report) throws Exception {
        AddressSpace before = AddressSpace.now();
        try {
            SealedMap map = SealedMap.copyOf(Map.of("k", "v"));
            if (!report) {
                return;
            }
            System.out.println("map built: " + map.get("k"));
            System.out.println("map says: " + map);
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            if (report) {
                System.out.println("map refused: " + e.getClass().getSimpleName() + ", address space left behind: "
                    + AddressSpace.now().newSince(before));
            }
        }
    }


}
