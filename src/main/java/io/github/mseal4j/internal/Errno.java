package io.github.mseal4j.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Linux errno numbers, their symbolic names and what to do about them. No {@code strerror}: it is not
 * thread-safe, and its wording depends on the C library and the locale.
 */
public final class Errno {
    /** Operation not permitted; what sealed memory answers. */
    public static final int EPERM = 1;
    /** Input/output error; what {@code /proc/self/mem} answers for a write the kernel refuses. */
    public static final int EIO = 5;
    /** Interrupted system call. */
    public static final int EINTR = 4;
    /** Resource temporarily unavailable. */
    public static final int EAGAIN = 11;
    /** Out of memory, or the range is not (fully) mapped. */
    public static final int ENOMEM = 12;
    /** Permission denied; for example {@code mprotect(PROT_WRITE)} of a mapping of a write-sealed file. */
    public static final int EACCES = 13;
    /** Bad address. */
    public static final int EFAULT = 14;
    /** Device or resource busy; {@code F_ADD_SEALS} while a writable shared mapping of the file exists. */
    public static final int EBUSY = 16;
    /** File exists; what {@code MAP_FIXED_NOREPLACE} answers over an existing mapping. */
    public static final int EEXIST = 17;
    /** No such file or directory; what opening {@code /proc/self/fd/N} answers where {@code /proc} is not mounted. */
    public static final int ENOENT = 2;
    /** Invalid argument. */
    public static final int EINVAL = 22;
    /** File too large: past {@code RLIMIT_FSIZE} ({@code ulimit -f}); a memfd counts against it. */
    public static final int EFBIG = 27;
    /** No space left on device. */
    public static final int ENOSPC = 28;
    /** Too many open files in the system. */
    public static final int ENFILE = 23;
    /** Too many open files in the process ({@code ulimit -n}). */
    public static final int EMFILE = 24;
    /** Inappropriate ioctl: {@code PROCMAP_QUERY} on a kernel before 6.11. */
    public static final int ENOTTY = 25;
    /** Function not implemented: the kernel has no such system call. */
    public static final int ENOSYS = 38;

    private static final String[] NAMES = new String[134];

    static {
        // asm-generic/errno-base.h and asm-generic/errno.h, the values on every architecture mseal4j supports.
        String[] base = {null, "EPERM", "ENOENT", "ESRCH", "EINTR", "EIO", "ENXIO", "E2BIG", "ENOEXEC", "EBADF",
            "ECHILD", "EAGAIN", "ENOMEM", "EACCES", "EFAULT", "ENOTBLK", "EBUSY", "EEXIST", "EXDEV", "ENODEV",
            "ENOTDIR", "EISDIR", "EINVAL", "ENFILE", "EMFILE", "ENOTTY", "ETXTBSY", "EFBIG", "ENOSPC", "ESPIPE",
            "EROFS", "EMLINK", "EPIPE", "EDOM", "ERANGE", "EDEADLK", "ENAMETOOLONG", "ENOLCK", "ENOSYS"};
        System.arraycopy(base, 0, NAMES, 0, base.length);
        NAMES[75] = "EOVERFLOW";
        NAMES[95] = "EOPNOTSUPP";
        NAMES[133] = "EHWPOISON";
    }

    private Errno() {
    }

    /** The symbolic name, such as {@code EPERM}, or {@code errno 200} for a number this table lacks. */
    public static String name(int errno) {
        if (errno > 0 && errno < NAMES.length && NAMES[errno] != null) {
            return NAMES[errno];
        }
        return "errno " + errno;
    }

    /**
     * What a user can do when {@code operation} failed with {@code errno}, or an empty string when there is
     * nothing useful to say. For ENOMEM it names the causes the kernel has for that call that can apply to a
     * call of {@code length} bytes with {@code arguments} (as {@link io.github.mseal4j.SystemCallException}
     * prints them: {@code PROT_*} and {@code MAP_*} names), with the current limits.
     */
    public static String remedy(String operation, int errno, long length, String arguments) {
        if (operation.equals("mlock") && (errno == ENOMEM || errno == EAGAIN || errno == EPERM)) {
            return "locking needs RLIMIT_MEMLOCK (ulimit -l, now " + memlockLimit() + ") to cover the region, or"
                + " CAP_IPC_LOCK; raise the limit (ulimit -l, LimitMEMLOCK= in systemd, --ulimit memlock in"
                + " Docker) or allocate without MappingOption.LOCKED";
        }
        if (errno == ENOMEM) {
            return outOfMemory(operation, length, arguments);
        }
        return switch (errno) {
            case ENOSYS -> "this kernel (" + System.getProperty("os.version")
                + ") does not implement " + operation + (operation.equals("memfd_create")
                ? "; immutable memory needs Linux 3.17 or newer, and mseal 6.10" : "; mseal needs a 64-bit Linux 6.10 or newer");
            case EPERM -> switch (operation) {
                case "mseal" -> "a seccomp filter or a security module (for example a container profile) blocks"
                    + " mseal here";
                case "mmap" -> mmapRefused(arguments);
                case "madvise" -> "mseal refuses advice that discards pages (MADV_DONTNEED, MADV_FREE, MADV_DONTFORK,"
                    + " MADV_WIPEONFORK and the like) on sealed read-only private memory; otherwise a seccomp filter"
                    + " or a security module refused the call";
                case "open" -> "a seccomp filter or a security module refused it";
                case "memfd_create" -> "a seccomp filter or a security module blocks memfd_create here; immutable"
                    + " memory needs it";
                case "fcntl", "ftruncate" -> "the memfd already carries a seal that forbids this (F_SEAL_SEAL,"
                    + " F_SEAL_SHRINK: something other than the library sealed its file), or a seccomp filter or"
                    + " security module blocks " + operation;
                default -> "the range is sealed: sealed memory keeps its mapping and protection until the process exits";
            };
            case EACCES -> operation.equals("mprotect")
                ? "the memory is a mapping of a write-sealed file (frozen immutable memory): it can never be made writable"
                : operation.equals("memfd_create") ? "vm.memfd_noexec or a security module forbids memfd_create" : "";
            case EBUSY -> operation.equals("fcntl")
                ? "the file cannot be sealed against writing while a mapping of it may still be written (a shared"
                    + " read-write mapping, in this process or a fork()ed child) or while some of its pages are"
                    + " referenced from elsewhere (spliced into a pipe with vmsplice, pinned by O_DIRECT or RDMA I/O):"
                    + " the kernel waits briefly for such references, then refuses; retry once they are released"
                : "";
            case ENOENT -> operation.equals("open") && arguments.contains("/proc/self/fd/")
                ? "/proc is not mounted here, so the memfd cannot be opened read-only" : "";
            case EMFILE, ENFILE -> "no file descriptor is left (ulimit -n, now bounded by RLIMIT_NOFILE);"
                + " immutable memory holds one per region until it is frozen or closed";
            case EFBIG -> "the memfd would pass the file-size limit RLIMIT_FSIZE (ulimit -f, now "
                + fileSizeLimit() + "), which a memfd counts against: immutable memory is a memfd as large"
                + " as its region; raise the limit (ulimit -f, LimitFSIZE= in systemd, --ulimit fsize in Docker),"
                + " or map less (a MappedRegion can also do without MappingOption.IMMUTABLE)";
            case EINTR -> "a fatal signal interrupted the call; the process is exiting";
            case EINVAL -> operation.equals("fcntl")
                ? "the kernel refused file seals on a memfd (Mseal.immutability() would have said so)"
                : "the kernel rejected an argument (alignment, length or flags); mseal4j checks these first, so please"
                    + " report this as a bug";
            case EFAULT -> operation.equals("mremap")
                ? "the range crosses the end of a mapping (a VMA boundary)" : "";
            default -> "";
        };
    }

    /**
     * Why {@code mmap} with {@code arguments} (as {@link io.github.mseal4j.SystemCallException} prints them) can be
     * refused with EPERM. Only a mapping over existing memory ({@code MAP_FIXED}) can meet a seal; the read-only
     * map of a write-sealed memfd through a read-write descriptor is refused by some kernels.
     */
    private static String mmapRefused(String arguments) {
        if (arguments.contains("memfd opened read-write")) {
            return "Linux before 6.7 and 6.12.0 to 6.12.8 refuse to map a write-sealed memfd read-only and shared"
                + " through a descriptor open for writing (fixed by 'mm: reinstate ability to map write-sealed memfd"
                + " mappings read-only'; stable kernels have the fix since August 2025): the immutability probe finds"
                + " this out, and freezes then map through a descriptor opened read-only from /proc; otherwise a"
                + " seccomp filter or a security module refused the call";
        }
        if (arguments.contains("memfd opened read-only")) {
            return "a seccomp filter or a security module refused the call: every kernel maps a write-sealed memfd"
                + " read-only through a descriptor opened read-only";
        }
        if (arguments.contains("MAP_FIXED")) {
            return "the range is sealed (mseal refuses a mapping over sealed memory), or a seccomp filter or a security"
                + " module refused the call";
        }
        return "a seccomp filter or a security module refused a new mapping (a mapping the kernel places itself never"
            + " meets a seal)";
    }

    /**
     * The causes of ENOMEM the kernel has for {@code operation} that can apply to these arguments, with the
     * current limits. A process limit that a new mapping would pass is named alone only where the other causes
     * are ruled out: not {@code MAP_FIXED} (it replaces address space, and needs none new), not near
     * {@code vm.max_map_count} (which the kernel checks first), a gap that large exists (looked for before the
     * limits), and the commit limit cannot refuse it.
     */
    private static String outOfMemory(String operation, long length, String arguments) {
        String limit = maxMapCount();
        String mapCount = "vm.max_map_count (" + (limit.equals("unknown") ? "its value unknown: /proc/sys/vm cannot be"
            + " read just now" : limit + " mappings") + ")";
        String raise = "raise the limit: sysctl -w vm.max_map_count=<more>";
        // Only private writable memory is charged: not a shared mapping of a memfd, not PROT_NONE address space.
        boolean charged = !arguments.contains("MAP_SHARED") && arguments.contains("PROT_WRITE");
        String mode = overcommitMode();
        String commit = "the commit limit: private writable memory is charged when it is mapped or made writable,"
            + " and vm.overcommit_memory=" + mode + " refuses it (0: any single mapping larger than RAM"
            + " plus swap; 2: anything past CommitLimit in /proc/meminfo); map less, or change the overcommit policy";
        // Mode 1 never refuses; mode 0 only what is larger than RAM and swap together.
        boolean mayCommit = switch (mode) {
            case "1" -> false;
            case "0" -> Long.compareUnsigned(length, memoryAndSwap()) > 0;
            default -> true;
        };
        String addressSpace = addressSpaceLimit();
        String data = dataLimit();
        String limits = (addressSpace.endsWith(" bytes") ? ", or past its address-space limit RLIMIT_AS (ulimit -v,"
            + " now " + addressSpace + ")" : "") + (charged && data.endsWith(" bytes") ? ", or past its data limit"
            + " RLIMIT_DATA (ulimit -d, now " + data + "), which counts private writable memory" : "");
        return switch (operation) {
            case "mseal" -> "part of the range is not mapped, or the process reached " + mapCount + " while splitting"
                + " mappings, and the range may now be partly sealed; seal fewer, larger ranges, or " + raise;
            case "mmap", "mremap" -> {
                // Alone only where nothing else can refuse it: not the commit limit, not the map count, and a
                // hole this large exists (the kernel looks for one before it checks the limits).
                boolean limited = addressSpace.endsWith(" bytes") || (charged && data.endsWith(" bytes"));
                if (limited && !(charged && mayCommit) && !arguments.contains("MAP_FIXED") && roomFor(length)) {
                    String alone = passed("address-space limit RLIMIT_AS (ulimit -v", addressSpace, false, "VmSize:",
                        "are mapped", length, "ulimit -v, LimitAS= in systemd");
                    if (alone.isEmpty() && charged) {
                        alone = passed("data limit RLIMIT_DATA (ulimit -d", data, true, "VmData:",
                            "of private writable memory are mapped", length, "ulimit -d, LimitDATA= in systemd");
                    }
                    if (!alone.isEmpty()) {
                        yield alone;
                    }
                }
                yield "the process is out of address space or memory" + limits + ", or has reached " + mapCount
                    + " (map fewer, larger regions, or " + raise + ")" + (charged && mayCommit ? ", or hit " + commit
                    : "");
            }
            case "mprotect" -> {
                List<String> writable = new ArrayList<>();
                if (charged && data.endsWith(" bytes")) {
                    writable.add("went past its data limit RLIMIT_DATA (ulimit -d, now " + data + ")");
                }
                if (charged && mayCommit) {
                    writable.add("hit " + commit);
                }
                yield "part of the range is not mapped; or changing part of a mapping needs a split past " + mapCount
                    + " (" + raise + ")" + (writable.isEmpty() ? "" : "; or making private memory writable "
                    + String.join(", or ", writable));
            }
            case "munmap" -> "unmapping the middle of a mapping (the kernel merges neighbouring mappings of the same"
                + " kind) needs a split past " + mapCount + "; nothing was unmapped: release other mappings and"
                + " retry, or " + raise;
            case "madvise" -> "part of the range is not mapped, or the advice needs a split past " + mapCount + "; "
                + raise;
            case "memfd_create", "ftruncate" -> "the kernel is out of memory for the file";
            default -> "part of the range is not mapped, or splitting it would exceed " + mapCount + "; " + raise;
        };
    }

    /** {@code vm.overcommit_memory}, or {@code unknown}. */
    public static String overcommitMode() {
        return sysctl("/proc/sys/vm/overcommit_memory");
    }

    /** {@code vm.max_map_count}, or {@code unknown} when {@code /proc} cannot tell. */
    public static String maxMapCount() {
        return sysctl("/proc/sys/vm/max_map_count");
    }

    private static String sysctl(String path) {
        // One read() at offset 0: sysctl files answer nothing at a later offset, and Files.readString
        // (which sizes its first read by the file's size, 0 here) would get only the first byte.
        try (InputStream in = Files.newInputStream(Path.of(path))) {
            byte[] buffer = new byte[32];
            int length = in.read(buffer);
            return length <= 0 ? "unknown" : new String(buffer, 0, length, StandardCharsets.US_ASCII).strip();
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static final String LOCKED_MEMORY = "Max locked memory";
    private static final String FILE_SIZE = "Max file size";
    private static final String ADDRESS_SPACE = "Max address space";
    private static final String DATA = "Max data size";

    /**
     * The remedy when {@code length} more bytes take the process past the soft limit {@code limit} (as
     * {@link #processLimit}), counting what {@code /proc/self/status} says on its {@code field} line; otherwise
     * empty (no limit, or it cannot be told). A soft {@code RLIMIT_DATA} of 0 under a higher hard one
     * ({@code zeroLax}) is not enforced as such (the kernel's {@code may_expand_vm} lets it pass for programs that
     * set it so): it is never named alone.
     */
    private static String passed(String name, String limit, boolean zeroLax, String field, String counted,
                                 long length, String how) {
        long bytes = bytes(limit);
        long used = statusBytes(field);
        if (bytes == -1 || (zeroLax && bytes == 0) || used < 0 || Long.compareUnsigned(used + length, bytes) <= 0) {
            return "";
        }
        return "the process's " + name + ", now " + limit + ") is reached: " + used + " bytes " + counted
            + " already and this needs " + length + " more; raise it (" + how + ") or map less";
    }

    /** {@code N bytes} as an unsigned number; -1 (2^64 - 1, as unlimited) for anything else. */
    private static long bytes(String limit) {
        try {
            return limit.endsWith(" bytes") ? Long.parseUnsignedLong(limit.substring(0, limit.indexOf(' '))) : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * Whether neither the map count nor the lack of a hole can be why a new mapping of {@code length} bytes was
     * refused: the process is not near {@code vm.max_map_count}, and some gap between its mappings (below
     * 2^47, the lowest top of a hint-less mapping) is at least that large. False when it cannot tell.
     */
    private static boolean roomFor(long length) {
        try {
            Smaps.Layout layout = Smaps.layout(1L << 47);
            return layout.mappings() + 2 < Long.parseLong(maxMapCount()) && layout.largestGap() >= length;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** The soft {@code RLIMIT_MEMLOCK} as {@code /proc/self/limits} states it, e.g. {@code 8388608 bytes}. */
    public static String memlockLimit() {
        return processLimit(LOCKED_MEMORY);
    }

    /** The soft {@code RLIMIT_AS} as {@code /proc/self/limits} states it: {@code N bytes}, {@code unlimited}, {@code unknown}. */
    public static String addressSpaceLimit() {
        return processLimit(ADDRESS_SPACE);
    }

    /** The soft {@code RLIMIT_FSIZE}, which a memfd counts against, as {@link #addressSpaceLimit()} states it. */
    public static String fileSizeLimit() {
        return processLimit(FILE_SIZE);
    }

    /** The soft {@code RLIMIT_DATA}, which counts private writable memory, as {@link #addressSpaceLimit()} states it. */
    public static String dataLimit() {
        return processLimit(DATA);
    }

    /** The soft limit {@code /proc/self/limits} calls {@code name}: {@code N bytes}, {@code unlimited} or {@code unknown}. */
    private static String processLimit(String name) {
        try {
            return Files.readAllLines(Path.of("/proc/self/limits")).stream()
                .filter(line -> line.startsWith(name))
                .map(line -> line.substring(name.length()).trim().split("\\s+"))
                .map(words -> words[0].equals("unlimited") ? "unlimited" : words[0] + " bytes")
                .findFirst().orElse("unknown");
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /** MemTotal plus SwapTotal from {@code /proc/meminfo}, in bytes; 0 if unknown (then any length may be refused). */
    private static long memoryAndSwap() {
        return Math.max(0, kilobytes(Path.of("/proc/meminfo"), "MemTotal:", "SwapTotal:"));
    }

    /** A {@code kB} line of {@code /proc/self/status} ({@code VmSize:}, {@code VmData:}) in bytes, or -1. */
    private static long statusBytes(String field) {
        return kilobytes(Path.of("/proc/self/status"), field);
    }

    /** The sum of the {@code kB} lines of {@code file} that start with {@code fields}, in bytes; -1 if none can be read. */
    private static long kilobytes(Path file, String... fields) {
        try {
            return Files.readAllLines(file).stream()
                .filter(line -> Arrays.stream(fields).anyMatch(line::startsWith))
                .mapToLong(line -> Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024)
                .reduce(Long::sum).orElse(-1);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** An address as messages print it. */
    public static String hex(long address) {
        return String.format(Locale.ROOT, "0x%x", address);
    }
}
