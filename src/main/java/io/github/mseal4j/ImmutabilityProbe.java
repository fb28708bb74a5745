package io.github.mseal4j;

import io.github.mseal4j.SealSupport.Status;
import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.internal.FileStat;
import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.Mman;
import io.github.mseal4j.internal.Smaps;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.Optional;

/**
 * Whether immutable memory works here: mseal, a memfd that takes the four file seals, and the whole recipe of a
 * freeze on one scratch page, through the same checked calls a freeze makes ({@link CheckedCalls}): written through
 * a shared read-write mapping, replaced by a placeholder, the file sealed, mapped read-only and shared again
 * (through a descriptor opened read-only where {@code /proc} gives one, as the freeze does), its byte read back,
 * and that mapping refusing to become writable (EACCES). Only the mseal of the result is left out: it would be
 * permanent, and mseal has a probe of its own. Everything is unmapped and closed again.
 */
final class ImmutabilityProbe {
    private static final String SHORT_OF_DESCRIPTORS = "no file descriptor was left (ulimit -n); a passing shortage,"
        + " so the next call asks again";
    private static final byte SCRATCH_BYTE = 0x5a;

    private ImmutabilityProbe() {
    }

    /**
     * The verdict, and whether it lasts: a verdict that came from a passing shortage (no file descriptor or memory
     * left at that moment) says nothing about the host and is asked again next time.
     */
    record Immutability(SealSupport verdict, boolean lasting) {
    }

    /** Probes this host; {@code mseal} is the mseal verdict. Never throws. */
    static Immutability probe(SealSupport mseal) {
        if (!mseal.available()) {
            return new Immutability(new SealSupport(mseal.status(), "immutable memory needs mseal, which is not"
                + " available: " + mseal.reason()), true);
        }
        int fd;
        try {
            fd = Memfd.open();
        } catch (RuntimeException e) {
            return new Immutability(new SealSupport(Status.PROBE_FAILED, "memfd_create could not be called: "
                + e.getMessage()), true);
        }
        if (fd < 0) {
            return memfdRefused(-fd);
        }
        try {
            long page = LibC.pageSize();
            CheckedCalls.truncateFile(fd, page);
            return freezeScratchPage(fd, page);
        } catch (SystemCallException e) {
            boolean passing = e.errno() == Errno.ENOMEM || e.errno() == Errno.ENOSPC || e.errno() == Errno.EMFILE
                || e.errno() == Errno.ENFILE;
            return new Immutability(new SealSupport(e.operation().equals("fcntl") ? Status.FILE_SEALS_UNAVAILABLE
                : Status.PROBE_FAILED, "a freeze of a scratch page failed: " + e.getMessage()), !passing);
        } catch (RuntimeException e) {
            return new Immutability(new SealSupport(Status.PROBE_FAILED, "a freeze of a scratch page failed: "
                + e.getMessage()), true);
        } finally {
            LibC.close(fd);
        }
    }

    private static Immutability memfdRefused(int errno) {
        boolean shortage = errno == Errno.EMFILE || errno == Errno.ENFILE || errno == Errno.ENOMEM;
        String cause = switch (errno) {
            case Errno.ENOSYS -> "the kernel has no memfd_create (Linux 3.17+), or a seccomp filter answers ENOSYS";
            case Errno.EPERM -> "a seccomp filter or security module forbids it (for example a container profile)";
            case Errno.EACCES -> "vm.memfd_noexec or a security module forbids it";
            case Errno.EMFILE, Errno.ENFILE -> SHORT_OF_DESCRIPTORS;
            case Errno.ENOMEM -> "the kernel was out of memory; a passing shortage, so the next call asks again";
            default -> "unexpected";
        };
        return new Immutability(new SealSupport(Status.MEMFD_UNAVAILABLE, "immutable memory needs memfd_create,"
            + " which failed with " + Errno.name(errno) + " (errno " + errno + "): " + cause), !shortage);
    }

    /**
     * The freeze's steps on one page of {@code fd}, in a mapping of its own that is unmapped again. The read-only
     * map goes through the memfd's own descriptor where the kernel allows it, as a freeze can then prove the
     * mapped file sealed; where it is refused (EPERM: Linux before 6.7, 6.12.0 to 6.12.8), through a descriptor
     * opened read-only, and {@link Memfd#throughReadOnlyDescriptor} records that freezes must do the same.
     */
    private static Immutability freezeScratchPage(int fd, long page) {
        FileStat file = FileStat.of(fd);
        long at = LibC.mmap(0, page, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, fd, 0);
        if (LibC.failed(at) || at == 0) {
            int errno = LibC.failed(at) ? (int) -at : 0;
            return new Immutability(new SealSupport(Status.PROBE_FAILED, "a shared read-write mapping of a new memfd"
                + " failed with " + (errno == 0 ? "the address 0x0" : Errno.name(errno))), errno == Errno.ENOMEM);
        }
        int readOnly = -1;
        try {
            try (Arena arena = Arena.ofConfined()) {
                LibC.view(at, page, arena).set(ValueLayout.JAVA_BYTE, 0, SCRATCH_BYTE);
            }
            CheckedCalls.mappedAt(LibC.mmap(at, page, Mman.PROT_NONE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS
                | Mman.MAP_FIXED | Mman.MAP_NORESERVE, -1, 0), at, page, "PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS|"
                + "MAP_FIXED|MAP_NORESERVE", "");
            CheckedCalls.sealFile(fd);
            long mapped = LibC.mmap(at, page, Mman.PROT_READ, Mman.MAP_SHARED | Mman.MAP_FIXED, fd, 0);
            boolean throughOwn = mapped == at;
            String through = "own descriptor";
            if (mapped == -Errno.EPERM) {
                int opened = Memfd.openReadOnly(fd);
                if (opened == -Errno.EMFILE || opened == -Errno.ENFILE) {
                    return new Immutability(new SealSupport(Status.PROBE_FAILED, "opening the memfd read-only failed"
                        + " with " + Errno.name(-opened) + ": " + SHORT_OF_DESCRIPTORS), false);
                }
                if (opened < 0) {
                    through = "own descriptor, and no read-only one could be opened (/proc/thread-self/fd: "
                        + Errno.name(-opened) + ")";
                } else {
                    readOnly = opened;
                    through = "own descriptor (EPERM), then through one opened read-only (/proc/thread-self/fd)";
                    mapped = LibC.mmap(at, page, Mman.PROT_READ, Mman.MAP_SHARED | Mman.MAP_FIXED, readOnly, 0);
                }
            }
            if (LibC.failed(mapped) && mapped != -Errno.ENOMEM) {
                int errno = (int) -mapped;
                return new Immutability(new SealSupport(Status.READ_ONLY_MAP_REFUSED, "the kernel refused to map a"
                    + " write-sealed memfd read-only and shared: mmap(PROT_READ, MAP_SHARED) through its " + through
                    + " failed with " + Errno.name(errno) + " (errno " + errno + "); "
                    + Errno.remedy("mmap", errno, page, Memfd.readOnlyMapArguments(readOnly))), true);
            }
            CheckedCalls.mappedAt(mapped, at, page, Memfd.readOnlyMapArguments(readOnly), "");
            Optional<Smaps.MappedFile> shown;
            try {
                shown = Smaps.mappedFileAt(at);
            } catch (RuntimeException e) {
                return new Immutability(new SealSupport(Status.PROBE_FAILED, "a freeze checks which file it mapped"
                    + " in /proc/self/maps, which cannot be read here (" + e.getMessage() + ")"), true);
            }
            if (shown.isEmpty() || !shown.get().of(file)) {
                return new Immutability(new SealSupport(Status.PROBE_FAILED, "/proc/self/maps does not show the"
                    + " memfd a scratch freeze mapped: " + shown), true);
            }
            try (Arena arena = Arena.ofConfined()) {
                byte read = LibC.view(at, page, arena).get(ValueLayout.JAVA_BYTE, 0);
                int writable = LibC.mprotect(at, page, Mman.PROT_READ | Mman.PROT_WRITE);
                if (read != SCRATCH_BYTE || writable != Errno.EACCES) {
                    return new Immutability(new SealSupport(Status.PROBE_FAILED, "a write-sealed memfd mapped"
                        + " read-only " + (read != SCRATCH_BYTE ? "did not show what was written to it"
                        : "answered mprotect(PROT_READ|PROT_WRITE) with " + (writable == 0 ? "success"
                        : Errno.name(writable)) + " instead of EACCES") + ": it is not known to stay unwritable"
                        + " here"), true);
                }
            }
            Memfd.throughReadOnlyDescriptor = !throughOwn;
        } finally {
            LibC.munmap(at, page);
            if (readOnly >= 0) {
                LibC.close(readOnly);
            }
        }
        return new Immutability(new SealSupport(Status.AVAILABLE, "immutable memory is available: mseal works, a"
            + " memfd takes the file seals F_SEAL_WRITE, F_SEAL_SHRINK, F_SEAL_GROW and F_SEAL_SEAL, and the kernel"
            + " maps it read-only once they are on" + (Memfd.throughReadOnlyDescriptor ? " (through a descriptor"
            + " opened read-only: this kernel refuses it through the memfd's own)" : "")), true);
    }
}
