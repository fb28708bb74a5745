package io.github.mseal4j.doctor;

import io.github.mseal4j.MappedRegion;
import io.github.mseal4j.MappingOption;
import io.github.mseal4j.Mseal;
import io.github.mseal4j.SealStatistics;
import io.github.mseal4j.SystemCallException;
import io.github.mseal4j.doctor.Doctor.Attempt;
import io.github.mseal4j.doctor.Doctor.Demonstration;
import io.github.mseal4j.doctor.Doctor.Environment;
import io.github.mseal4j.doctor.Doctor.Hardening;
import io.github.mseal4j.doctor.Doctor.Immutable;
import io.github.mseal4j.doctor.Doctor.UserfaultfdWrites;
import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.Mman;
import io.github.mseal4j.internal.Smaps;
import io.github.mseal4j.internal.Userfaultfd;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * What the doctor examines and tries: the process's setting, then, where sealing works, scratch pages sealed and
 * attacked (every call the kernel must refuse, {@code /proc/self/mem}, userfaultfd), a hardened page and an
 * immutable one. The pages stay mapped: sealed memory is never freed. How the findings are shown is
 * {@link TextReport}'s and {@link JsonReport}'s.
 */
final class Checks {
    private static final byte[] MESSAGE = "sealed by the mseal4j doctor".getBytes(StandardCharsets.US_ASCII);

    private Checks() {
    }

    static Environment environment(Optional<String> policyProblem) {
        String policy = policyProblem.map(problem -> "invalid: " + problem).orElseGet(() -> Mseal.policy().name());
        String seccomp = "unknown";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Seccomp:")) {
                    seccomp = switch (line.substring("Seccomp:".length()).strip()) {
                        case "0" -> "disabled";
                        case "1" -> "strict";
                        case "2" -> "filter (a seccomp filter may refuse system calls)";
                        default -> line;
                    };
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or no /proc
        }
        SealStatistics statistics = Mseal.statistics();
        return new Environment(policy, policyProblem.isEmpty(), seccomp, statistics.mappings(),
            statistics.maxMapCount(), Errno.memlockLimit(), Errno.fileSizeLimit(), Errno.addressSpaceLimit(),
            Errno.dataLimit(), procMemForceOverride(), sealedForGood(statistics), mappingKinds());
    }

    /** What the library sealed for good here, how much of it is no longer referenced, and the budget. */
    private static String sealedForGood(SealStatistics statistics) {
        String budget = System.getProperty("io.github.mseal4j.maxSealedBytes");
        return statistics.sealedBytes() + " bytes in " + statistics.sealedRegions() + " regions, "
            + statistics.unreachableSealedBytes() + " no longer referenced; budget " + (budget == null
                ? "none (-Dio.github.mseal4j.maxSealedBytes unset)" : "-Dio.github.mseal4j.maxSealedBytes=" + budget);
    }

    /**
     * This process's sealed and immutable mappings by kind, as {@code /proc/<pid>/smaps} shows them to anyone
     * outside it: see {@code docs/operators.md}.
     */
    private static String mappingKinds() {
        try {
            List<Smaps.Vma> vmas = Smaps.read(0, Long.MAX_VALUE);
            long immutable = vmas.stream().filter(Smaps.Vma::immutable).count();
            long arena = vmas.stream().filter(vma -> vma.writeProtected() && !vma.sealed()).count();
            long sealed = vmas.stream().filter(Smaps.Vma::sealed).count();
            return immutable + " immutable and sealed (r--s /memfd:mseal4j, sl, no mw), " + arena + " immutable with"
                + " an arena's lifetime (the same, no sl), " + (sealed - immutable) + " other sealed (sl; some may be"
                + " the kernel's or another library's)";
        } catch (RuntimeException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    /** The kernel's {@code proc_mem.force_override=} boot option, if given. */
    private static String procMemForceOverride() {
        try {
            for (String word : Files.readString(Path.of("/proc/cmdline")).strip().split("\\s+")) {
                if (word.startsWith("proc_mem.force_override=")) {
                    return word.substring("proc_mem.force_override=".length());
                }
            }
            return "not set (the kernel's build default applies: CONFIG_PROC_MEM_ALWAYS_FORCE unless configured"
                + " otherwise)";
        } catch (IOException | RuntimeException e) {
            return "unknown (/proc/cmdline unreadable)";
        }
    }

    @SuppressWarnings("resource") // sealed: the page and its guards outlive close() by design
    private static Hardening harden(long pageSize) {
        List<MappingOption> options = new ArrayList<>(List.of(MappingOption.GUARD_PAGES, MappingOption.NO_DUMP,
            MappingOption.LOCKED, MappingOption.NO_FORK));
        String note = "";
        MappedRegion region;
        try {
            region = MappedRegion.allocate(pageSize, options.toArray(MappingOption[]::new));
        } catch (SystemCallException e) {
            note = "LOCKED could not be applied: " + e.getMessage();
            options.remove(MappingOption.LOCKED);
            region = MappedRegion.allocate(pageSize, options.toArray(MappingOption[]::new));
        }
        region.segment().copyFrom(MemorySegment.ofArray(MESSAGE));
        region.sealReadOnly();
        long data = region.address();
        List<Smaps.Vma> around = Smaps.read(data - pageSize, data + 2 * pageSize);
        return new Hardening(options.toString(), describe(around, data), describe(around, data - pageSize),
            describe(around, data + pageSize), note);
    }

    @SuppressWarnings("resource") // frozen: the page outlives close() by design
    private static Immutable freeze(long pageSize) {
        MappedRegion region = MappedRegion.allocate(pageSize, MappingOption.IMMUTABLE);
        region.segment().copyFrom(MemorySegment.ofArray(MESSAGE));
        region.sealReadOnly();
        long address = region.address();
        String mapping = describe(Smaps.read(address, address + pageSize), address);
        Optional<String> refused = writeProcMem(address, (byte) (MESSAGE[0] ^ 0x20));
        int mprotect = LibC.mprotect(address, pageSize, Mman.PROT_READ | Mman.PROT_WRITE);
        boolean intact = Arrays.equals(readProcMem(address, MESSAGE.length).orElse(null), MESSAGE);
        String detail = refused.map(f -> "the write was refused: " + f)
            .orElse("a write through /proc/self/mem was accepted");
        return new Immutable(mapping, region.isImmutable(), refused.isPresent(), detail, mprotect, intact);
    }

    private static String describe(List<Smaps.Vma> vmas, long address) {
        return vmas.stream().filter(vma -> vma.start() <= address && address < vma.end()).findFirst()
            .map(vma -> vma.permissions() + " " + vma.flagLine()).orElse("(not mapped)");
    }

    /**
     * Seals a scratch page and attacks it, then shows a hardened and an immutable page. A sealing call that
     * fails, or succeeds without sealing (the library checks), ends the demonstration as a finding: the probe
     * said sealing works and a real seal did not, which is what a seccomp filter or security module that treats
     * real ranges apart, or a process at {@code vm.max_map_count}, looks like.
     */
    @SuppressWarnings("resource") // sealed: the page outlives close() by design and is never unmapped
    static Demonstration demonstrate(long pageSize) {
        MappedRegion region = null;
        MemorySegment sealed;
        try {
            region = MappedRegion.allocate(pageSize);
            region.segment().copyFrom(MemorySegment.ofArray(MESSAGE));
            sealed = region.sealReadOnly();
        } catch (RuntimeException e) {
            long at = region == null ? 0 : region.address();
            Demonstration stopped = stopped(at, pageSize, e);
            if (region != null && !stopped.kernelReportsSealed()) {
                try {
                    region.close();
                } catch (RuntimeException ignored) {
                    // a scratch page left mapped is all it costs
                }
            }
            return stopped;
        }
        long address = region.address();

        List<Attempt> attempts = new ArrayList<>();
        attempts.add(new Attempt("mprotect(PROT_READ|PROT_WRITE)",
            LibC.mprotect(address, pageSize, Mman.PROT_READ | Mman.PROT_WRITE)));
        attempts.add(new Attempt("munmap", LibC.munmap(address, pageSize)));
        attempts.add(new Attempt("mremap(grow, MREMAP_MAYMOVE)",
            errnoOf(LibC.mremap(address, pageSize, 2 * pageSize, Mman.MREMAP_MAYMOVE, 0))));
        attempts.add(new Attempt("mmap(MAP_FIXED) over it", errnoOf(LibC.mmap(address, pageSize,
            Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED, -1, 0))));
        attempts.add(new Attempt("madvise(MADV_DONTNEED)", LibC.madvise(address, pageSize, Mman.MADV_DONTNEED)));

        // Read back through /proc/self/mem, not the segment: if an attack had worked, the page might be gone.
        boolean intact = Arrays.equals(readProcMem(address, MESSAGE.length).orElse(null), MESSAGE);
        List<Smaps.Vma> vmas = Smaps.read(address, address + pageSize);
        String flags = vmas.isEmpty() ? "(no mapping)" : vmas.getFirst().flagLine();
        boolean kernelSealed = Smaps.coveredAndSealed(vmas, address, address + pageSize);

        boolean reached = false;
        String detail;
        if (attempts.stream().allMatch(Attempt::blocked)) {
            byte before = sealed.get(ValueLayout.JAVA_BYTE, 0);
            byte written = (byte) (before ^ 0x20);
            Optional<String> failure = writeProcMem(address, written);
            reached = sealed.get(ValueLayout.JAVA_BYTE, 0) == written;
            detail = failure.map(f -> "the write was refused: " + f).orElse(reached
                ? "a write through /proc/self/mem changed the sealed read-only page (the kernel's FOLL_FORCE allows"
                    + " it for ordinary memory; immutable memory refuses it, see below)"
                : "the write returned but the page did not change");
        } else {
            detail = "not tried: an attack on the sealed page succeeded";
        }
        Optional<String> failure = Optional.empty();
        Hardening hardening;
        try {
            hardening = harden(pageSize);
        } catch (RuntimeException e) {
            failure = Optional.of("the hardened page: " + describe(e));
            hardening = new Hardening("not shown", "", "", "", failure.get());
        }
        Optional<Immutable> immutable = Optional.empty();
        if (failure.isEmpty() && Mseal.immutability().available()) {
            try {
                immutable = Optional.of(freeze(pageSize));
            } catch (RuntimeException e) {
                failure = Optional.of("the immutable page: " + describe(e));
            }
        }
        Optional<UserfaultfdWrites> userfaultfd = Optional.empty();
        if (failure.isEmpty()) {
            try {
                userfaultfd = Optional.of(userfaultfd(pageSize));
            } catch (RuntimeException e) {
                failure = Optional.of("the userfaultfd pages: " + describe(e));
            }
        }
        return new Demonstration(address, pageSize, List.copyOf(attempts), intact, flags, kernelSealed, reached,
            detail, hardening, immutable, userfaultfd, failure);
    }

    /**
     * Tries userfaultfd (unprivileged, {@code UFFD_USER_MODE_ONLY}) on three scratch pages, none ever written: one
     * sealed read-only by a bare {@code mseal} (what the kernel allows), one sealed read-only by the library, and
     * an immutable one. All three stay mapped: sealed.
     */
    @SuppressWarnings("resource") // sealed: the pages outlive close() by design
    private static UserfaultfdWrites userfaultfd(long pageSize) {
        try (Userfaultfd uffd = Userfaultfd.open(Userfaultfd.USER_MODE_ONLY)) {
            if (uffd.refused() != 0) {
                return new UserfaultfdWrites(uffd.refused(), -1, -1, -1);
            }
            byte[] forged = new byte[(int) pageSize];
            Arrays.fill(forged, (byte) 0x66);
            int raw = -1;
            long bare = LibC.mmap(0, pageSize, Mman.PROT_READ, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, -1, 0);
            if (!LibC.failed(bare) && bare != 0 && LibC.mseal(bare, pageSize) == 0) {
                int registered = uffd.register(bare, pageSize);
                raw = registered != 0 ? registered : uffd.copy(bare, forged);
            }
            MappedRegion region = MappedRegion.allocate(pageSize);
            long sealed = region.sealReadOnly().address();
            int registered = uffd.register(sealed, pageSize);
            int library = registered != 0 ? registered : uffd.copy(sealed, forged);
            int immutable = -1;
            if (Mseal.immutability().available()) {
                MappedRegion frozen = MappedRegion.allocate(pageSize, MappingOption.IMMUTABLE);
                immutable = uffd.register(frozen.sealReadOnly().address(), pageSize);
            }
            return new UserfaultfdWrites(0, raw, library, immutable);
        }
    }

    /**
     * A demonstration that stopped with {@code e} before any attack, with what smaps says of the scratch page at
     * {@code address} (0: none was mapped), if smaps can be read.
     */
    static Demonstration stopped(long address, long pageSize, RuntimeException e) {
        String flags = "(no mapping)";
        boolean kernelSealed = false;
        if (address != 0) {
            try {
                List<Smaps.Vma> vmas = Smaps.read(address, address + pageSize);
                kernelSealed = Smaps.coveredAndSealed(vmas, address, address + pageSize);
                flags = vmas.isEmpty() ? flags : vmas.getFirst().flagLine();
            } catch (RuntimeException unreadable) {
                flags = "(unknown: " + unreadable.getMessage() + ")";
            }
        }
        return new Demonstration(address, pageSize, List.of(), false, flags, kernelSealed, false,
            "not tried: the demonstration stopped first", new Hardening("not shown", "", "", "", ""), Optional.empty(),
            Optional.empty(), Optional.of(describe(e)));
    }

    private static String describe(RuntimeException e) {
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    private static int errnoOf(long addressOrNegativeErrno) {
        return LibC.failed(addressOrNegativeErrno) ? (int) -addressOrNegativeErrno : 0;
    }

    private static Optional<byte[]> readProcMem(long address, int length) {
        try (FileChannel mem = FileChannel.open(Path.of("/proc/self/mem"), StandardOpenOption.READ)) {
            ByteBuffer buffer = ByteBuffer.allocate(length);
            while (buffer.hasRemaining() && mem.read(buffer, address + buffer.position()) > 0) {
                // keep reading
            }
            return Optional.of(buffer.array());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static Optional<String> writeProcMem(long address, byte value) {
        try (FileChannel mem = FileChannel.open(Path.of("/proc/self/mem"), StandardOpenOption.WRITE)) {
            mem.write(ByteBuffer.wrap(new byte[] {value}), address);
            return Optional.empty();
        } catch (IOException e) {
            return Optional.of(String.valueOf(e.getMessage()));
        }
    }
}
