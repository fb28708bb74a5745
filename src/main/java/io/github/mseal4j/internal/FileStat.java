package io.github.mseal4j.internal;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * What {@code statx(2)} says of the file a descriptor names: which file it is (device and inode), its type, size
 * and times. A file is the same file when its device and inode are.
 *
 * @param devMajor the device's major number
 * @param devMinor the device's minor number
 * @param inode the inode number
 * @param mode the file type and permissions ({@code st_mode})
 * @param size the size in bytes
 * @param modified the modification time, in nanoseconds since the epoch
 * @param changed the status change time, in nanoseconds since the epoch (any write or attribute change moves it,
 *     and no one can set it back)
 */
public record FileStat(int devMajor, int devMinor, long inode, int mode, long size, long modified, long changed) {
    private static final int S_IFMT = 0170000;
    private static final int S_IFREG = 0100000;

    /** What the descriptor {@code fd} names; {@link IllegalStateException} naming the errno where statx fails. */
    public static FileStat of(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(256, 8);
            int errno = LibC.statx(fd, buffer.address());
            if (errno != 0) {
                throw new IllegalStateException("statx(" + fd + ") failed: " + Errno.name(errno));
            }
            return of(buffer);
        }
    }

    /**
     * What {@code path} names, symbolic links followed.
     *
     * @throws java.nio.file.NoSuchFileException if nothing is there
     * @throws IOException if statx fails otherwise; the message names the path and the errno
     */
    public static FileStat of(Path path) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(256, 8);
            int errno = LibC.statx(path.toString(), buffer.address());
            if (errno == Errno.ENOENT) {
                throw new NoSuchFileException(path.toString());
            }
            if (errno != 0) {
                throw new IOException(path + " could not be examined (statx): " + Errno.name(errno));
            }
            return of(buffer);
        }
    }

    private static FileStat of(MemorySegment buffer) {
        // struct statx, include/uapi/linux/stat.h: the same layout on every architecture.
        return new FileStat(buffer.get(ValueLayout.JAVA_INT, 136), buffer.get(ValueLayout.JAVA_INT, 140),
            buffer.get(ValueLayout.JAVA_LONG, 32), Short.toUnsignedInt(buffer.get(ValueLayout.JAVA_SHORT, 28)),
            buffer.get(ValueLayout.JAVA_LONG, 40), nanos(buffer, 112), nanos(buffer, 96));
    }

    private static long nanos(MemorySegment buffer, long offset) {
        return buffer.get(ValueLayout.JAVA_LONG, offset) * 1_000_000_000L
            + Integer.toUnsignedLong(buffer.get(ValueLayout.JAVA_INT, offset + 8));
    }

    /** True when {@code other} is the same file: the same device and inode. */
    public boolean sameFile(FileStat other) {
        return devMajor == other.devMajor && devMinor == other.devMinor && inode == other.inode;
    }

    /** True for a regular file. */
    public boolean regular() {
        return (mode & S_IFMT) == S_IFREG;
    }

    /** The device and inode, as {@code /proc/self/maps} prints them: {@code 00:01 647520}. */
    public String identity() {
        return String.format(java.util.Locale.ROOT, "%02x:%02x %d", devMajor, devMinor, inode);
    }
}
