package io.github.mseal4j.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * Reads and writes this process's memory through {@code /proc/self/mem}. Unlike a segment access, this never
 * faults: an unmapped address answers EIO, and PROT_NONE pages can be read (the kernel uses FOLL_FORCE).
 * The tests use it to look at memory whose state they are checking, so a wrong guess fails a test instead
 * of killing the JVM.
 */
public final class ProcMem {
    private static final Path MEM = Path.of("/proc/self/mem");

    private ProcMem() {
    }

    /** {@code length} bytes at {@code address}, or empty when some of them are not mapped. */
    public static Optional<byte[]> read(long address, int length) {
        try (FileChannel mem = FileChannel.open(MEM, StandardOpenOption.READ)) {
            ByteBuffer buffer = ByteBuffer.allocate(length);
            while (buffer.hasRemaining()) {
                if (mem.read(buffer, address + buffer.position()) <= 0) {
                    return Optional.empty();
                }
            }
            return Optional.of(buffer.array());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Writes {@code bytes} at {@code address}, through protections, as a debugger could. */
    public static void write(long address, byte[] bytes) {
        try (FileChannel mem = FileChannel.open(MEM, StandardOpenOption.WRITE)) {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                mem.write(buffer, address + buffer.position());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
