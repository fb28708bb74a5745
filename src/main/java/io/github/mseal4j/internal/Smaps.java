package io.github.mseal4j.internal;

import io.github.mseal4j.Protection;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads {@code /proc/self/smaps}: the kernel's own account of each mapping (VMA), including the
 * {@code sl} flag that marks sealed ones (Linux 6.10+, 64-bit). Reading it costs about a millisecond in a
 * typical JVM, because the kernel walks every mapping of the process; keep it off hot paths.
 */
public final class Smaps {
    private static final Path SELF = Path.of("/proc/self/smaps");
    private static final Path MAPS = Path.of("/proc/self/maps");

    /** The name smaps gives a mapping of the memfd behind mseal4j's immutable memory. */
    public static final String MEMFD_PATH = "/memfd:mseal4j (deleted)";

    /**
     * One mapping as {@code smaps} describes it.
     *
     * @param path what the header line names after the inode: a file, {@code [heap]}, or empty for anonymous
     *     memory
     */
    public record Vma(long start, long end, String permissions, List<String> flags, String path) {
        public Vma {
            flags = List.copyOf(flags);
        }

        /** A mapping with no name (anonymous memory). */
        public Vma(long start, long end, String permissions, List<String> flags) {
            this(start, end, permissions, flags, "");
        }

        /** True when the kernel reports the mapping sealed ({@code sl}). */
        public boolean sealed() {
            return flags.contains("sl");
        }

        /** The access the mapping grants, as a {@link Protection}. Write without read counts as none. */
        public Protection protection() {
            boolean read = permissions.charAt(0) == 'r';
            boolean write = permissions.charAt(1) == 'w';
            return read && write ? Protection.READ_WRITE : read ? Protection.READ : Protection.NONE;
        }

        /** True when the mapping is private ({@code p}) rather than shared ({@code s}). */
        public boolean isPrivate() {
            return permissions.charAt(3) == 'p';
        }

        /** True when the mapping is shared ({@code s}): for mseal4j, a mapping of a memfd. */
        public boolean isShared() {
            return permissions.charAt(3) == 's';
        }

        /**
         * True when the mapping is writable ({@code wr}) or may be made writable ({@code mw}, the kernel's
         * {@code VM_MAYWRITE}). A shared mapping of a write-sealed memfd has neither.
         */
        public boolean mayBeWritten() {
            return flags.contains("wr") || flags.contains("mw");
        }

        /**
         * A mapping of mseal4j's memfd that is shared, sealed, and neither writable nor able to become so: what
         * "immutable" means here. (A read-only shared mapping of some other file would look the same, but that
         * file may still be written through another descriptor.)
         */
        public boolean immutable() {
            return sealed() && writeProtected();
        }

        /**
         * A mapping of mseal4j's memfd that is shared and neither writable nor able to become so: its contents
         * cannot change, though (unless it is also {@linkplain #sealed() sealed}) the mapping can be unmapped.
         * What memory with an arena's lifetime is.
         */
        public boolean writeProtected() {
            return isShared() && !mayBeWritten() && path.equals(MEMFD_PATH);
        }

        /** The {@code VmFlags} as the kernel printed them, space separated. */
        public String flagLine() {
            return String.join(" ", flags);
        }
    }

    private Smaps() {
    }

    /**
     * The access the mapping at {@code address} grants, from {@code /proc/self/maps}: the same permissions as
     * smaps without the page-table walk that makes smaps slow, read only up to that mapping. Empty when
     * nothing is mapped there.
     *
     * @throws java.io.UncheckedIOException if {@code /proc/self/maps} cannot be read
     */
    public static Optional<Protection> protectionAt(long address) {
        try (BufferedReader reader = Files.newBufferedReader(MAPS, StandardCharsets.ISO_8859_1)) {
            return protectionAt(reader, address);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + MAPS, e);
        }
    }

    /**
     * Which file is mapped at an address: the mapping (VMA) that covers it, the device and inode of its file (0 for
     * anonymous memory), and the file offset at which the mapping starts.
     */
    public record MappedFile(long start, long end, int devMajor, int devMinor, long inode, long offset) {
        /** True when it is a mapping of {@code file}. */
        public boolean of(FileStat file) {
            return devMajor == file.devMajor() && devMinor == file.devMinor() && inode == file.inode();
        }

        /**
         * True when it maps {@code file} from its first byte at {@code address}, to at least {@code address +
         * length}: the whole file as the library mapped it, not another part of it (a shared mapping can be
         * duplicated and moved over another with {@code mremap}, needing no descriptor).
         */
        public boolean maps(FileStat file, long address, long length) {
            return of(file) && start <= address && end >= address + length && offset + (address - start) == 0;
        }
    }

    /** {@code PROCMAP_QUERY}, uapi/linux/fs.h (Linux 6.11): {@code _IOWR('f', 17, struct procmap_query)}. */
    private static final long PROCMAP_QUERY = 0xC0686611L;
    /** The flags the library opens {@code /proc} with: read-only, never blocking, never inherited. */
    public static final int PROC_OPEN_FLAGS = Mman.O_RDONLY | Mman.O_CLOEXEC | Mman.O_NOCTTY | Mman.O_NONBLOCK;

    /**
     * The mapping that covers {@code address} and its file, as the kernel reports it: one
     * {@code ioctl(PROCMAP_QUERY)} on {@code /proc/self/maps} (Linux 6.11+), or its text read up to that mapping
     * on older kernels. Empty when nothing is mapped there.
     *
     * @throws java.io.UncheckedIOException if {@code /proc/self/maps} cannot be opened or read
     */
    public static Optional<MappedFile> mappedFileAt(long address) {
        int fd = MapsDescriptor.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment query = arena.allocate(104, 8); // struct procmap_query
            query.set(ValueLayout.JAVA_LONG, 0, 104);
            query.set(ValueLayout.JAVA_LONG, 16, address);
            int result = fd < 0 ? Integer.MIN_VALUE : LibC.ioctl(fd, PROCMAP_QUERY, query.address());
            if (result == 0) {
                return Optional.of(new MappedFile(query.get(ValueLayout.JAVA_LONG, 24),
                    query.get(ValueLayout.JAVA_LONG, 32), query.get(ValueLayout.JAVA_INT, 72),
                    query.get(ValueLayout.JAVA_INT, 76), query.get(ValueLayout.JAVA_LONG, 64),
                    query.get(ValueLayout.JAVA_LONG, 56)));
            }
            if (result == -Errno.ENOENT) {
                return Optional.empty();
            }
            if (result == -Errno.ENOTTY) {
                MapsDescriptor.noQuery = true; // a kernel before 6.11: the text from now on
            }
        }
        // A kernel before 6.11 (ENOTTY), one that refuses the query, or no descriptor for it: read the text.
        try (BufferedReader reader = Files.newBufferedReader(MAPS, StandardCharsets.ISO_8859_1)) {
            return mappedFileAt(reader, address);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + MAPS, e);
        }
    }

    /**
     * A descriptor of {@code /proc/self/maps} for {@code PROCMAP_QUERY}, kept open: opening a {@code /proc} file is
     * most of a query's cost (8 us a query opened each time, here; a freeze makes one). Other code can point the
     * number at another file at any moment (as it could between an open and the query), so each use checks that it
     * still names the file first opened (device and inode: {@code /proc/<pid>/maps} of another process has
     * others), and opens it again, leaving the number alone, when it does not.
     */
    private static final class MapsDescriptor {
        private record Open(int fd, FileStat file) {
        }

        private static volatile Open open;
        static volatile boolean noQuery;

        /** The descriptor, checked; -1 where none can be had (or the kernel has no query). */
        static int get() {
            if (noQuery) {
                return -1;
            }
            Open known = open;
            try {
                if (known != null && FileStat.of(known.fd()).sameFile(known.file())) {
                    return known.fd();
                }
            } catch (IllegalStateException e) {
                // closed under us (EBADF): open it again
            }
            synchronized (MapsDescriptor.class) {
                if (open != known) {
                    return get();
                }
                int fd = LibC.open(MAPS.toString(), PROC_OPEN_FLAGS);
                if (fd < 0) {
                    return -1;
                }
                try {
                    open = new Open(fd, FileStat.of(fd));
                } catch (IllegalStateException e) {
                    LibC.close(fd);
                    return -1;
                }
                return fd;
            }
        }
    }

    /** {@link #mappedFileAt(long)} over maps text: {@code start-end perms offset major:minor inode path}. */
    static Optional<MappedFile> mappedFileAt(BufferedReader reader, long address) throws IOException {
        return lineAt(reader, address).map(line -> {
            int dash = headerDash(line);
            String[] fields = line.trim().split(" +", 6);
            String[] device = fields[3].split(":");
            return new MappedFile(Long.parseUnsignedLong(line, 0, dash, 16),
                Long.parseUnsignedLong(line, dash + 1, line.indexOf(' ', dash), 16), Integer.parseInt(device[0], 16),
                Integer.parseInt(device[1], 16), Long.parseLong(fields[4]), Long.parseUnsignedLong(fields[2], 16));
        });
    }

    /** The line of maps text whose mapping covers {@code address}; read only up to it (they come in address order). */
    private static Optional<String> lineAt(BufferedReader reader, long address) throws IOException {
        String line;
        while ((line = reader.readLine()) != null) {
            int dash = headerDash(line);
            if (dash <= 0) {
                continue;
            }
            long end = Long.parseUnsignedLong(line, dash + 1, line.indexOf(' ', dash), 16);
            if (Long.compareUnsigned(address, end) < 0) {
                long start = Long.parseUnsignedLong(line, 0, dash, 16);
                return Long.compareUnsigned(address, start) < 0 ? Optional.empty() : Optional.of(line);
            }
        }
        return Optional.empty();
    }

    /**
     * How many mappings the process has, and the largest gap between two of them that lie below {@code below}.
     *
     * @param mappings the number of mappings ({@code /proc/self/maps} lines)
     * @param largestGap the largest stretch of unmapped address space between two mappings below the bound
     */
    public record Layout(long mappings, long largestGap) {
    }

    /**
     * The process's {@link Layout} from {@code /proc/self/maps}.
     *
     * @throws java.io.UncheckedIOException if {@code /proc/self/maps} cannot be read
     */
    public static Layout layout(long below) {
        try (BufferedReader reader = Files.newBufferedReader(MAPS, StandardCharsets.ISO_8859_1)) {
            return layout(reader, below);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + MAPS, e);
        }
    }

    /** {@link #layout(long)} over maps text. */
    static Layout layout(BufferedReader reader, long below) throws IOException {
        long mappings = 0;
        long lastEnd = 0;
        long largestGap = 0;
        String line;
        while ((line = reader.readLine()) != null) {
            int dash = headerDash(line);
            if (dash <= 0) {
                continue;
            }
            mappings++;
            long start = Long.parseUnsignedLong(line, 0, dash, 16);
            if (Long.compareUnsigned(start, below) < 0) {
                largestGap = Math.max(largestGap, start - lastEnd);
                lastEnd = Long.parseUnsignedLong(line, dash + 1, line.indexOf(' ', dash), 16);
            }
        }
        return new Layout(mappings, largestGap);
    }

    /** {@link #protectionAt(long)} over maps text. */
    static Optional<Protection> protectionAt(BufferedReader reader, long address) throws IOException {
        return lineAt(reader, address).map(line -> {
            int space = line.indexOf(' ', headerDash(line));
            return new Vma(0, 0, line.substring(space + 1, space + 5), List.of()).protection();
        });
    }

    /** The mappings that overlap {@code [start, end)}, in address order. */
    public static List<Vma> read(long start, long end) {
        try (BufferedReader reader = Files.newBufferedReader(SELF, StandardCharsets.ISO_8859_1)) {
            return parse(reader, start, end);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + SELF, e);
        }
    }

    /** Parses smaps text, keeping the mappings that overlap {@code [start, end)}. */
    static List<Vma> parse(BufferedReader reader, long start, long end) throws IOException {
        List<Vma> result = new ArrayList<>();
        long vmaStart = 0;
        long vmaEnd = 0;
        String permissions = null;
        String path = "";
        String line;
        while ((line = reader.readLine()) != null) {
            int dash = headerDash(line);
            if (dash > 0) {
                int space = line.indexOf(' ', dash);
                vmaStart = Long.parseUnsignedLong(line, 0, dash, 16);
                vmaEnd = Long.parseUnsignedLong(line, dash + 1, space, 16);
                permissions = line.substring(space + 1, space + 5);
                // start-end perms offset dev inode [path]: the path is what follows the fifth field.
                String[] fields = line.trim().split(" +", 6);
                path = fields.length == 6 ? fields[5] : "";
            } else if (permissions != null && line.startsWith("VmFlags:")) {
                if (vmaStart < end && vmaEnd > start) {
                    String[] words = line.substring("VmFlags:".length()).trim().split(" +");
                    result.add(new Vma(vmaStart, vmaEnd, permissions, List.of(words), path));
                }
                permissions = null;
            }
        }
        return result;
    }

    /** The index of the '-' in a mapping header line such as {@code 7f12a000-7f12b000 r--p ...}, or -1. */
    private static int headerDash(String line) {
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '-') {
                return i > 0 ? i : -1;
            }
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return -1;
            }
        }
        return -1;
    }

    /**
     * True when {@code vmas} cover every byte of {@code [start, end)} with sealed mappings: what
     * "sealed, as the kernel reports it" means.
     */
    public static boolean coveredAndSealed(List<Vma> vmas, long start, long end) {
        return covered(vmas, start, end, Vma::sealed);
    }

    /** True when {@code vmas} cover every byte of {@code [start, end)} with {@linkplain Vma#immutable() immutable} mappings. */
    public static boolean coveredAndImmutable(List<Vma> vmas, long start, long end) {
        return covered(vmas, start, end, Vma::immutable);
    }

    /** True when {@code vmas} cover every byte of {@code [start, end)} with mappings that pass {@code test}. */
    public static boolean coveredBy(List<Vma> vmas, long start, long end, java.util.function.Predicate<Vma> test) {
        return covered(vmas, start, end, test);
    }

    private static boolean covered(List<Vma> vmas, long start, long end, java.util.function.Predicate<Vma> test) {
        long next = start;
        for (Vma vma : vmas) {
            if (vma.start() > next || !test.test(vma)) {
                return false;
            }
            next = Math.max(next, vma.end());
            if (next >= end) {
                return true;
            }
        }
        return next >= end;
    }
}
