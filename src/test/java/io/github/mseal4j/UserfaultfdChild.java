package io.github.mseal4j;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.Mman;
import io.github.mseal4j.internal.Userfaultfd;
import io.github.mseal4j.testing.Seccomp;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Map;

/**
 * Run in a child JVM by {@link UserfaultfdTest} ({@code args[0]}: {@code 0} or {@code user-mode-only}, the
 * userfaultfd's flags; {@code args[1]}: {@code memfd}, or {@code no-memfd} or {@code no-populate} to refuse
 * {@code memfd_create} or {@code MADV_POPULATE_READ} with a seccomp filter, or {@code fake-populate} to answer the
 * latter with success without running it): attacks sealed read-only memory of every kind the library makes with
 * {@code userfaultfd}, as any code in the process could, and prints what the kernel answered for each page
 * that was never written: {@code register=} (0, or the errno), {@code copy=} and {@code poison=}, then what the
 * page holds. Only a page already present refuses the copy and the poison (EEXIST); immutable memory refuses the
 * registration. Nothing poisoned is read: a read would kill the JVM.
 */
public final class UserfaultfdChild {
    private static final long PAGE = Mseal.pageSize();
    private static final byte[] FORGED = forged();

    private UserfaultfdChild() {
    }

    public static void main(String[] args) {
        int flags = args[0].equals("user-mode-only") ? Userfaultfd.USER_MODE_ONLY : 0;
        boolean memfd = !args[1].equals("no-memfd");
        if (!memfd) {
            // No immutable memory here: maps and freezes fall back to ordinary sealed memory.
            Seccomp.install(Seccomp.Rule.deny(Seccomp.Call.MEMFD_CREATE, Errno.EPERM));
        } else if (args[1].equals("no-populate")) {
            // MADV_POPULATE_READ refused, as a filter (or a kernel before 5.14) would: each page is read instead.
            Seccomp.install(Seccomp.Rule.denyWhen(Seccomp.Call.MADVISE, 2, Mman.MADV_POPULATE_READ, Errno.EINVAL));
        } else if (args[1].equals("fake-populate")) {
            // MADV_POPULATE_READ answered with success without running it, as a lying filter would.
            Seccomp.install(Seccomp.Rule.denyWhen(Seccomp.Call.MADVISE, 2, Mman.MADV_POPULATE_READ, 0));
        }
        try (Userfaultfd uffd = Userfaultfd.open(flags)) {
            if (uffd.refused() != 0) {
                System.out.println("userfaultfd: " + Errno.name(uffd.refused()));
                return;
            }
            MappedRegion region = MappedRegion.allocate(4 * PAGE);
            region.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) 1); // page 0 written; pages 1 to 3 never
            attack(uffd, "sealReadOnly", region.sealReadOnly());

            MappedRegion protectedThenSealed = MappedRegion.allocate(4 * PAGE);
            protectedThenSealed.protect(Protection.READ);
            protectedThenSealed.seal();
            attack(uffd, "protect(READ) then seal()", LibCView.of(protectedThenSealed));

            MappedRegion part = MappedRegion.allocate(4 * PAGE);
            part.protect(0, 2 * PAGE, Protection.READ);
            part.seal(0, 2 * PAGE);
            attack(uffd, "seal(offset, length) of READ pages", LibCView.of(part).asSlice(0, 2 * PAGE));

            MappedRegion locked = MappedRegion.allocate(4 * PAGE, MappingOption.LOCKED, MappingOption.GUARD_PAGES);
            attack(uffd, "LOCKED", locked.sealReadOnly());

            try (SealedArena arena = SealedArena.createAnonymous(16 * PAGE)) {
                arena.allocate(1, 1);
                MemorySegment zeros = arena.allocate(2 * PAGE, PAGE); // left zero
                arena.seal();
                attack(uffd, "SealedArena on ordinary memory", arena.sealedView(zeros));
            }

            if (memfd) {
                MappedRegion immutable = MappedRegion.allocate(4 * PAGE, MappingOption.IMMUTABLE);
                attack(uffd, "IMMUTABLE", immutable.sealReadOnly());
            }
            SealedMap map = SealedMap.copyOf(Map.of("k", "v".repeat((int) (3 * PAGE))));
            attack(uffd, "SealedMap " + (map.isImmutable() ? "immutable" : "on ordinary memory"), map.memory());

            // A guard marker (MADV_GUARD_INSTALL, 6.13+) put on a page by other code before the seal: the page
            // cannot be faulted in, and sealed so, MADV_GUARD_REMOVE (allowed after the seal) would leave it empty
            // for userfaultfd to fill. It must be refused, and must not crash the JVM (a direct read would).
            MappedRegion guarded = MappedRegion.allocate(4 * PAGE);
            int installed = LibC.madvise(guarded.address() + 2 * PAGE, PAGE, 102 /* MADV_GUARD_INSTALL */);
            String outcome;
            try {
                guarded.sealReadOnly();
                outcome = "returned";
            } catch (RuntimeException e) {
                outcome = e.getClass().getSimpleName() + ": " + e.getMessage();
            }
            System.out.println("guard marker: installed=" + name(installed) + ", sealReadOnly: " + outcome
                + ", isSealed=" + guarded.isSealed());
        }
    }

    /**
     * Registers the segment's pages and tries the copy on every other page after the first (which may have been
     * written) and the poison on the others, printing the answers, and whether any page took either.
     */
    private static void attack(Userfaultfd uffd, String what, MemorySegment sealed) {
        long start = sealed.address() & -PAGE;
        long end = (sealed.address() + sealed.byteSize() + PAGE - 1) & -PAGE;
        int register = uffd.register(start, end - start);
        StringBuilder line = new StringBuilder(what + ": register=" + name(register));
        boolean changed = false;
        if (register == 0) {
            for (long page = start + PAGE, i = 1; page < end; page += PAGE, i++) {
                boolean copy = i % 2 == 1;
                int errno = copy ? uffd.copy(page, FORGED) : uffd.poison(page, PAGE);
                line.append(copy ? ", copy=" : ", poison=").append(name(errno));
                changed |= errno == 0; // a poisoned page is never read: the read would kill this JVM
            }
        }
        System.out.println(line + (changed ? ", changed" : ", unchanged"));
    }

    private static String name(int errno) {
        return errno == 0 ? "0" : Errno.name(errno);
    }

    private static byte[] forged() {
        byte[] bytes = new byte[(int) PAGE];
        Arrays.fill(bytes, (byte) 0x66);
        return bytes;
    }

    /** A read-only view of a region's whole mapping that is never invalidated (sealed memory stays mapped). */
    private static final class LibCView {
        static MemorySegment of(MappedRegion region) {
            return io.github.mseal4j.internal.LibC.foreverView(region.address(), region.mappedSize());
        }
    }
}
