package io.github.mseal4j;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.internal.Smaps;
import io.github.mseal4j.testing.Seccomp;
import java.util.List;

/**
 * Run in a child JVM by {@link UnsupportedHostTest}: installs a seccomp filter that answers mseal with the
 * errno named in {@code args[0]} (so the probe sees ENOSYS or EPERM from the real kernel path), reports the
 * verdict, then shows that regions still work, that {@code seal()} and {@code sealReadOnly()} throw rather
 * than pretend, and that nothing was sealed or re-protected on the way.
 */
public final class UnsupportedHost {
    private UnsupportedHost() {
    }

    public static void main(String[] args) {
        Seccomp.denyMseal(switch (args[0]) {
            case "ENOSYS" -> Errno.ENOSYS;
            case "EPERM" -> Errno.EPERM;
            default -> throw new IllegalArgumentException(args[0]);
        });
        System.out.println("status=" + Mseal.support().status());
        System.out.println("reason=" + Mseal.support().reason());
        try (MappedRegion region = MappedRegion.allocate(Mseal.pageSize())) {
            region.segment().set(java.lang.foreign.ValueLayout.JAVA_INT, 0, 42);
            for (Runnable call : List.<Runnable>of(region::seal, region::sealReadOnly)) {
                try {
                    call.run();
                    System.out.println("sealing returned normally");
                } catch (UnsupportedOperationException e) {
                    System.out.println("refused=" + e.getMessage());
                }
            }
            Smaps.Vma vma = Smaps.read(region.address(), region.address() + region.mappedSize()).getFirst();
            System.out.println("sealed=" + vma.sealed() + " protection=" + vma.protection());
            System.out.println("isSealed=" + region.isSealed());
        }
    }
}
