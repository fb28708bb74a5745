package io.github.mseal4j;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.internal.Events;
import io.github.mseal4j.internal.FileStat;
import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.MapReserve;
import io.github.mseal4j.internal.Mman;
import io.github.mseal4j.internal.PageMap;
import io.github.mseal4j.internal.PageMap.Page;
import io.github.mseal4j.internal.PageMap.Run;
import io.github.mseal4j.internal.Smaps;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The freeze of immutable memory, one protocol with its stages: memory written through a shared read-write
 * mapping of a memfd becomes a shared read-only mapping of the same file, sealed against writing, at the same
 * address, and then (by the region) sealed with mseal. Every {@link MappedRegion} allocated
 * {@link MappingOption#IMMUTABLE} holds one, and so, through their regions, do arenas, maps and
 * {@link Mseal#freeze}.
 *
 * <p>The order has a trap in it: {@code F_ADD_SEALS} with {@code F_SEAL_WRITE} fails with EBUSY while any shared
 * mapping of the file may still be written. So the writable mapping is first replaced, atomically, by an
 * anonymous {@code PROT_NONE} placeholder, then the file is sealed, then mapped read-only over the placeholder,
 * through the memfd's own descriptor, or, on kernels that refuse that (Linux before 6.7, 6.12.0 to 6.12.8), through
 * a second one opened read-only. Until the file is sealed a failure puts the writable mapping back; after, the steps
 * only go forward, and a retry continues where the last attempt stopped.
 *
 * <p>A descriptor number names whatever file it names at each call: other code in the process can point it at
 * another file ({@code dup2}) at any moment. So the read-only mapping itself is checked before it is sealed: that
 * it is of the region's file (its device and inode, recorded when the memfd was made, as the kernel reports the
 * mapping), and, mapped through the memfd's own writable descriptor, that it cannot be made writable, which the
 * kernel allows unless the file is sealed against writing. Both are facts about the mapping, which no later change
 * of a descriptor can alter. Through a read-only descriptor the second proof is not available (such a mapping can
 * never be made writable, sealed or not): there the descriptor is checked just before the map (which file, which
 * seals), which leaves a window between that check and the map on those kernels.
 *
 * <p>Not thread-safe: the region calls it with its lock held.
 */
final class MemfdFreeze {
    /** How far a freeze has come; each stage is permanent once reached. */
    enum Stage {
        /** Writable shared mapping of a writable memfd. */
        WRITABLE,
        /** The file is sealed; a placeholder (or a readable copy, or nothing the library trusts) is mapped over it. */
        FILE_SEALED,
        /** The sealed file is mapped read-only again, with the region's options. */
        MAPPED_READ_ONLY,
        /** The mapping is sealed and the descriptor closed. */
        FROZEN
    }

    /** What the freeze needs of the pages of the region it freezes; each is called with the region's lock held. */
    interface Region {
        /** The region's page model, which each step updates. */
        PageMap map();

        /** Asks the kernel what the pages are after a step failed. */
        void resynchronize();

        /** Puts back the protections of {@code before} after the writable mapping came back. */
        void restoreProtections(List<Run> before, RuntimeException failure);

        /** Counts the sealed pages again after the page model changed whole. */
        void pagesChanged();

        /** Seals every page, read-only, checking that the seal took. */
        void sealReadOnly();
    }

    private final long address;
    private final Set<MappingOption> options;
    /** Which file the region's memfd is, recorded when it was made: what the final map must show. */
    private final FileStat file;
    private long byteSize;
    private int fd;
    private Stage stage = Stage.WRITABLE;

    MemfdFreeze(long address, long byteSize, Set<MappingOption> options, Memfd.File memfd) {
        this.address = address;
        this.byteSize = byteSize;
        this.options = options;
        this.fd = memfd.fd();
        this.file = memfd.stat();
    }

    Stage stage() {
        return stage;
    }

    /** The memfd, until the freeze is done or the region closed; then -1. */
    int fd() {
        return fd;
    }

    /** The file is sealed but the freeze not done: only {@link #freeze} can go on from here. */
    boolean halfway() {
        return stage == Stage.FILE_SEALED || stage == Stage.MAPPED_READ_ONLY;
    }

    /**
     * Freezes from wherever an earlier attempt stopped. The read-only descriptor is opened first, so a shortage of
     * descriptors changes nothing. {@code revokeSegments} invalidates every segment the region handed out, before
     * the mapping under them is replaced.
     */
    void freeze(Region region, Runnable revokeSegments, boolean populate) {
        if (stage == Stage.WRITABLE) {
            CheckedCalls.msealStillWorks();
        }
        int readOnly = -1;
        if (Memfd.throughReadOnlyDescriptor && (stage == Stage.WRITABLE || stage == Stage.FILE_SEALED)) {
            readOnly = Memfd.openReadOnly(fd);
            if (readOnly < 0) {
                throw new SystemCallException("open", 0, 0, "\"/proc/thread-self/fd/" + fd
                    + "\", O_RDONLY|O_CLOEXEC|O_NOCTTY|O_NONBLOCK", -readOnly).withNote((stage == Stage.WRITABLE
                    ? "nothing was changed" : "the data is safe in the sealed file") + ": this kernel maps a"
                    + " write-sealed memfd read-only only through such a descriptor; sealReadOnly() can be retried"
                    + " once one can be opened");
            }
        }
        try {
            boolean sealedBefore = stage != Stage.WRITABLE;
            if (stage == Stage.WRITABLE) {
                sealFile(region, revokeSegments);
            }
            try {
                if (stage == Stage.FILE_SEALED) {
                    revokeSegments.run(); // of the readable copy an earlier attempt may have left: replaced now
                    if (sealedBefore) {
                        // A retry: an earlier attempt's check may have found the seal gone to another file.
                        ensureSealed();
                    }
                    if (readOnly >= 0) {
                        checkReadOnlyDescriptor(readOnly);
                    }
                    try {
                        mapFile(Mman.PROT_READ, populate, readOnly);
                    } catch (RuntimeException e) {
                        throw readableCopyAfter(region, e);
                    }
                    checkMapped(region, readOnly < 0);
                    region.map().setAll(Page.of(Protection.READ, false));
                    stage = Stage.MAPPED_READ_ONLY;
                }
                region.sealReadOnly();
            } catch (SystemCallException e) {
                if (stage == Stage.FILE_SEALED) {
                    throw e; // readableCopyAfter said what is left and what a retry can do
                }
                throw e.withNote("the memfd is already sealed against writing, so the region can only go forward:"
                    + " sealReadOnly() again continues from here (the data is safe in the file)");
            }
        } finally {
            if (readOnly >= 0) {
                Memfd.close(readOnly);
            }
        }
        closeFile();
        stage = Stage.FROZEN;
    }

    /** Seals the file again unless {@code F_GET_SEALS} shows it sealed: the seals are added at most once. */
    private void ensureSealed() {
        int seals = LibC.fcntl(fd, Mman.F_GET_SEALS, 0);
        if (seals < 0 || (seals & Mman.IMMUTABLE_FILE_SEALS) != Mman.IMMUTABLE_FILE_SEALS) {
            CheckedCalls.sealFile(fd);
        }
    }

    /**
     * Before the read-only map through a second descriptor: it must name the region's file, sealed. (A descriptor
     * number names whatever file it names at each call; other code in the process can point it elsewhere with
     * {@code dup2}. The mapping itself is checked again after: {@link #checkMapped}.)
     */
    private void checkReadOnlyDescriptor(int readOnly) {
        checkReadOnlyDescriptor(readOnly, fd, file);
    }

    /** {@link #checkReadOnlyDescriptor(int)} for descriptor {@code readOnly}, opened from {@code fd}, of {@code file}. */
    private static void checkReadOnlyDescriptor(int readOnly, int fd, FileStat file) {
        FileStat opened = FileStat.of(readOnly);
        int seals = LibC.fcntl(readOnly, Mman.F_GET_SEALS, 0);
        if (!opened.sameFile(file) || seals < 0 || (seals & Mman.IMMUTABLE_FILE_SEALS) != Mman.IMMUTABLE_FILE_SEALS) {
            throw new IllegalStateException("the descriptor opened from /proc/thread-self/fd/" + fd + " is "
                + (opened.sameFile(file) ? "the region's file, but it is not sealed against writing"
                    : "another file (" + opened.identity() + ") than the region's (" + file.identity() + ")")
                + ": the memfd's descriptor number was pointed elsewhere (dup2 by other code in the process);"
                + " nothing more was mapped, and sealReadOnly() again seals the region's file if it is not, maps and"
                + " checks anew");
        }
    }

    /**
     * After the read-only map: the mapping itself must be of the region's file, and (mapped through the memfd's
     * own, writable descriptor) that file sealed against writing: such a mapping can be made writable
     * ({@code VM_MAYWRITE}) unless the file is write-sealed, so {@code mprotect} to writable must be refused with
     * EACCES. Both are facts about the mapping, which no later change of a descriptor can affect. Where either
     * does not hold (a descriptor number pointed at another file during the freeze), the mapping is replaced by a
     * placeholder again, and a retry starts from the file's seal.
     */
    private void checkMapped(Region region, boolean throughOwnDescriptor) {
        String wrong = mappedWrongly(address, byteSize, file, throughOwnDescriptor);
        if (wrong == null) {
            return;
        }
        long placeholder = LibC.mmap(address, byteSize, Mman.PROT_NONE,
            Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED | Mman.MAP_NORESERVE, -1, 0);
        region.map().setAll(Page.of(Protection.NONE, placeholder != address));
        region.pagesChanged();
        throw new IllegalStateException("the read-only map of the frozen file did not map what it must: " + wrong
            + " (the memfd's descriptor number was pointed elsewhere by other code in the process, dup2 say);"
            + " nothing is reported immutable, the region's pages are inaccessible, and sealReadOnly() again maps"
            + " and checks anew");
    }

    /**
     * What is wrong with the read-only mapping of {@code [address, address + length)}, or null: it must be of
     * {@code file} and, made through the memfd's own writable descriptor, refuse to become writable (EACCES).
     */
    private static String mappedWrongly(long address, long length, FileStat file, boolean throughOwnDescriptor) {
        try {
            Optional<Smaps.MappedFile> mapped = Smaps.mappedFileAt(address);
            int writable = throughOwnDescriptor ? LibC.mprotect(address, length, Mman.PROT_READ | Mman.PROT_WRITE)
                : Errno.EACCES;
            if (writable == 0) {
                LibC.mprotect(address, length, Mman.PROT_READ);
            }
            return mapped.isEmpty() || !mapped.get().maps(file, address, length) ? "the mapping is of another file,"
                + " or not of the memfd whole from its first byte (it is of "
                    + mapped.map(m -> String.format(Locale.ROOT, "%02x:%02x %d", m.devMajor(), m.devMinor(),
                        m.inode()) + (m.offset() != 0 ? " at offset " + m.offset() : "")).orElse("nothing") + "; the"
                    + " memfd is " + file.identity() + ")"
                : writable == 0 ? "the file is not sealed against writing: mprotect(PROT_READ|PROT_WRITE) of its"
                    + " read-only mapping succeeded"
                : writable != Errno.EACCES ? "mprotect(PROT_READ|PROT_WRITE) of the read-only mapping answered "
                    + Errno.name(writable) + " instead of EACCES, so the file's seal cannot be confirmed"
                : null;
        } catch (RuntimeException e) {
            return "which file is mapped cannot be checked (" + e.getMessage() + ")";
        }
    }

    /**
     * The steps that can be undone: the writable mapping is replaced by a placeholder, then the file sealed
     * against writing. Should the seal fail, the file is still writable and is mapped back as it was.
     */
    private void sealFile(Region region, Runnable revokeSegments) {
        PageMap pages = region.map();
        List<Run> before = pages.runs();
        revokeSegments.run();
        long placeholder = LibC.mmap(address, byteSize, Mman.PROT_NONE,
            Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED | Mman.MAP_NORESERVE, -1, 0);
        try {
            CheckedCalls.mappedAt(placeholder, address, byteSize, "PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED|"
                + "MAP_NORESERVE", "");
        } catch (RuntimeException e) {
            region.resynchronize();
            throw e;
        }
        try {
            CheckedCalls.sealFile(fd);
        } catch (RuntimeException e) {
            // The file is still writable: map it back as it was. Nothing is lost; it holds the data.
            try {
                mapFile(Mman.PROT_READ | Mman.PROT_WRITE, false, fd);
                pages.setAll(Page.of(Protection.READ_WRITE, false));
                region.restoreProtections(before, e);
            } catch (RuntimeException again) {
                e.addSuppressed(again);
                pages.setAll(Page.of(Protection.NONE, false));
            }
            throw e;
        }
        pages.setAll(Page.of(Protection.NONE, false));
        stage = Stage.FILE_SEALED;
    }

    /**
     * After the sealed file could not be mapped read-only and shared ({@code failure}), keeps the data readable:
     * a private read-only mapping of the file at the same address, over the placeholder (or, where the kernel
     * unmapped the placeholder before refusing, as kernels before 6.7 do, into the hole it left, never over
     * anything else), unless an earlier attempt left that copy already. Returns {@code failure} to throw, with a
     * note saying what is left. Where the range holds none of these, the pages are taken as not the region's own
     * any more: never handed out or unmapped.
     */
    private RuntimeException readableCopyAfter(Region region, RuntimeException failure) {
        PageMap pages = region.map();
        String kept;
        try {
            List<Smaps.Vma> vmas = Smaps.read(address, address + byteSize);
            boolean copied = Smaps.coveredBy(vmas, address, address + byteSize, vma -> vma.isPrivate()
                && vma.protection() == Protection.READ && vma.path().equals(Smaps.MEMFD_PATH));
            boolean placeholder = Smaps.coveredBy(vmas, address, address + byteSize,
                vma -> vma.isPrivate() && vma.protection() == Protection.NONE && vma.path().isEmpty());
            boolean hole = vmas.isEmpty();
            long copy = copied ? address : placeholder || hole ? LibC.mmap(address, byteSize, Mman.PROT_READ,
                Mman.MAP_PRIVATE | (placeholder ? Mman.MAP_FIXED : Mman.MAP_FIXED_NOREPLACE), fd, 0) : -Errno.EEXIST;
            if (copy == address) {
                pages.setAll(Page.of(Protection.READ, false));
                kept = "the data stays readable at the same address, through a private read-only mapping of the"
                    + " sealed file, which is neither immutable nor sealed (close() unmaps it)";
            } else {
                if (!LibC.failed(copy)) {
                    LibC.munmap(copy, byteSize); // a kernel that took MAP_FIXED_NOREPLACE as a hint
                }
                pages.setAll(Page.of(Protection.NONE, true));
                kept = "the data is in the sealed file but no longer mapped here, and the region's address range may"
                    + " hold another mapping now, so the region never hands it out or unmaps it";
            }
        } catch (RuntimeException e) {
            failure.addSuppressed(e);
            pages.setAll(Page.of(Protection.NONE, true));
            kept = "what the range holds now cannot be read (/proc/self/smaps), so the region never hands it out or"
                + " unmaps it";
        }
        region.pagesChanged();
        String note = kept + "; sealReadOnly() again tries the read-only map again, which succeeds only once its"
            + " cause is gone (Mseal.immutability() says whether this kernel maps a write-sealed file read-only)";
        return failure instanceof SystemCallException e ? e.withNote(note)
            : new IllegalStateException(failure.getMessage() + "; " + note, failure);
    }

    /**
     * Maps the memfd over the data at the same address, with the region's options, as {@code prot} says, through
     * descriptor {@code through} (the memfd's own, or, for the read-only map, one opened read-only when there is).
     */
    private void mapFile(int prot, boolean populate, int through) {
        int descriptor = through >= 0 ? through : fd;
        int flags = Mman.MAP_SHARED | Mman.MAP_FIXED | (populate ? Mman.MAP_POPULATE : 0);
        long mapped = LibC.mmap(address, byteSize, prot, flags, descriptor, 0);
        CheckedCalls.mappedAt(mapped, address, byteSize, prot == Mman.PROT_READ
            ? Memfd.readOnlyMapArguments(through >= 0 && through != fd ? through : -1)
            : "PROT_READ|PROT_WRITE, MAP_SHARED|MAP_FIXED, memfd " + fd, "");
        // A new mapping carries none of the old one's advice or lock.
        if ((prot & Mman.PROT_WRITE) != 0 || options.contains(MappingOption.NO_FORK)) {
            CheckedCalls.check(LibC.madvise(address, byteSize, Mman.MADV_DONTFORK), "madvise", address, byteSize,
                "MADV_DONTFORK");
        }
        if (options.contains(MappingOption.NO_DUMP)) {
            CheckedCalls.check(LibC.madvise(address, byteSize, Mman.MADV_DONTDUMP), "madvise", address, byteSize,
                "MADV_DONTDUMP");
        }
        if (options.contains(MappingOption.LOCKED)) {
            CheckedCalls.check(LibC.mlock(address, byteSize), "mlock", address, byteSize, "");
        }
    }

    /**
     * What goes into a {@linkplain #freezeNew fresh freeze}: into its memfd, or, where immutable memory is not
     * available, into the ordinary memory that takes its place.
     */
    interface Contents {
        /** Writes the file's bytes, {@code length} of them (the file is {@code size} bytes, a multiple of pages). */
        void write(int fd, long length, long size) throws IOException;

        /** Writes the same bytes into {@code memory}, writable, zeroed, of the file's size. */
        void write(MemorySegment memory) throws IOException;

        /**
         * True when writing the file gives it its size ({@code pwrite} of every byte), so it needs no
         * {@code ftruncate} first: it then ends at {@code length}, inside its last page, which reads back zeros
         * past the end (only pages wholly past a file's end fault).
         */
        default boolean sizesFile() {
            return false;
        }

        /** A copy of {@code data}, written with {@code pwrite} (heap data through a small native buffer). */
        static Contents copyOf(MemorySegment data) {
            return new Contents() {
                @Override
                public void write(int fd, long length, long size) {
                    if (data.isNative() || length <= LibC.HEAP_WRITE_MAX) {
                        CheckedCalls.writeFile(fd, data, 0); // a small heap array straight from the heap
                        return;
                    }
                    try (Arena arena = Arena.ofConfined()) {
                        MemorySegment buffer = arena.allocate(Math.min(length, COPY_BUFFER), 8);
                        for (long done = 0; done < length; done += buffer.byteSize()) {
                            MemorySegment part = buffer.asSlice(0, Math.min(buffer.byteSize(), length - done));
                            MemorySegment.copy(data, done, part, 0, part.byteSize());
                            CheckedCalls.writeFile(fd, part, done);
                        }
                    }
                }

                @Override
                public void write(MemorySegment memory) {
                    MemorySegment.copy(data, 0, memory, 0, data.byteSize());
                }

                @Override
                public boolean sizesFile() {
                    return true;
                }
            };
        }

        /**
         * Bytes written by {@code writer} into a shared writable mapping of the file (the whole file, faulted in
         * as the writer touches it), unmapped again before the file is sealed. For contents laid out in place.
         */
        static Contents writtenBy(Writer writer) {
            return new Contents() {
                @Override
                public void write(int fd, long length, long size) throws IOException {
                    writeThroughMapping(writer, fd, size);
                }

                @Override
                public void write(MemorySegment memory) throws IOException {
                    writer.write(memory);
                }
            };
        }

        private static void writeThroughMapping(Writer writer, int fd, long size) throws IOException {
            long at = LibC.mmap(0, size, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, fd, 0);
            if (LibC.failed(at) || at == 0) {
                throw at == 0 ? new IllegalStateException("mmap(0x0, " + size + ", PROT_READ|PROT_WRITE,"
                    + " MAP_SHARED, memfd) returned 0x0: nothing was mapped") : new SystemCallException("mmap",
                    0, size, "PROT_READ|PROT_WRITE, MAP_SHARED, memfd " + fd, (int) -at);
            }
            try (Arena arena = Arena.ofConfined()) {
                // No fork()ed child may keep a writable mapping of the file: it would make the seal fail.
                CheckedCalls.check(LibC.madvise(at, size, Mman.MADV_DONTFORK), "madvise", at, size,
                    "MADV_DONTFORK");
                // A hint, whose refusal (before Linux 5.14) costs only speed: the file's pages in one call, rather
                // than a fault per page as the writer touches them.
                LibC.madvise(at, size, Mman.MADV_POPULATE_WRITE);
                writer.write(LibC.view(at, size, arena));
            } finally {
                LibC.munmap(at, size);
            }
        }
    }

    /** Lays contents out in a writable segment of the file's size. */
    interface Writer {
        void write(MemorySegment file) throws IOException;
    }

    /** Checks the frozen bytes before they are sealed or handed out (a digest, say); throws to refuse them. */
    interface Check {
        void check(MemorySegment frozen) throws IOException;
    }

    /** A copy at least this large is mapped populated: see {@link #freezeNew}. */
    static final long POPULATE_FROM = 64L << 10;

    /** Heap data is copied into the file through a native buffer of at most this many bytes at a time. */
    private static final long COPY_BUFFER = 1L << 20;

    /**
     * Where a {@linkplain #freezeNew fresh freeze} put the frozen bytes: {@code data}, {@code length} of them, in a
     * mapping of {@code base} and {@code total} bytes (with the guard pages, if any): what to unmap to free it.
     * The memfd was {@code file} (its device and inode: what the mapping must show). A sealed one has its bytes
     * as a read-only segment in the scope of their {@link SealCounters.Owner} ({@code sealedSegment}); another
     * null.
     */
    record Frozen(long base, long total, long data, long length, FileStat file, MemorySegment sealedSegment) {

        /** Unmaps it: for memory whose arena is closed. Never for sealed memory (the kernel would refuse). */
        void unmap() {
            LibC.munmap(base, total);
        }
    }

    /**
     * The freeze of a new copy: the protocol of a region's freeze, where no address has to be kept, so no
     * placeholder is needed. The contents go into a new memfd (written through the descriptor, or through a
     * writable mapping that is gone before the seal), the file is sealed, mapped read-only where the kernel
     * chooses (between two guard pages with {@link MappingOption#GUARD_PAGES}), the mapping checked as a region's
     * is ({@link #mappedWrongly}), the other options applied, {@code check} run over the frozen bytes, then, with
     * {@code seal}, the mapping sealed with mseal. A failure at any step leaves nothing mapped and no descriptor
     * open; only a kernel failing half-way through the mseal itself can leave a part sealed.
     *
     * <p>The read-only mapping is faulted in at once ({@code MAP_POPULATE}: one call instead of a fault per page
     * at first read) where that pays: contents laid out in place (a map, read all over) and copies of at least
     * {@value #POPULATE_FROM} bytes; not a small copy such as a key, whose populate costs more than the one fault
     * it saves.
     */
    static Frozen freezeNew(long length, Contents contents, Set<MappingOption> options, Check check, boolean seal)
            throws IOException {
        boolean populate = !contents.sizesFile() || length >= POPULATE_FROM;
        long pageSize = Mseal.pageSize();
        long size = Math.max(pageSize, (length + pageSize - 1) & -pageSize);
        long guard = options.contains(MappingOption.GUARD_PAGES) ? pageSize : 0;
        if (seal) {
            // No early mseal(0, 0, 0) here, as the region's freeze makes: should mseal fail at the end (a filter
            // installed since the probe), everything made is unmapped, and the exception names mseal's errno.
            SealCounters.checkBudget(size); // before anything is made; again, held, around the mseal itself
        }
        MapReserve.ensureRoom("freezing " + length + " bytes", 3, SealCounters::regions);
        return freezeNew(length, size, guard, contents, options, populate, check, seal);
    }

    private static Frozen freezeNew(long length, long size, long guard, Contents contents, Set<MappingOption> options,
                                    boolean populate, Check check, boolean seal) throws IOException {
        long total = size + 2 * guard;
        Memfd.File file = Memfd.create(contents.sizesFile() ? 0 : size);
        int readOnly = -1;
        long base = 0;
        boolean msealCalled = false;
        try {
            contents.write(file.fd(), length, size);
            CheckedCalls.addFileSeals(file.fd()); // proven after the map: see mappedWrongly and the descriptor check
            if (Memfd.throughReadOnlyDescriptor) {
                readOnly = Memfd.openReadOnly(file.fd());
                if (readOnly < 0) {
                    throw new SystemCallException("open", 0, 0, "\"/proc/thread-self/fd/" + file.fd()
                        + "\", O_RDONLY|O_CLOEXEC|O_NOCTTY|O_NONBLOCK", -readOnly).withNote("this kernel maps a"
                        + " write-sealed memfd read-only only through such a descriptor; nothing was frozen");
                }
                // Which file it opened, and that it is sealed: the memfd's number may have been pointed elsewhere
                // (dup2) at the seal, or at the open. A mapping through it can never show its seal itself.
                checkReadOnlyDescriptor(readOnly, file.fd(), file.stat());
            }
            int through = readOnly >= 0 ? readOnly : file.fd();
            int flags = Mman.MAP_SHARED | (populate ? Mman.MAP_POPULATE : 0);
            String fixedArguments = Memfd.readOnlyMapArguments(readOnly).replace("MAP_FIXED",
                populate ? "MAP_FIXED|MAP_POPULATE" : "MAP_FIXED");
            long data;
            if (guard > 0) {
                long reserved = LibC.mmap(0, total, Mman.PROT_NONE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, -1, 0);
                if (LibC.failed(reserved) || reserved == 0) {
                    throw reserved == 0 ? new IllegalStateException("mmap(0x0, " + total + ", PROT_NONE) returned"
                        + " 0x0: nothing was mapped") : new SystemCallException("mmap", 0, total,
                        "PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS", (int) -reserved);
                }
                base = reserved;
                data = base + guard;
                CheckedCalls.mappedAt(LibC.mmap(data, size, Mman.PROT_READ, flags | Mman.MAP_FIXED, through, 0), data,
                    size, fixedArguments, "");
            } else {
                long mapped = LibC.mmap(0, size, Mman.PROT_READ, flags, through, 0);
                if (LibC.failed(mapped) || mapped == 0) {
                    String arguments = fixedArguments.replace("MAP_FIXED|", "");
                    throw mapped == 0 ? new IllegalStateException("mmap(0x0, " + size + ", " + arguments + ") returned"
                        + " 0x0: nothing was mapped (a seccomp filter answering mmap with success would do this)")
                        : new SystemCallException("mmap", 0, size, arguments, (int) -mapped);
                }
                base = mapped;
                data = mapped;
            }
            String wrong = mappedWrongly(data, size, file.stat(), readOnly < 0);
            if (wrong != null) {
                throw new IllegalStateException("the read-only map of a frozen copy did not map what it must: "
                    + wrong + " (the memfd's descriptor number pointed elsewhere by other code in the process, dup2"
                    + " say, or a policy that refuses the check); nothing was frozen");
            }
            RegionMapping.applyOptions(base, total, data, size, options);
            if (check != null) {
                check.check(LibC.foreverView(data, length).asReadOnly());
            }
            if (seal) {
                MemorySegment segment;
                try (var _ = SealCounters.budget(size)) {
                    msealCalled = true;
                    int errno = LibC.mseal(base, total);
                    if (errno != 0) {
                        throw new SystemCallException("mseal", base, total, "0", errno);
                    }
                    // Counted at once: should the check below fail, the pages stay sealed all the same (and, the
                    // segment dropped, count as unreachable).
                    segment = SealCounters.sealedFirst(null, size).view(data, length).asReadOnly();
                }
                CheckedCalls.verifySealed(base, total, data, size, Protection.READ);
                Events.sealed(data, size, true);
                return new Frozen(base, total, data, length, file.stat(), segment);
            }
            return new Frozen(base, total, data, length, file.stat(), null);
        } catch (IOException | RuntimeException | Error e) {
            if (base != 0 && !(msealCalled && sealedAt(base))) {
                LibC.munmap(base, total);
            }
            throw e;
        } finally {
            if (readOnly >= 0) {
                Memfd.close(readOnly);
            }
            Memfd.close(file.fd());
        }
    }

    /** Whether the mapping at {@code address} is sealed (a failed mseal may have sealed part of it). */
    private static boolean sealedAt(long address) {
        try {
            return Smaps.read(address, address + 1).stream().anyMatch(Smaps.Vma::sealed);
        } catch (RuntimeException e) {
            return true; // cannot tell: never unmap what may be sealed
        }
    }

    /**
     * The region now ends at {@code newByteSize}: the file shrinks too. A refusal is only logged: the file's tail is
     * no longer mapped, and it was never written (an arena's unused reservation), so it holds no memory.
     */
    void truncate(long newByteSize) {
        byteSize = newByteSize;
        int errno = LibC.ftruncate(fd, newByteSize);
        if (errno != 0) {
            System.getLogger("io.github.mseal4j").log(System.Logger.Level.WARNING, () -> "mseal4j: "
                + new SystemCallException("ftruncate", 0, newByteSize, "memfd " + fd + ", " + newByteSize, errno)
                    .getMessage() + "; the file keeps its unmapped, unwritten tail");
        }
    }

    /** Closes the memfd, if it is still open: when frozen, or when the region is closed before. */
    void closeFile() {
        if (fd >= 0) {
            Memfd.close(fd);
            fd = -1;
        }
    }
}
