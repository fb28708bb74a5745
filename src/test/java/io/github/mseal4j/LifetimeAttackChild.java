package io.github.mseal4j;

import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.Smaps;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Attack round 10, on the lifetimes (issue 16), run in child JVMs by {@link LifetimeAttackTest}. Prints {@code <mode>: ok} and
 * exits 0 when the library's guarantee holds; anything else (an AssertionError naming what broke) is a defect.
 */
public final class LifetimeAttackChild {
    private static final long PAGE = Mseal.pageSize();
    private static final int MREMAP_MAYMOVE = 1;
    private static final int MREMAP_FIXED = 2;

    private LifetimeAttackChild() {
    }

    public static void main(String[] args) throws Throwable {
        switch (args[0]) {
            case "alias" -> aliasRemap();
            case "arenaBudgetRace" -> arenaBudgetRace();
            case "inject" -> inject(args[1]);
            case "unreachable" -> unreachable();
            case "swapReadOnly" -> swapReadOnly(args[1]);
            case "writePaths" -> writePaths();
            case "arenaZeroWhole" -> arenaZeroWhole();
            case "closeRace" -> closeRace();
            default -> throw new IllegalArgumentException(args[0]);
        }
        System.out.println(args[0] + ": ok");
    }

    /**
     * Guarantee 1 / isImmutable: an arena map's mapping is replaced (documented as possible), here by a mapping of
     * the SAME memfd at another file offset, made with mremap alone (no descriptor needed: mremap(old_size = 0)
     * duplicates a shared mapping). The bytes at the map's address change, yet isImmutable() must not say true.
     */
    private static void aliasRemap() {
        Map<String, String> source = new LinkedHashMap<>();
        for (int i = 0; i < 400; i++) {
            source.put("key-" + i, "value-" + i);
        }
        try (Arena arena = Arena.ofShared()) {
            SealedMap map = SealedMap.copyOf(source, arena);
            MemorySegment memory = map.memory();
            long start = memory.address();
            long size = (memory.byteSize() + PAGE - 1) & -PAGE;
            check(size >= 2 * PAGE, "the map spans at least two pages: " + size);
            check(map.isImmutable(), "immutable as built");
            long magic = memory.get(ValueLayout.JAVA_LONG, 0);
            check(magic == MapLayout.MAGIC, "header as built");

            // 1. A second mapping of the same file, from file offset PAGE, the map's size long, somewhere else.
            long alias = LibC.mremap(start + PAGE, 0, size, MREMAP_MAYMOVE, 0);
            check(alias > 0, "mremap(old_size 0) duplicated the shared mapping: " + alias);
            // 2. Moved over the map's own mapping (which it unmaps): the same file, at offset PAGE.
            long moved = LibC.mremap(alias, size, size, MREMAP_MAYMOVE | MREMAP_FIXED, start);
            check(moved == start, "moved over the map: " + moved);

            long now = memory.get(ValueLayout.JAVA_LONG, 0); // the first page is the file's second page now
            System.out.printf("header before 0x%x, after 0x%x%n", magic, now);
            check(now != magic, "the bytes at the map's address changed");
            Smaps.read(start, start + size).forEach(v -> System.out.println("vma: " + v));
            boolean immutable = map.isImmutable();
            System.out.println("isImmutable() after the remap: " + immutable);
            check(!immutable, "isImmutable() says true although the map's bytes changed (its mapping now shows"
                + " file offset " + PAGE + " at the map's address)");
        }
    }

    /**
     * Guarantee 5: a SealedArena seal that would pass the budget must throw "before anything changes", leaving the
     * arena building and its segments usable. Another seal holds the budget (here: a permit held by another
     * thread, as any seal in progress does); the arena's seal reads bytesToSeal() (1 page), then waits for the
     * budget; an allocation meanwhile adds pages; the seal passes the first check, stops allocations (closing the
     * building arena), fails the second check, and goes back to building: every segment handed out is dead.
     */
    private static void arenaBudgetRace() throws Exception {
        SealedArena arena = SealedArena.create();
        MemorySegment key = arena.allocate(PAGE);
        key.set(ValueLayout.JAVA_BYTE, 0, (byte) 7);

        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread other = new Thread(() -> {
            try (var _ = SealCounters.budget(PAGE)) { // another seal in progress, holding the budget
                held.countDown();
                release.await();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        other.start();
        held.await();

        AtomicReference<Throwable> sealFailure = new AtomicReference<>();
        Thread sealer = new Thread(() -> {
            try {
                arena.seal();
            } catch (Throwable t) {
                sealFailure.set(t);
            }
        });
        sealer.start();
        while (sealer.getState() != Thread.State.WAITING) { // parked on the budget lock, bytesToSeal() read
            Thread.onSpinWait();
        }
        MemorySegment more = arena.allocate(8 * PAGE); // lock-free, while the seal waits
        more.set(ValueLayout.JAVA_BYTE, 0, (byte) 9);
        release.countDown();
        other.join();
        sealer.join();

        Throwable failure = sealFailure.get();
        System.out.println("seal(): " + failure);
        check(failure instanceof IllegalStateException && failure.getMessage().contains("budget"),
            "the seal is refused by the budget: " + failure);
        check(!arena.isSealed(), "not sealed");
        try {
            check(key.get(ValueLayout.JAVA_BYTE, 0) == 7, "the key holds its byte");
            check(more.get(ValueLayout.JAVA_BYTE, 0) == 9, "the later allocation holds its byte");
        } catch (IllegalStateException e) {
            throw new AssertionError("a seal refused by the budget ('nothing was changed') invalidated the arena's"
                + " segments: " + e, e);
        }
    }

    /**
     * Guarantee 3: a failure half-way (one call refused by seccomp) leaves nothing mapped, no descriptor open, and
     * says which call failed; for each of the arena variants.
     */
    private static void inject(String call) throws Exception {
        java.nio.file.Path file = java.nio.file.Files.createTempFile("attack16", ".txt");
        byte[] content = "allow all".repeat(1000).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        java.nio.file.Files.write(file, content);
        String digest = java.util.HexFormat.of().formatHex(
            java.security.MessageDigest.getInstance("SHA-256").digest(content));
        try (Arena warm = Arena.ofConfined()) { // classes loaded, probes done
            Mseal.freeze(new byte[16], warm);
            SealedMap.copyOf(Map.of("k", "v"), warm);
            Mseal.freeze(file, digest, warm);
        }
        io.github.mseal4j.testing.Seccomp.Rule rule = switch (call) {
            case "memfd_create" -> io.github.mseal4j.testing.Seccomp.Rule.deny(
                io.github.mseal4j.testing.Seccomp.Call.MEMFD_CREATE, 24);
            case "ftruncate" -> io.github.mseal4j.testing.Seccomp.Rule.deny(
                io.github.mseal4j.testing.Seccomp.Call.FTRUNCATE, 27);
            case "fcntl" -> io.github.mseal4j.testing.Seccomp.Rule.denyWhen(
                io.github.mseal4j.testing.Seccomp.Call.FCNTL, 1, 1033, 1);
            case "mmap-ro" -> io.github.mseal4j.testing.Seccomp.Rule.denyWhen(
                io.github.mseal4j.testing.Seccomp.Call.MMAP, 2, 1, 3, 0x8001, 12);
            case "mmap-rw" -> io.github.mseal4j.testing.Seccomp.Rule.denyWhen(
                io.github.mseal4j.testing.Seccomp.Call.MMAP, 2, 3, 3, 1, 12);
            case "madvise" -> io.github.mseal4j.testing.Seccomp.Rule.denyWhen(
                io.github.mseal4j.testing.Seccomp.Call.MADVISE, 2, 10, 22);
            case "mprotect" -> io.github.mseal4j.testing.Seccomp.Rule.denyWhen(
                io.github.mseal4j.testing.Seccomp.Call.MPROTECT, 2, 3, 1);
            case "mprotect-fake" -> io.github.mseal4j.testing.Seccomp.Rule.denyWhen(
                io.github.mseal4j.testing.Seccomp.Call.MPROTECT, 2, 3, 0);
            case "pwrite" -> io.github.mseal4j.testing.Seccomp.Rule.deny(
                io.github.mseal4j.testing.Seccomp.Call.PWRITE64, 28);
            case "pwrite-fake" -> io.github.mseal4j.testing.Seccomp.Rule.deny(
                io.github.mseal4j.testing.Seccomp.Call.PWRITE64, 0);
            default -> throw new IllegalArgumentException(call);
        };
        long fds = fds();
        long mappings = memfdMappings();
        io.github.mseal4j.testing.Seccomp.install(rule);
        java.util.List<java.util.concurrent.Callable<Object>> attempts = java.util.List.of(
            () -> Mseal.freeze(new byte[16], Arena.ofAuto()),
            () -> SealedMap.copyOf(Map.of("k", "v"), Arena.ofAuto()),
            () -> Mseal.freeze(file, digest, Arena.ofAuto()));
        int i = 0;
        StringBuilder problems = new StringBuilder();
        for (var attempt : attempts) {
            i++;
            try {
                Object made = attempt.call();
                System.out.println(call + " #" + i + ": no failure: " + made);
                if (made instanceof MemorySegment segment && segment.byteSize() == 16) {
                    for (long b = 0; b < 16; b++) {
                        if (segment.get(ValueLayout.JAVA_BYTE, b) != 0) {
                            problems.append("#" + i + " returned wrong bytes; ");
                        }
                    }
                }
            } catch (Throwable t) {
                System.out.println(call + " #" + i + ": " + t);
                String name = call.replace("-ro", "").replace("-rw", "").replace("-fake", "");
                if (!String.valueOf(t.getMessage()).contains(name)) {
                    problems.append("#" + i + " does not name " + name + ": " + t + "; ");
                }
            }
            if (fds() != fds) {
                problems.append("#" + i + " left " + (fds() - fds) + " descriptors; ");
            }
        }
        System.gc();
        Thread.sleep(300);
        System.gc();
        Thread.sleep(300);
        System.out.println("memfd mappings before " + mappings + ", after " + memfdMappings());
        check(problems.isEmpty(), problems.toString());
    }

    /**
     * Guarantee 6: memory still referenced only through derived objects (slices of views, a byte buffer, a map's
     * Map view or value segment, an arena's sealed views, a whole allocation's view) is never counted; what was
     * dropped is counted exactly, once; counting from many threads at once throws nothing.
     */
    private static void unreachable() throws Exception {
        long u0 = SealCounters.unreachable();
        long b0 = SealCounters.bytes();
        SealedArena arena = SealedArena.create();
        MemorySegment seg = arena.allocate(64);
        seg.set(ValueLayout.JAVA_LONG, 8, 0x1234L);
        arena.seal();
        MemorySegment keptArenaView = arena.sealedView(seg).asSlice(8, 8);
        arena.close();
        arena = null;
        SealedArena wholeArena = SealedArena.create(PAGE);
        MemorySegment whole = wholeArena.allocate(3 * PAGE);
        whole.set(ValueLayout.JAVA_BYTE, 0, (byte) 5);
        wholeArena.seal();
        MemorySegment keptWhole = wholeArena.sealedView(whole).asSlice(0, 1);
        wholeArena = null;
        MappedRegion region = MappedRegion.allocate(PAGE);
        region.segment().set(ValueLayout.JAVA_LONG, 0, 77L);
        MemorySegment keptRegionSlice = region.sealReadOnly().asSlice(0, 8);
        region = null;
        java.nio.ByteBuffer keptBuffer = Mseal.freeze(new byte[] {1, 2, 3}).asByteBuffer();
        Map<String, String> keptMapView = SealedMap.copyOf(Map.of("a", "b")).asMap();
        MemorySegment keptValue = SealedMap.builder().put(new byte[] {1}, new byte[] {2, 3}).build()
            .get(new byte[] {1}).asSlice(1, 1);
        var keptIterator = SealedMap.copyOf(Map.of("i", "j")).asMap().entrySet().iterator();
        long kept = SealCounters.bytes() - b0;
        long before = SealCounters.bytes();
        SealedMap.copyOf(Map.of("big", "b".repeat((int) PAGE)));
        Mseal.freeze(new byte[100]);
        long dropped = SealCounters.bytes() - before;

        // Many threads asking at once, while the collector clears references.
        java.util.List<Thread> askers = new java.util.ArrayList<>();
        AtomicReference<Throwable> askFailure = new AtomicReference<>();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        for (int t = 0; t < 4; t++) {
            Thread asker = new Thread(() -> {
                try {
                    while (!stop.get()) {
                        Mseal.statistics().unreachableSealedBytes();
                        SealCounters.unreachable();
                    }
                } catch (Throwable e) {
                    askFailure.set(e);
                }
            });
            asker.start();
            askers.add(asker);
        }
        long seen = awaitUnreachable(u0 + dropped);
        for (int i = 0; i < 10; i++) {
            System.gc();
            seen = SealCounters.awaitUnreachable(50);
        }
        stop.set(true);
        for (Thread asker : askers) {
            asker.join();
        }
        check(askFailure.get() == null, "counting from many threads threw " + askFailure.get());
        System.out.println("kept " + kept + ", dropped " + dropped + ", unreachable " + (seen - u0));
        check(seen - u0 == dropped, "unreachable " + (seen - u0) + " must be exactly the dropped " + dropped
            + " (kept " + kept + ")");
        check(keptArenaView.get(ValueLayout.JAVA_LONG, 0) == 0x1234L && keptWhole.get(ValueLayout.JAVA_BYTE, 0) == 5
            && keptRegionSlice.get(ValueLayout.JAVA_LONG, 0) == 77L && keptBuffer.get(2) == 3
            && "b".equals(keptMapView.get("a")) && keptValue.get(ValueLayout.JAVA_BYTE, 0) == 3
            && keptIterator.hasNext(), "kept");
        keptArenaView = null;
        keptWhole = null;
        keptRegionSlice = null;
        keptBuffer = null;
        keptMapView = null;
        keptValue = null;
        keptIterator = null;
        seen = awaitUnreachable(u0 + dropped + kept);
        for (int i = 0; i < 10; i++) {
            System.gc();
            seen = SealCounters.awaitUnreachable(50);
        }
        check(seen - u0 == dropped + kept, "all counted once: " + (seen - u0) + " of " + (dropped + kept));
    }

    private static long awaitUnreachable(long expected) throws InterruptedException {
        long seen = SealCounters.unreachable();
        for (int attempt = 0; attempt < 100 && seen < expected; attempt++) {
            System.gc();
            seen = SealCounters.awaitUnreachable(50);
        }
        return seen;
    }

    /**
     * Guarantee 2/3: freezes and arena maps racing their arena's close from another thread: each either succeeds
     * (and is unmapped by the close) or throws IllegalStateException; nothing is left mapped, no descriptor left.
     */
    private static void closeRace() throws Exception {
        try (Arena warm = Arena.ofShared()) {
            Mseal.freeze(new byte[64], warm);
            SealedMap.copyOf(Map.of("k", "v"), warm);
        }
        System.out.println("fds before: " + fdLinks());
        long fds = fds();
        long mappings = memfdMappings();
        int refused = 0;
        int made = 0;
        for (int i = 0; i < 2000; i++) {
            Arena arena = Arena.ofShared();
            CountDownLatch go = new CountDownLatch(1);
            Thread closer = new Thread(() -> {
                try {
                    go.await();
                    for (int spin = 0; spin < (System.nanoTime() & 0xfff); spin++) {
                        Thread.onSpinWait();
                    }
                    arena.close();
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            closer.start();
            go.countDown();
            try {
                if ((i & 1) == 0) {
                    Mseal.freeze(new byte[64], arena);
                } else {
                    SealedMap.copyOf(Map.of("k" + i, "v"), arena);
                }
                made++;
            } catch (IllegalStateException e) {
                refused++;
            }
            closer.join();
        }
        System.out.println("made " + made + ", refused " + refused);
        check(fds() == fds, "descriptors left: " + (fds() - fds) + " " + fdLinks());
        check(memfdMappings() == mappings, "mappings left: " + (memfdMappings() - mappings));
    }

    static java.util.List<String> fdLinks() {
        try (var list = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/fd"))) {
            return list.map(p -> {
                try {
                    return p.getFileName() + "->" + java.nio.file.Files.readSymbolicLink(p);
                } catch (IOException e) {
                    return p.getFileName() + "->?";
                }
            }).toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static long fds() {
        try (var list = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/fd"))) {
            return list.count();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static long memfdMappings() {
        return Smaps.read(0, Long.MAX_VALUE).stream().filter(vma -> vma.path().equals(Smaps.MEMFD_PATH)).count();
    }

    /**
     * Guarantee 5: with a budget of 4 pages, an arena holding 4 pages of data and one empty allocation at a large
     * alignment (which gets a one-page region of its own) is counted as 4 pages by bytesToSeal() (the empty
     * allocation as 0), passes both checks, seals the 4 pages for good, and is refused only at the empty region:
     * something changed (part-sealed), where the budget promises a refusal before anything changes.
     */
    private static void arenaZeroWhole() {
        SealedArena arena = SealedArena.create();
        MemorySegment data = arena.allocate(4 * PAGE);
        data.set(ValueLayout.JAVA_BYTE, 0, (byte) 7);
        MemorySegment empty = arena.allocate(0, 2L << 20); // larger than the chunk less a page: a region of its own
        long sealedBefore = SealCounters.bytes();
        Throwable failure = null;
        try {
            arena.seal();
        } catch (Throwable t) {
            failure = t;
        }
        System.out.println("seal(): " + failure + "; sealed bytes " + sealedBefore + " -> " + SealCounters.bytes()
            + "; empty allocation " + empty);
        if (failure == null) {
            check(SealCounters.bytes() <= 4 * PAGE, "sealed past the budget: " + SealCounters.bytes());
            return;
        }
        check(SealCounters.bytes() == sealedBefore, "a seal refused by the budget sealed "
            + (SealCounters.bytes() - sealedBefore) + " bytes for good first (the arena is now part-sealed: "
            + failure.getMessage() + ")");
    }

    /**
     * Guarantee 1: the write paths against an arena's frozen copy: mprotect to writable, MADV_REMOVE, userfaultfd
     * registration, /proc/self/mem; and (as root) the memfd reopened read-write through /proc/self/map_files, then
     * pwrite, ftruncate, fallocate(PUNCH_HOLE), MAP_SHARED|PROT_WRITE. Each must fail, and the bytes stay.
     */
    @SuppressWarnings("restricted")
    private static void writePaths() throws Throwable {
        byte[] bytes = "an arena's frozen key, twenty-nine".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment frozen = Mseal.freeze(bytes, arena);
            long at = frozen.address();
            StringBuilder report = new StringBuilder();
            report.append("mprotect RW: ").append(io.github.mseal4j.internal.Errno.name(
                LibC.mprotect(at, PAGE, 3))).append('\n');
            report.append("madvise REMOVE: ").append(io.github.mseal4j.internal.Errno.name(
                LibC.madvise(at, PAGE, 9))).append('\n');
            report.append("madvise DONTNEED: ").append(LibC.madvise(at, PAGE, 4)).append('\n');
            try (var uffd = io.github.mseal4j.internal.Userfaultfd.open(
                    io.github.mseal4j.internal.Userfaultfd.USER_MODE_ONLY)) {
                report.append("uffd register: ").append(uffd.register(at, PAGE)).append('\n');
            } catch (RuntimeException e) {
                report.append("uffd: ").append(e).append('\n');
            }
            try {
                io.github.mseal4j.testing.ProcMem.write(at, new byte[] {'X'});
                report.append("proc/self/mem: WRITTEN\n");
            } catch (java.io.UncheckedIOException e) {
                report.append("proc/self/mem: ").append(e.getCause().getMessage()).append('\n');
            }
            java.nio.file.Path link = java.nio.file.Path.of(String.format("/proc/self/map_files/%x-%x", at, at + PAGE));
            int fd = LibC.open(link.toString(), 2 /* O_RDWR */);
            report.append("map_files open O_RDWR: ").append(fd).append('\n');
            if (fd >= 0) {
                try (Arena scratch = Arena.ofConfined()) {
                    MemorySegment x = scratch.allocateFrom("X");
                    report.append("pwrite: ").append(LibC.pwrite(fd, x.asSlice(0, 1), 0)).append('\n');
                }
                report.append("ftruncate: ").append(io.github.mseal4j.internal.Errno.name(LibC.ftruncate(fd, 0)))
                    .append('\n');
                java.lang.foreign.Linker linker = java.lang.foreign.Linker.nativeLinker();
                java.lang.invoke.MethodHandle fallocate = linker.downcallHandle(
                    linker.defaultLookup().find("fallocate").orElseThrow(),
                    java.lang.foreign.FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG));
                report.append("fallocate PUNCH_HOLE: ").append((int) fallocate.invokeExact(fd, 0x03, 0L, PAGE))
                    .append('\n');
                long w = LibC.mmap(0, PAGE, 3, 1, fd, 0);
                report.append("mmap shared RW: ").append(w).append('\n');
                long fixed = LibC.fcntl(fd, 1033 /* F_ADD_SEALS */, 0);
                report.append("F_ADD_SEALS 0: ").append(fixed).append('\n');
                LibC.close(fd);
            }
            System.out.print(report);
            check(java.util.Arrays.equals(frozen.toArray(ValueLayout.JAVA_BYTE), bytes), "the bytes stay");
            check(!report.toString().contains("WRITTEN"), "written");
        }
    }

    /**
     * Guarantee 1, on kernels that map a write-sealed memfd read-only only through a second, read-only descriptor
     * (Linux before 6.7, 6.12.0-6.12.8; simulated as DescriptorSwapChild does, by setting the flag the probe sets
     * there). The region freeze checks that descriptor (which file, which seals) just before the map
     * (checkReadOnlyDescriptor, the round-9 fix); freezeNew, new with issue 16 and now behind every Mseal.freeze,
     * does not. Other code in the process points the memfd's descriptor number at a decoy memfd (dup2) after the
     * contents are written, so F_ADD_SEALS seals the decoy; once the decoy is sealed it points the number back at
     * the real memfd, which is opened read-only, mapped, and handed out (sealed with mseal, or with the arena's
     * lifetime) though its file was never sealed: a descriptor kept to it writes the "immutable" bytes.
     */
    private static void swapReadOnly(String variant) throws Exception {
        java.nio.file.Path file = java.nio.file.Files.createTempFile("attack16", ".policy");
        byte[] content = "GOOD policy: allow nothing".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        java.nio.file.Files.write(file, content);
        String digest = java.util.HexFormat.of().formatHex(
            java.security.MessageDigest.getInstance("SHA-256").digest(content));
        Mseal.immutability(); // the probe first: it sets the flag for this kernel
        // As the probe sets it on the kernels that need it ("-own": this kernel's own-descriptor path, for contrast).
        Memfd.throughReadOnlyDescriptor = !variant.endsWith("-own");
        int[] keep = {-1};
        int[] decoy = {-1};
        int[] number = {-1};
        java.util.concurrent.atomic.AtomicInteger phase = new java.util.concurrent.atomic.AtomicInteger();
        Thread racer = new Thread(() -> {
            while (true) {
                int p = phase.get();
                if (p == 3) {
                    return;
                }
                if (p == 1 && (LibC.fcntl(decoy[0], io.github.mseal4j.internal.Mman.F_GET_SEALS, 0)
                        & io.github.mseal4j.internal.Mman.F_SEAL_WRITE) != 0) {
                    io.github.mseal4j.testing.Descriptors.dup2(keep[0], number[0]); // back to the real memfd
                    phase.set(2);
                }
            }
        });
        racer.setDaemon(true);
        racer.start();
        FileCopy.readObserver = () -> { // after the contents are written into the memfd, before its seal
            number[0] = memfdDescriptor(decoy[0]);
            keep[0] = io.github.mseal4j.testing.Descriptors.dup(number[0]);
            decoy[0] = LibC.memfdCreate(io.github.mseal4j.internal.Mman.MFD_CLOEXEC
                | io.github.mseal4j.internal.Mman.MFD_ALLOW_SEALING);
            LibC.ftruncate(decoy[0], PAGE);
            io.github.mseal4j.testing.Descriptors.dup2(decoy[0], number[0]);
            phase.set(1);
        };
        int attempts = 0;
        int refused = 0;
        try (Arena arena = Arena.ofShared()) {
            for (; attempts < (variant.endsWith("-own") ? 500 : 3000); attempts++) {
                MemorySegment frozen;
                try {
                    frozen = variant.startsWith("arena") ? Mseal.freeze(file, digest, arena) : Mseal.freeze(file, digest);
                } catch (RuntimeException e) {
                    refused++;
                    if (attempts < 3) {
                        System.out.println("refused: " + e.getMessage());
                    }
                    frozen = null;
                }
                while (phase.get() == 1) { // the racer lost: the library went on with the decoy
                    if (phase.compareAndSet(1, 0)) {
                        break;
                    }
                }
                if (frozen != null) {
                    // Handed out: is its file writable through the descriptor kept to it?
                    try (Arena scratch = Arena.ofConfined()) {
                        long wrote = LibC.pwrite(keep[0], scratch.allocateFrom("EVIL"), 0);
                        String now = new String(frozen.toArray(ValueLayout.JAVA_BYTE),
                            java.nio.charset.StandardCharsets.US_ASCII);
                        System.out.println("attempt " + attempts + ": handed out; pwrite to its file: " + wrote
                            + "; it now reads '" + now + "'");
                        check(now.equals(new String(content, java.nio.charset.StandardCharsets.US_ASCII)),
                            "memory handed out by Mseal.freeze(" + variant + ") changed after the freeze: '" + now
                            + "' (its memfd was never sealed against writing)");
                    }
                }
                LibC.close(keep[0]);
                LibC.close(decoy[0]);
                phase.set(0);
            }
        } finally {
            phase.set(3);
            FileCopy.readObserver = null;
        }
        System.out.println("attempts " + attempts + ", refused " + refused);
    }

    /** The descriptor whose link names the library's memfd (not {@code except}). */
    private static int memfdDescriptor(int except) {
        for (String link : fdLinks()) {
            String[] parts = link.split("->", 2);
            int fd = Integer.parseInt(parts[0]);
            if (fd != except && parts[1].startsWith("/memfd:mseal4j")) {
                return fd;
            }
        }
        throw new IllegalStateException("no memfd descriptor: " + fdLinks());
    }

    static void check(boolean holds, String what) {
        if (!holds) {
            throw new AssertionError(what);
        }
    }

    /** For the sneaky-throw test. */
    @SuppressWarnings("unchecked")
    static <E extends Throwable> RuntimeException sneaky(Throwable t) throws E {
        throw (E) t;
    }

    static IOException io(String message) {
        return new IOException(message);
    }
}
