package io.github.mseal4j;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.internal.FileStat;
import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.Mman;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A regular file, read once, front to back, into memory the library mapped: what {@code Mseal.freeze(Path)}
 * copies. Not a snapshot: a write while it is read can give a copy that mixes old and new content. What can be
 * seen cheaply is refused, by the file's attributes through the descriptor read (so a path pointed at another
 * file meanwhile cannot hide it): another size, modification or status-change time (which a writer cannot set
 * back), and another file at the path before the open or after the read than the one opened.
 */
final class FileCopy implements AutoCloseable {
    /** The other reason a file's reported size is not what it holds. */
    private static final String SIZE_UNKNOWN = "it is a file whose size the kernel does not know (in /proc or /sys,"
        + " 0 or a page whatever it holds); read it yourself and freeze the bytes";
    /** For tests only: run after the file is read and before it is checked again. */
    static volatile Runnable readObserver;

    private final Path path;
    private final int fd;
    private final FileStat opened;

    private FileCopy(Path path, int fd, FileStat opened) {
        this.path = path;
        this.fd = fd;
        this.opened = opened;
    }

    /**
     * Opens {@code path}, a regular file: checked before the open (a device's open can do things) and, through
     * the descriptor, after it. The open never blocks ({@code O_NONBLOCK}: a FIFO put at the path between the two
     * would otherwise block it for ever with no writer).
     *
     * @throws IOException if it is not a regular file, or cannot be opened; the message names it
     */
    static FileCopy open(Path path) throws IOException {
        FileStat before = FileStat.of(path);
        if (!before.regular()) {
            throw notRegular(path);
        }
        int fd = LibC.open(path.toString(), Mman.O_RDONLY | Mman.O_CLOEXEC | Mman.O_NONBLOCK);
        if (fd < 0) {
            throw new IOException(path + " could not be opened: " + Errno.name(-fd));
        }
        try {
            FileStat opened = FileStat.of(fd);
            if (!opened.regular()) {
                throw notRegular(path);
            }
            if (!opened.sameFile(before)) {
                throw changed(path, "another file was at its path when it was opened than just before");
            }
            return new FileCopy(path, fd, opened);
        } catch (IOException | RuntimeException e) {
            LibC.close(fd);
            throw e;
        }
    }

    private static IOException notRegular(Path path) {
        return new IOException(path + " is not a regular file (a directory, FIFO, device or socket): read it yourself"
            + " and freeze the bytes");
    }

    /** The size the file had when it was opened. */
    long size() {
        return opened.size();
    }

    /**
     * True when a file that reports a size of 0 holds nothing (one byte is read to tell). Files in {@code /proc}
     * and {@code /sys} report 0 whatever they hold.
     *
     * @throws IOException if it holds something, or cannot be read
     */
    void checkEmpty() throws IOException {
        if (read(MemoryOfOne.ADDRESS, 1, 0) > 0) {
            throw new IOException(path + " reports a size of 0 but has content: it changed while it was read, or "
                + SIZE_UNKNOWN);
        }
    }

    /**
     * Reads the whole file ({@link #size()} bytes) into memory at {@code address}, then makes sure it ended
     * there and is the file it was: see the class documentation.
     *
     * @throws IOException if it cannot be read, or is seen to have changed
     */
    void readInto(long address) throws IOException {
        long size = opened.size();
        for (long done = 0; done < size; ) {
            long read = read(address + done, Math.min(size - done, 1L << 30), done);
            if (read == 0) {
                throw changed(path, "it ended after " + done + " of " + size + " bytes (or " + SIZE_UNKNOWN + ")");
            }
            done += read;
        }
        if (read(MemoryOfOne.ADDRESS, 1, size) > 0) {
            throw changed(path, "it grew past " + size + " bytes");
        }
        Runnable observer = readObserver;
        if (observer != null) {
            observer.run();
        }
        FileStat now = FileStat.of(fd);
        FileStat atPath = FileStat.of(path);
        String changed = !atPath.sameFile(opened) ? "another file is at its path now"
            : now.size() != size ? "its size changed (" + size + " bytes, now " + now.size() + ")"
            : now.modified() != opened.modified() ? "it was modified"
            : now.changed() != opened.changed() ? "its status changed (ctime: written, or its times set back)"
            : null;
        if (changed != null) {
            throw changed(path, changed);
        }
    }

    private long read(long address, long count, long offset) throws IOException {
        long read = LibC.pread(fd, address, count, offset);
        if (read < 0) {
            throw new IOException(path + " could not be read: " + Errno.name((int) -read));
        }
        return read;
    }

    private static IOException changed(Path path, String how) {
        return new IOException(path + " changed while it was read: " + how + "; nothing is returned, as the copy may"
            + " mix old and new content (freeze it again once it is written, or check it with a digest:"
            + " freeze(file, sha256Hex))");
    }

    @Override
    public void close() {
        LibC.close(fd);
    }

    /** One byte of native memory, to read into where only whether something is there matters. */
    private static final class MemoryOfOne {
        static final long ADDRESS = java.lang.foreign.Arena.global().allocate(1).address();
    }
}
