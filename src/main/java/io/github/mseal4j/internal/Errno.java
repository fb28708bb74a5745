package io.github.mseal4j.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Linux errno numbers, their symbolic names and what to do about them. No {@code strerror}: it is not
 * thread-safe, and its wording depends on the C library and the locale.
 */
public final class Errno {
    /** Operation not permitted; what sealed memory answers. */
    public static final int EPERM = 1;
    /** Interrupted system call. */
    public static final int EINTR = 4;
    /** Resource temporarily unavailable. */
    public static final int EAGAIN = 11;
    /** Out of memory, or the range is not (fully) mapped. */
    public static final int ENOMEM = 12;
    /** Bad address. */
    public static final int EFAULT = 14;
    /** File exists; what {@code MAP_FIXED_NOREPLACE} answers over an existing mapping. */
    public static final int EEXIST = 17;
    /** Invalid argument. */
    public static final int EINVAL = 22;
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
     * nothing useful to say.
     */
    public static String remedy(String operation, int errno) {
        if (operation.equals("mlock") && (errno == ENOMEM || errno == EAGAIN || errno == EPERM)) {
            return "locking needs RLIMIT_MEMLOCK (ulimit -l, now " + memlockLimit() + ") to cover the region, or"
                + " CAP_IPC_LOCK; raise the limit (ulimit -l, LimitMEMLOCK= in systemd, --ulimit memlock in"
                + " Docker) or allocate without MappingOption.LOCKED";
        }
        return switch (errno) {
            case ENOSYS -> "this kernel (" + System.getProperty("os.version")
                + ") does not implement " + operation + "; mseal needs a 64-bit Linux 6.10 or newer";
            case EPERM -> operation.equals("mseal")
                ? "a seccomp filter or a security module (for example a container profile) blocks mseal here"
                : "the range is sealed: sealed memory keeps its mapping and protection until the process exits";
            case ENOMEM -> switch (operation) {
                case "mseal" -> "part of the range is not mapped, or the process reached vm.max_map_count ("
                    + maxMapCount() + " mappings) while splitting mappings, and the range may now be partly sealed;"
                    + " seal fewer, larger ranges, or raise the limit: sysctl -w vm.max_map_count=<more>";
                case "mmap", "mremap" -> "the process is out of memory or address space, or has reached"
                    + " vm.max_map_count (" + maxMapCount() + " mappings); map fewer, larger regions, or raise the"
                    + " limit: sysctl -w vm.max_map_count=<more>";
                default -> "part of the range is not mapped, or splitting it would exceed vm.max_map_count ("
                    + maxMapCount() + " mappings); raise the limit: sysctl -w vm.max_map_count=<more>";
            };
            case EINTR -> "a fatal signal interrupted the call; the process is exiting";
            case EINVAL -> "the kernel rejected an argument (alignment, length or flags); "
                + "mseal4j checks these first, so please report this as a bug";
            case EFAULT -> operation.equals("mremap")
                ? "the range crosses the end of a mapping (a VMA boundary)" : "";
            default -> "";
        };
    }

    /** {@code vm.max_map_count}, or {@code unknown} when {@code /proc} cannot tell. */
    public static String maxMapCount() {
        // One read() at offset 0: sysctl files answer nothing at a later offset, and Files.readString
        // (which sizes its first read by the file's size, 0 here) would get only the first byte.
        try (InputStream in = Files.newInputStream(Path.of("/proc/sys/vm/max_map_count"))) {
            byte[] buffer = new byte[32];
            int length = in.read(buffer);
            return length <= 0 ? "unknown" : new String(buffer, 0, length, StandardCharsets.US_ASCII).strip();
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /** The soft {@code RLIMIT_MEMLOCK} as {@code /proc/self/limits} states it, e.g. {@code 8388608 bytes}. */
    public static String memlockLimit() {
        try {
            return Files.readAllLines(Path.of("/proc/self/limits")).stream()
                .filter(line -> line.startsWith("Max locked memory"))
                .map(line -> line.substring("Max locked memory".length()).trim().split("\\s+"))
                .map(words -> words[0].equals("unlimited") ? "unlimited" : words[0] + " bytes")
                .findFirst().orElse("unknown");
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /** An address as messages print it. */
    public static String hex(long address) {
        return String.format(Locale.ROOT, "0x%x", address);
    }
}
