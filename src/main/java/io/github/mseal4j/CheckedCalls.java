package io.github.mseal4j;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.Mman;
import io.github.mseal4j.internal.Smaps;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The system calls whose answer the library checks, and how: one rule for each, written once, for regions,
 * arenas, maps, freezes and the immutability probe alike. A seccomp filter can answer a call with success
 * without running it; where such a lie would make the library hand out memory that is not there, or call
 * memory sealed, read-only or immutable that is not, a second, different call checks the first: {@code mseal}
 * by a no-op {@code mprotect} that sealed memory refuses, {@code mprotect} by a populate advice (or
 * {@code /proc/self/maps}), {@code mmap} at a fixed address by the address it returns, the file seals by
 * {@code F_GET_SEALS}, {@code ftruncate} by {@code lseek}. Also here: faulting in read-only pages before they
 * are sealed (userfaultfd), and unmapping a list of ranges for {@code close()}.
 */
final class CheckedCalls {

    private CheckedCalls() {
    }

    static void check(int errno, String operation, long address, long length, String arguments) {
        if (errno != 0) {
            throw new SystemCallException(operation, address, length, arguments, errno);
        }
    }


    /**
     * A seccomp filter or security module installed after the probe can refuse mseal. Multi-step operations
     * ask with {@code mseal(0, 0, 0)} (which seals nothing) before they change anything.
     */
    static void msealStillWorks() {
        int errno = LibC.mseal(0, 0);
        if (errno != 0) {
            throw new SystemCallException("mseal", 0, 0, "0 (asked before changing anything; nothing was changed)",
                errno);
        }
    }


    /**
     * Checks what an {@code mmap} with {@code MAP_FIXED} at {@code address} returned: the kernel answers with
     * {@code address} or an error. Anything else (a seccomp filter answering with success, 0, without running
     * the call) means nothing was mapped there, and nothing must be handed out over it.
     */
    static void mappedAt(long mapped, long address, long length, String arguments, String remedy) {
        if (LibC.failed(mapped)) {
            throw new SystemCallException("mmap", address, length, arguments + remedy, (int) -mapped);
        }
        if (mapped != address) {
            throw new IllegalStateException(String.format(Locale.ROOT, "mmap(%s, %d, %s) returned %s instead of the"
                + " fixed address it was given: nothing was mapped there (a seccomp filter answering mmap with success"
                + " would do this)%s", Errno.hex(address), length, arguments, Errno.hex(mapped), remedy));
        }
    }


    /**
     * Makes sure mseal did what it reported: an {@code mprotect} to the protection the pages already have
     * changes nothing, and must be refused with EPERM on sealed memory. A seccomp filter that answers mseal
     * with 0 without running it would otherwise make the library report sealed what is not. (One system call;
     * the plain {@code seal()} leaves this to {@link #isSealed()}.)
     */
    static void verifySealed(long callStart, long callLength, long start, long length,
                                     Protection protection) {
        int errno = LibC.mprotect(start, length, Mman.prot(protection));
        if (errno != Errno.EPERM) {
            throw new IllegalStateException(String.format(Locale.ROOT, "mseal(%s, %d, 0) returned 0, but the kernel"
                + " then answered a no-op mprotect(%s, %d) with %s instead of EPERM: the range is not sealed (a"
                + " seccomp filter answering mseal with success would do this); nothing is reported sealed",
                Errno.hex(callStart), callLength, Errno.hex(start), length,
                errno == 0 ? "success" : Errno.name(errno)));
        }
    }


    /**
     * Makes sure an {@code mprotect(start, length)} that returned 0 changed the protection of the page at
     * {@code probe} from {@code before} to {@code after}, asking the kernel to fault that page in for the one
     * access that tells
     * the two apart ({@code MADV_POPULATE_READ} or {@code MADV_POPULATE_WRITE}, which it refuses with EINVAL or
     * EFAULT where the protection forbids the access). A seccomp filter answering mprotect with success without
     * running it would otherwise make the library hand out a writable segment over memory that is not (the JVM
     * dies at the first write), or seal memory writable that it reports read-only. One system call. The probe
     * is chosen to change nothing where the mprotect was real, except from read-only to writable, where the
     * write probe faults the page in, as the first write would. Where the advices cannot answer just now (an
     * answer that says nothing, such as ENOMEM; no scratch page for their calibration at the mapping limit), or
     * do not answer as they should here at all (refused by a filter; a kernel before Linux 5.14), the check reads
     * {@code /proc/self/maps} instead.
     */
    static void verifyProtected(long start, long length, long probe, long pageSize, Protection before,
                                        Protection after) {
        if (before == after) {
            return;
        }
        // Between readable protections only write access differs; to or from PROT_NONE, read access does.
        boolean write = before != Protection.NONE && after != Protection.NONE;
        boolean allowed = write ? after == Protection.READ_WRITE : after != Protection.NONE;
        int answer = Populate.known() != Populate.YES ? -1
            : LibC.madvise(probe, pageSize, write ? Mman.MADV_POPULATE_WRITE : Mman.MADV_POPULATE_READ);
        // Advices that do not answer as they should here (refused, or a kernel before 5.14), no calibration just
        // now (no scratch mapping at the limit), or an answer that tells nothing (ENOMEM under memory pressure,
        // EINTR): ask /proc/self/maps instead.
        boolean wrong = answer == 0 || refused(answer) ? (answer == 0) != allowed
            : protectionInKernel(start, length, probe, after) != after;
        if (wrong) {
            throw new IllegalStateException(String.format(Locale.ROOT, "mprotect(%s, %d, %s) returned 0, but the"
                + " kernel then treated the page at %s as %s: the protection did not change (a seccomp filter"
                + " answering mprotect with success would do this)", Errno.hex(start), length, Mman.protName(after),
                Errno.hex(probe), before));
        }
    }

    /**
     * The protection {@code /proc/self/maps} shows for the page at {@code probe} (null where nothing is mapped):
     * the slower check, for when the populate advices cannot answer (maps, not smaps: the same permissions
     * without a walk of every page table, read only up to that page's mapping). Where it cannot be read either,
     * the mprotect of {@code [start, start + length)} to {@code after} cannot be checked, and is not relied on:
     * an {@link IllegalStateException}, as for a change that did not happen.
     */
    private static Protection protectionInKernel(long start, long length, long probe, Protection after) {
        try {
            return Smaps.protectionAt(probe).orElse(null);
        } catch (RuntimeException e) {
            throw new IllegalStateException(String.format(Locale.ROOT, "mprotect(%s, %d, %s) returned 0, but whether"
                + " the protection changed cannot be checked here: the populate advices do not answer, and"
                + " /proc/self/maps cannot be read (%s); the change is not relied on", Errno.hex(start), length,
                Mman.protName(after), e.getMessage()), e);
        }
    }

    /** The kernel's answer to a populate advice on a page whose protection does not allow that access. */
    private static boolean refused(int errno) {
        return errno == Errno.EINVAL || errno == Errno.EFAULT;
    }

    /**
     * Whether the populate advices answer here as {@link #verifyProtected} reads them, tried on scratch pages
     * mapped with each protection (no mprotect, whose answers are what is being checked): both succeed on a
     * writable page, the write advice is refused on a read-only one, the read advice on an inaccessible one.
     * A kernel without them (before 5.14), or a sandbox that implements them differently, has its checks read
     * {@code /proc/self/maps} instead, rather than raise false alarms. A scratch mapping that cannot be made (at
     * {@code vm.max_map_count}, say) decides nothing: that check reads maps, and the advices are tried again
     * next time.
     */
    private static final class Populate {
        static final int UNKNOWN = 0;
        static final int YES = 1;
        static final int NO = 2;
        private static volatile int answer = UNKNOWN;

        /** {@link #YES}, {@link #NO}, or {@link #UNKNOWN} when no scratch page could be mapped just now. */
        static int known() {
            int known = answer;
            if (known == UNKNOWN) {
                known = calibrate();
                if (known != UNKNOWN) {
                    answer = known;
                }
            }
            return known;
        }

        private static int calibrate() {
            try {
                long page = LibC.pageSize();
                long[] scratch = new long[3];
                int[] protections = {Mman.PROT_READ | Mman.PROT_WRITE, Mman.PROT_READ, Mman.PROT_NONE};
                try {
                    for (int i = 0; i < 3; i++) {
                        long at = LibC.mmap(0, page, protections[i], Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, -1, 0);
                        if (LibC.failed(at) || at == 0) {
                            return UNKNOWN;
                        }
                        scratch[i] = at;
                    }
                    boolean expected = LibC.madvise(scratch[0], page, Mman.MADV_POPULATE_READ) == 0
                        && LibC.madvise(scratch[0], page, Mman.MADV_POPULATE_WRITE) == 0
                        && LibC.madvise(scratch[1], page, Mman.MADV_POPULATE_READ) == 0
                        && refused(LibC.madvise(scratch[1], page, Mman.MADV_POPULATE_WRITE))
                        && refused(LibC.madvise(scratch[2], page, Mman.MADV_POPULATE_READ));
                    if (!expected) {
                        Sealing.log().log(System.Logger.Level.DEBUG, "mseal4j: the populate advices do not answer as"
                            + " expected here; what mprotect reports is checked in /proc/self/maps instead");
                    }
                    return expected ? YES : NO;
                } finally {
                    for (long at : scratch) {
                        if (at != 0) {
                            LibC.munmap(at, page);
                        }
                    }
                }
            } catch (RuntimeException e) {
                return NO;
            }
        }
    }


    /**
     * Faults in every page of {@code [start, length)}, which are readable, and checks that each is present:
     * userfaultfd, which mseal does not check, fills or poisons only a page that was never faulted in.
     * {@code MADV_POPULATE_READ} maps the shared zero page where nothing was written (no memory, only page tables);
     * {@code mincore} then checks (a filter could answer the advice with success without running it). A page still
     * missing is read through {@code /proc/self/mem}, which faults it in and never crashes the JVM, as a direct read
     * of a page holding a guard marker ({@code MADV_GUARD_INSTALL}) would. A page that cannot be faulted in (such a
     * marker) is an {@link IllegalStateException}: sealed so, it could later be emptied ({@code MADV_GUARD_REMOVE}
     * is allowed on sealed memory) and filled.
     */
    static void faultIn(long start, long length, long pageSize) {
        LibC.madvise(start, length, Mman.MADV_POPULATE_READ); // the answer is checked below, page by page
        long pages = length / pageSize;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment present = arena.allocate(pages);
            List<Long> missing = missing(start, length, pageSize, present);
            if (missing.isEmpty()) {
                return;
            }
            try (FileChannel mem = FileChannel.open(Path.of("/proc/self/mem"), StandardOpenOption.READ)) {
                for (long page : missing) {
                    try {
                        mem.read(ByteBuffer.allocate(1), page); // faults it in; a guard marker answers EIO
                    } catch (IOException e) {
                        // this page cannot be read: the check below names it
                    }
                }
            } catch (IOException e) {
                // no /proc/self/mem: the check below names every page still missing
            }
            missing = missing(start, length, pageSize, present);
            if (!missing.isEmpty()) {
                throw new IllegalStateException(String.format(Locale.ROOT, "%d page(s) of [%s, %s) could not be"
                    + " faulted in before the seal, the first at %s (a guard marker, MADV_GUARD_INSTALL, put there by"
                    + " other code, does this): sealed read-only so, a page could later be emptied and filled through"
                    + " userfaultfd, so it is not sealed read-only", missing.size(), Errno.hex(start),
                    Errno.hex(start + length), Errno.hex(missing.getFirst())));
            }
        }
    }

    /** The pages of {@code [start, length)} that {@code mincore} says are not present. */
    private static List<Long> missing(long start, long length, long pageSize, MemorySegment present) {
        int errno = LibC.mincore(start, length, present.address());
        if (errno != 0) {
            throw new SystemCallException("mincore", start, length, "", errno);
        }
        List<Long> missing = new ArrayList<>();
        for (long i = 0; i < present.byteSize(); i++) {
            if ((present.get(ValueLayout.JAVA_BYTE, i) & 1) == 0) {
                missing.add(start + i * pageSize);
            }
        }
        return missing;
    }


    /**
     * What {@link #unmap} did: whether any range went, the ranges that did not, why (the first failure, the
     * others suppressed by it), and whether any was refused with EPERM (sealed).
     */
    record Unmapped(boolean anyUnmapped, List<long[]> failed, SystemCallException failure,
                            boolean refusedAsSealed) {
    }

    /** Unmaps each range with its own call; a failure is collected (later ones suppressed by the first). */
    static Unmapped unmap(List<long[]> ranges) {
        boolean anyUnmapped = false;
        List<long[]> failed = new ArrayList<>();
        SystemCallException failure = null;
        boolean sealed = false;
        for (long[] range : ranges) {
            int errno = LibC.munmap(range[0], range[1]);
            if (errno == 0) {
                anyUnmapped = true;
                continue;
            }
            failed.add(range);
            sealed |= errno == Errno.EPERM;
            SystemCallException e = new SystemCallException("munmap", range[0], range[1], "", errno);
            if (failure == null) {
                failure = e;
            } else {
                failure.addSuppressed(e);
            }
        }
        return new Unmapped(anyUnmapped, failed, failure, sealed);
    }


    /**
     * Seals the file's contents and size for good, and checks with {@code F_GET_SEALS} that it is so (a
     * seccomp filter could answer success without running the call). Fails with EBUSY while a writable shared
     * mapping of it exists.
     */
    static void sealFile(int fd) {
        addFileSeals(fd);
        int seals = LibC.fcntl(fd, Mman.F_GET_SEALS, 0);
        if (seals < 0 || (seals & Mman.IMMUTABLE_FILE_SEALS) != Mman.IMMUTABLE_FILE_SEALS) {
            throw new IllegalStateException("fcntl(memfd " + fd + ", F_ADD_SEALS) returned success, but F_GET_SEALS"
                + " then answered " + (seals < 0 ? Errno.name(-seals) : "0x" + Integer.toHexString(seals))
                + ": the file is not sealed against writing (a seccomp filter answering success would do this)");
        }
    }

    /**
     * {@code fcntl(F_ADD_SEALS)} alone, for a caller that proves the seal another way afterwards (a fresh freeze:
     * its read-only mapping through the memfd's own descriptor cannot be made writable only if the file is
     * sealed; through a read-only descriptor, that descriptor's {@code F_GET_SEALS} is checked).
     */
    static void addFileSeals(int fd) {
        int result = LibC.fcntl(fd, Mman.F_ADD_SEALS, Mman.IMMUTABLE_FILE_SEALS);
        if (result < 0) {
            throw new SystemCallException("fcntl", 0, 0,
                "memfd " + fd + ", F_ADD_SEALS, F_SEAL_WRITE|F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_SEAL", -result);
        }
    }

    /**
     * Writes all of {@code data} (native memory) into file {@code fd} at {@code offset}, with as many
     * {@code pwrite} calls as it takes. A write that makes no progress is an error: a file of the library's own
     * never ends early.
     */
    static void writeFile(int fd, MemorySegment data, long offset) {
        for (long done = 0; done < data.byteSize(); ) {
            long written = LibC.pwrite(fd, data.asSlice(done, Math.min(data.byteSize() - done, 1L << 30)),
                offset + done);
            if (written <= 0) {
                throw written == 0 ? new IllegalStateException("pwrite(memfd " + fd + ") wrote nothing at " + (offset
                    + done)) : new SystemCallException("pwrite", 0, data.byteSize() - done, "memfd " + fd + ", offset "
                    + (offset + done), (int) -written);
            }
            done += written;
        }
    }

    /**
     * {@code ftruncate(fd, size)}, checked with {@code lseek(SEEK_END)}: a file mapped past its end faults every
     * access (SIGBUS), so it must be known to have the size it was given.
     */
    static void truncateFile(int fd, long size) {
        int errno = LibC.ftruncate(fd, size);
        if (errno != 0) {
            throw new SystemCallException("ftruncate", 0, size, "memfd " + fd + ", " + size, errno);
        }
        long actual = LibC.lseek(fd, 0, Mman.SEEK_END);
        if (actual != size) {
            throw new IllegalStateException(String.format(Locale.ROOT, "ftruncate(memfd %d, %d) returned 0, but"
                + " lseek(SEEK_END) then answered %s: the file is not known to have its size (a seccomp filter"
                + " answering ftruncate, or lseek, with success without running it would do this), so it is not"
                + " mapped", fd, size, actual < 0 ? Errno.name((int) -actual) : actual + " bytes"));
        }
    }
}
