package io.github.mseal4j;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.Mman;
import io.github.mseal4j.testing.Limits;
import io.github.mseal4j.testing.Seccomp;
import io.github.mseal4j.testing.Seccomp.Call;
import io.github.mseal4j.testing.Seccomp.Rule;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Run in a child JVM by {@link FaultAfterProbeTest}: what happens when the kernel misbehaves after the probes
 * said all is well. {@code fake-mseal} and {@code fake-seals}: a seccomp filter answers mseal, or
 * {@code fcntl(F_ADD_SEALS)}, with success without running it. {@code no-ftruncate}: the arena's trim cannot
 * shrink its memfd. {@code no-fds}: no descriptor is left when immutability is first asked about.
 * {@code fake-fixed-mmap}: mapping the sealed file over the data ({@code MAP_SHARED|MAP_FIXED}), or where the
 * kernel chooses ({@code MAP_SHARED}, a fresh freeze of a few bytes), is answered with success without mapping
 * anything. {@code arena-cannot-remap}: an immutable arena's seal fails
 * ({@code F_ADD_SEALS} gets EBUSY) and putting the writable mapping back fails too (ENOMEM).
 * {@code arena-cannot-reprotect}: an anonymous arena's seal fails (mseal gets ENOMEM) and making its memory
 * writable again fails too (EPERM). {@code fake-mmap}: a new mapping (of a length nothing else asks for) is
 * answered with success, 0, without mapping anything. {@code fake-protect-rw}, {@code fake-protect-read}: an
 * {@code mprotect} of a region's pages is answered with success without changing them, when made writable
 * again, and when made read-only on the way to a seal. {@code fake-ftruncate}: an immutable region's memfd is
 * not sized. {@code fake-reseal}: a region with one page sealed already, whose whole-range mseal is answered
 * with success without sealing the rest. {@code fake-mixed-protect}: the same lie about a range whose first
 * page has the protection asked already. {@code fake-first-protect}: the lie is told from the process's first
 * mprotect of one page on. {@code fake-protect-uncalibrated}: the lie is told where the check cannot calibrate
 * its probes (no scratch page can be mapped, as at {@code vm.max_map_count}); {@code fake-protect-no-populate}:
 * where the populate advices are refused altogether; {@code protect-unverifiable}: refused, and no descriptor
 * left to read {@code /proc/self/maps} with.
 */
public final class FaultAfterProbeChild {
    private FaultAfterProbeChild() {
    }

    public static void main(String[] args) throws Exception {
        long page = Mseal.pageSize();
        switch (args[0]) {
            case "fake-mseal", "fake-seals" -> {
                System.out.println("probes: " + Mseal.support().status() + " " + Mseal.immutability().status());
                Path file = Files.writeString(Files.createTempFile("mseal4j", ".txt"), "allow: api.example.com");
                MappedRegion immutable = MappedRegion.allocate(page, MappingOption.IMMUTABLE);
                immutable.segment().setString(0, "immutable");
                MappedRegion ordinary = MappedRegion.allocate(page);
                ordinary.segment().setString(0, "ordinary");
                Seccomp.install(args[0].equals("fake-mseal") ? Rule.deny(Call.MSEAL, 0)
                    : Rule.denyWhen(Call.FCNTL, 1, Mman.F_ADD_SEALS, 0));
                report("region sealReadOnly", () -> {
                    immutable.sealReadOnly();
                    return "returned";
                });
                System.out.println("region after: isSealed=" + immutable.isSealed() + " isImmutable="
                    + immutable.isImmutable());
                if (args[0].equals("fake-mseal")) {
                    report("ordinary sealReadOnly", () -> {
                        ordinary.sealReadOnly();
                        return "returned";
                    });
                    System.out.println("ordinary after: isSealed=" + ordinary.isSealed() + " writable="
                        + !ordinary.segment().isReadOnly() + " holds=" + ordinary.segment().getString(0));
                } else {
                    System.out.println("region after: writable=" + !immutable.segment().isReadOnly() + " holds="
                        + immutable.segment().getString(0));
                }
                report("freeze file", () -> {
                    try {
                        MemorySegment frozen = Mseal.freeze(file);
                        return "returned " + new String(frozen.toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                report("map", () -> "returned, isImmutable=" + SealedMap.copyOf(Map.of("k", "v")).isImmutable());
                report("arena", () -> {
                    try (SealedArena arena = SealedArena.create()) {
                        arena.allocate(8, 8);
                        arena.seal();
                        return "returned, isSealed=" + arena.isSealed();
                    }
                });
            }
            case "no-ftruncate" -> {
                SealedArena arena = SealedArena.create();
                MemorySegment value = arena.allocateFrom("kept");
                Seccomp.install(Rule.deny(Call.FTRUNCATE, Errno.EPERM));
                report("arena seal", () -> {
                    arena.seal();
                    return "returned";
                });
                System.out.println("arena after: isSealed=" + arena.isSealed() + " isImmutable=" + arena.isImmutable()
                    + " holds=" + arena.sealedView(value).getString(0));
                report("allocate after", () -> "returned " + arena.allocate(2 * page, 8));
            }
            case "no-fds" -> {
                System.out.println("mseal=" + Mseal.support().status());
                SealedMap.builder().put("warm", "up"); // seeds SecureRandom, which opens /dev/urandom
                loadEveryClass();
                Limits.limitOpenFiles(0); // no new descriptor at all (open ones stay): memfd_create gets EMFILE
                SealSupport during = Mseal.immutability();
                System.out.println("during: " + during.status() + ": " + during.reason());
                report("map during", () -> "returned, isImmutable=" + SealedMap.copyOf(Map.of("k", "v")).isImmutable());
                Limits.limitOpenFiles(1024);
                System.out.println("after: " + Mseal.immutability().status());
                report("map after", () -> "returned, isImmutable=" + SealedMap.copyOf(Map.of("k", "v")).isImmutable());
            }
            case "fake-fixed-mmap" -> {
                MappedRegion immutable = MappedRegion.allocate(page, MappingOption.IMMUTABLE);
                immutable.segment().setString(0, "immutable");
                // The region's freeze maps over its data (MAP_FIXED); a fresh freeze maps where the kernel chooses.
                Seccomp.install(Rule.denyWhen(Call.MMAP, 3, Mman.MAP_SHARED | Mman.MAP_FIXED, 0),
                    Rule.denyWhen(Call.MMAP, 3, Mman.MAP_SHARED, 0));
                report("region sealReadOnly", () -> "returned, reads " + immutable.sealReadOnly().getString(0));
                System.out.println("region after: isSealed=" + immutable.isSealed());
                report("freeze bytes", () -> "returned, reads "
                    + Mseal.freeze("frozen".getBytes(StandardCharsets.US_ASCII)).get(ValueLayout.JAVA_BYTE, 0));
            }
            case "fake-mmap" -> {
                Seccomp.install(Rule.denyWhen(Call.MMAP, 1, 7 * page, 3, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, 0),
                    Rule.denyWhen(Call.MMAP, 1, 5 * page, 3, Mman.MAP_SHARED, 0));
                for (MappingOption[] options : List.of(new MappingOption[0], new MappingOption[] {MappingOption.IMMUTABLE})) {
                    int pages = options.length == 0 ? 7 : 5;
                    report("allocate " + List.of(options), () -> {
                        MappedRegion region = MappedRegion.allocate(pages * page, options);
                        region.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) 1); // at address 0: SIGSEGV
                        return "returned " + region;
                    });
                }
            }
            case "fake-protect-rw" -> {
                MappedRegion region = MappedRegion.allocate(3 * page);
                region.protect(Protection.NONE);
                Seccomp.install(Rule.denyWhen(Call.MPROTECT, 0, region.address(), 2, Mman.PROT_READ | Mman.PROT_WRITE, 0));
                report("protect READ_WRITE", () -> {
                    region.protect(Protection.READ_WRITE);
                    region.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) 1); // where it is not writable: SIGSEGV
                    return "returned, written";
                });
                System.out.println("region after: " + region);
            }
            case "fake-protect-read" -> {
                MappedRegion region = MappedRegion.allocate(3 * page);
                region.segment().setString(0, "data");
                region.protect(0, page, Protection.READ);
                Seccomp.install(Rule.denyWhen(Call.MPROTECT, 0, region.address() + page, 2, Mman.PROT_READ, 0));
                report("sealReadOnly", () -> "returned " + region.sealReadOnly().getString(0));
                System.out.println("isSealed=" + region.isSealed() + " kernel shows "
                    + io.github.mseal4j.testing.AddressSpace.permissions(region.address() + page) + ", says " + region);
            }
            case "fake-mixed-protect" -> {
                MappedRegion writable = MappedRegion.allocate(4 * page);
                writable.protect(page, 3 * page, Protection.NONE);
                MappedRegion readable = MappedRegion.allocate(4 * page);
                readable.protect(0, page, Protection.READ);
                Seccomp.install(Rule.denyWhen(Call.MPROTECT, 0, writable.address(), 2, Mman.PROT_READ | Mman.PROT_WRITE, 0),
                    Rule.denyWhen(Call.MPROTECT, 0, readable.address(), 2, Mman.PROT_READ, 0));
                report("protect READ_WRITE", () -> {
                    writable.protect(Protection.READ_WRITE);
                    writable.segment().set(ValueLayout.JAVA_BYTE, 2 * page, (byte) 1); // PROT_NONE there: SIGSEGV
                    return "returned, written";
                });
                report("protect READ", () -> {
                    readable.protect(0, 3 * page, Protection.READ);
                    return "returned, then sealReadOnly " + (readable.sealReadOnly() != null) + ", kernel shows "
                        + io.github.mseal4j.testing.AddressSpace.permissions(readable.address() + 2 * page);
                });
            }
            case "fake-first-protect" -> {
                Seccomp.install(Rule.denyWhen(Call.MPROTECT, 1, page, 2, Mman.PROT_READ, 0));
                MappedRegion region = MappedRegion.allocate(2 * page);
                report("protect READ", () -> {
                    region.protect(0, page, Protection.READ);
                    return "returned, kernel shows " + io.github.mseal4j.testing.AddressSpace.permissions(region.address());
                });
            }
            case "fake-protect-uncalibrated", "fake-protect-no-populate" -> {
                // Where the check cannot use the populate advices: their calibration cannot map its read-only
                // scratch page (as at vm.max_map_count), or a filter refuses them (EINVAL); and a lie is told
                // before the library has checked any mprotect. The filter holds for every thread, the JVM's too:
                // the lie is aimed at a length only this region asks for, longer than any glibc malloc arena
                // grows by at once (64 MiB); at 7 pages it also hit a JIT thread's malloc, 3 runs in 16.
                boolean uncalibrated = args[0].equals("fake-protect-uncalibrated");
                long size = (64L << 20) + 7 * page;
                Seccomp.install(uncalibrated
                        ? Rule.denyWhen(Call.MMAP, 2, Mman.PROT_READ, 3, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, Errno.ENOMEM)
                        : Rule.denyWhen(Call.MADVISE, 2, Mman.MADV_POPULATE_READ, Errno.EINVAL),
                    Rule.denyWhen(Call.MPROTECT, 1, size, 2, Mman.PROT_READ | Mman.PROT_WRITE, 0));
                report(uncalibrated ? "allocate uncalibrated" : "allocate without populate", () -> {
                    MappedRegion region = MappedRegion.allocate(size, MappingOption.GUARD_PAGES);
                    region.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) 1); // PROT_NONE there: SIGSEGV
                    return "returned, written";
                });
            }
            case "protect-unverifiable" -> {
                // No populate advices (refused) and no descriptor left to read /proc/self/maps: an mprotect that
                // cannot be checked is not relied on, whether or not it happened.
                MappedRegion region = MappedRegion.allocate(2 * page);
                Seccomp.install(Rule.denyWhen(Call.MADVISE, 2, Mman.MADV_POPULATE_READ, Errno.EINVAL));
                loadEveryClass();
                Limits.limitOpenFiles(0);
                report("protect unverifiable", () -> {
                    region.protect(0, page, Protection.READ);
                    return "returned";
                });
            }
            case "fake-ftruncate" -> {
                Seccomp.install(Rule.denyWhen(Call.FTRUNCATE, 1, 5 * page, 0));
                report("allocate IMMUTABLE", () -> {
                    MappedRegion region = MappedRegion.allocate(5 * page, MappingOption.IMMUTABLE);
                    region.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) 1); // a file of 0 bytes: SIGBUS
                    return "returned, written";
                });
            }
            case "fake-reseal" -> {
                MappedRegion region = MappedRegion.allocate(2 * page);
                region.protect(0, page, Protection.READ);
                region.seal(0, page);
                Seccomp.install(Rule.denyWhen(Call.MSEAL, 1, 2 * page, 0));
                report("sealReadOnly", () -> {
                    region.sealReadOnly();
                    return "returned";
                });
                System.out.println("isSealed=" + region.isSealed() + " says " + region);
            }
            case "arena-cannot-remap", "arena-cannot-reprotect" -> {
                boolean remap = args[0].equals("arena-cannot-remap");
                if (!remap) {
                    Seccomp.install(Rule.deny(Call.MEMFD_CREATE, Errno.EPERM)); // an anonymous arena
                }
                SealedArena arena = SealedArena.create();
                long chunk = arena.allocateFrom("kept").address() & -page; // the first allocation: the chunk's start
                System.out.println("arena: " + arena);
                if (remap) {
                    Seccomp.install(Rule.denyWhen(Call.FCNTL, 1, Mman.F_ADD_SEALS, Errno.EBUSY),
                        Rule.denyWhen(Call.MMAP, 3, Mman.MAP_SHARED | Mman.MAP_FIXED, Errno.ENOMEM));
                } else {
                    Seccomp.install(Rule.denyWhen(Call.MSEAL, 1, page, Errno.ENOMEM),
                        Rule.denyWhen(Call.MPROTECT, 0, chunk, 2, Mman.PROT_READ | Mman.PROT_WRITE, Errno.EPERM));
                }
                report("arena seal", () -> {
                    arena.seal();
                    return "returned";
                });
                report("allocate after", () -> {
                    MemorySegment more = arena.allocate(16, 8);
                    more.set(ValueLayout.JAVA_BYTE, 0, (byte) 1); // where the memory is not writable: SIGSEGV
                    return "returned, written";
                });
                report("seal again", () -> {
                    arena.seal();
                    return "returned";
                });
                report("close", () -> {
                    arena.close();
                    return "returned";
                });
            }
            case "close-without-smaps" -> {
                // Page 1 sealed behind the region's back, and no descriptor left to read smaps with.
                MappedRegion region = MappedRegion.allocate(4 * page);
                long sealedAt = region.address() + page;
                System.out.println("raw mseal: " + LibC.mseal(sealedAt, page));
                loadEveryClass();
                Limits.limitOpenFiles(0);
                report("close without smaps", () -> {
                    region.close();
                    return "returned";
                });
                Limits.limitOpenFiles(1024);
                report("close again", () -> {
                    region.close();
                    return "returned";
                });
                List<io.github.mseal4j.internal.Smaps.Vma> left = io.github.mseal4j.internal.Smaps.read(
                    region.address(), region.address() + 4 * page);
                System.out.println("left mapped: " + left.stream().map(vma -> (vma.start() - region.address()) / page
                    + "-" + (vma.end() - region.address()) / page + (vma.sealed() ? " sealed" : "")).toList());
            }
            case "foreign-file" -> {
                // Someone maps a read-only shared file of their own over an ordinary region before it is sealed.
                MappedRegion region = MappedRegion.allocate(page);
                int fd = LibC.memfdCreate(Mman.MFD_CLOEXEC);
                LibC.ftruncate(fd, page);
                long mapped = LibC.mmap(region.address(), page, Mman.PROT_READ, Mman.MAP_SHARED | Mman.MAP_FIXED, fd, 0);
                System.out.println("foreign mapping: " + (mapped == region.address()));
                region.protect(Protection.READ);
                region.sealReadOnly();
                System.out.println("region after: isSealed=" + region.isSealed() + " isImmutable=" + region.isImmutable());
            }
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    /** Loading a class opens its file: loads every class of the library now, and warms formatting. */
    private static void loadEveryClass() throws Exception {
        Path classes = Path.of(System.getProperty("basedir", "."), "target", "classes");
        try (var files = Files.walk(classes.resolve("io/github/mseal4j"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".class")).toList()) {
                String name = classes.relativize(file).toString().replace('/', '.').replaceAll("\\.class$", "");
                Class.forName(name, false, FaultAfterProbeChild.class.getClassLoader());
            }
        }
        String.format("%s %d", "warm", 1);
    }

    private static void report(String what, Supplier<String> action) {
        String outcome;
        try {
            outcome = action.get();
        } catch (RuntimeException e) {
            outcome = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        System.out.println(what + ": " + outcome);
    }
}
