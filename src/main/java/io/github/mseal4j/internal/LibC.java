package io.github.mseal4j.internal;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.VarHandle;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The one native seam of mseal4j: the only class that links C functions or turns raw addresses into
 * segments. Everything else in the library goes through it.
 *
 * <p>Rules kept here:
 * <ul>
 *   <li>Handles are built once, each when first needed: one small holder class per C function, initialised by
 *       its first call (a process that only freezes never links {@code mremap} or {@code mincore}; linking each
 *       costs a cold JVM milliseconds). When native calls are impossible (not Linux, not 64-bit, native access
 *       not granted, a missing symbol), nothing is thrown while a holder initialises: the handle is replaced by
 *       one that throws {@link UnsupportedOperationException} with the reason, at each call.</li>
 *   <li>Every call captures {@code errno} into a segment owned by the calling thread, never one shared
 *       between threads, and reads it before the thread can make another call.</li>
 *   <li>Calls that return an address return {@code -errno} on failure, like the kernel's own ABI: a user
 *       address on a 64-bit Linux is never negative. The others return 0 or the errno.</li>
 *   <li>Addresses and {@code size_t} travel as {@code long}: every supported platform is LP64.</li>
 * </ul>
 */
@SuppressWarnings("restricted") // the single place allowed to make restricted FFM calls; see docs/design.md
public final class LibC {
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
        CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final ThreadLocal<MemorySegment> CAPTURE =
        ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE_LAYOUT));
    /** The last thread to make a call, with its capture segment: a {@code ThreadLocal} look-up costs more. */
    private static volatile Capture last;

    private record Capture(Thread thread, MemorySegment segment) {
    }

    /** Why no native call can be made here, or null when they can. */
    private static final String UNAVAILABLE = Platform.UNAVAILABLE;

    /** The mseal system call number on this architecture, when mseal4j knows it. */
    private static final long SYS_MSEAL = msealNumber(System.getProperty("os.arch", "")).orElse(-1);

    // long syscall(long number, ...);  https://man7.org/linux/man-pages/man2/syscall.2.html
    // Variadic: every argument after the number is passed as a long, as the kernel ABI expects.
    private static final class Syscall {
        static final MethodHandle H = link("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1));
    }
    // The same, with five arguments after the number (statx).
    private static final class Syscall5 {
        static final MethodHandle H = link("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1));
    }

    // void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset);
    // https://man7.org/linux/man-pages/man2/mmap.2.html
    private static final class Mmap {
        static final MethodHandle H = link("mmap",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    }

    // int munmap(void *addr, size_t length);  https://man7.org/linux/man-pages/man2/munmap.2.html
    private static final class Munmap {
        static final MethodHandle H = link("munmap",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));
    }

    // int mprotect(void *addr, size_t len, int prot);  https://man7.org/linux/man-pages/man2/mprotect.2.html
    private static final class Mprotect {
        static final MethodHandle H = link("mprotect",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
    }

    // int madvise(void *addr, size_t length, int advice);  https://man7.org/linux/man-pages/man2/madvise.2.html
    private static final class Madvise {
        static final MethodHandle H = link("madvise",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT));
    }

    // int mincore(void *addr, size_t length, unsigned char *vec);  https://man7.org/linux/man-pages/man2/mincore.2.html
    private static final class Mincore {
        static final MethodHandle H = link("mincore",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));
    }

    // void *mremap(void *old_address, size_t old_size, size_t new_size, int flags, ... /* void *new_address */);
    // https://man7.org/linux/man-pages/man2/mremap.2.html
    private static final class Mremap {
        static final MethodHandle H = link("mremap",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_LONG),
            Linker.Option.firstVariadicArg(4));
    }

    // int mlock(const void *addr, size_t len);  https://man7.org/linux/man-pages/man2/mlock.2.html
    private static final class Mlock {
        static final MethodHandle H = link("mlock",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG));
    }

    // long sysconf(int name);  https://man7.org/linux/man-pages/man3/sysconf.3.html
    private static final class Sysconf {
        static final MethodHandle H = link("sysconf",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT));
    }

    // int memfd_create(const char *name, unsigned int flags);  glibc 2.27+
    // https://man7.org/linux/man-pages/man2/memfd_create.2.html
    private static final class MemfdCreate {
        static final MethodHandle H = link("memfd_create",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT));
    }

    // int ftruncate(int fd, off_t length);  https://man7.org/linux/man-pages/man2/ftruncate.2.html
    private static final class Ftruncate {
        static final MethodHandle H = link("ftruncate",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    }

    // int fcntl(int fd, int cmd, ... /* arg */);  https://man7.org/linux/man-pages/man2/fcntl.2.html
    // Variadic after cmd: the seals travel as an int, as the kernel reads them.
    private static final class Fcntl {
        static final MethodHandle H = link("fcntl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    }

    // off_t lseek(int fd, off_t offset, int whence);  https://man7.org/linux/man-pages/man2/lseek.2.html
    private static final class Lseek {
        static final MethodHandle H = link("lseek",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
    }

    // int open(const char *pathname, int flags, ... /* mode_t mode */);
    // https://man7.org/linux/man-pages/man2/open.2.html  Variadic after flags: the mode travels as an int.
    private static final class Open {
        static final MethodHandle H = link("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    }

    // int ioctl(int fd, unsigned long request, ...);  https://man7.org/linux/man-pages/man2/ioctl.2.html
    // Variadic after request: the argument is a pointer, passed as a long.
    private static final class Ioctl {
        static final MethodHandle H = link("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), Linker.Option.firstVariadicArg(2));
    }

    // ssize_t pread(int fd, void *buf, size_t count, off_t offset);  https://man7.org/linux/man-pages/man2/pread.2.html
    private static final class Pread {
        static final MethodHandle H = link("pread",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));
    }

    // ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset);
    // https://man7.org/linux/man-pages/man2/pwrite.2.html  The buffer is a segment: it stays alive during the call.
    private static final class Pwrite {
        static final MethodHandle H = link("pwrite",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    }

    // The same, critical with heap access: a small heap array is written where it lies, with no native copy. The
    // call must be short (the garbage collector waits for it): only for at most HEAP_WRITE_MAX bytes.
    private static final class PwriteHeap {
        static final MethodHandle H = link("pwrite",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), Linker.Option.critical(true));
    }

    /** The most bytes {@link #pwrite} writes from the heap directly (a critical call): 64 KiB. */
    public static final long HEAP_WRITE_MAX = 64L << 10;

    // int close(int fd);  https://man7.org/linux/man-pages/man2/close.2.html
    private static final class Close {
        static final MethodHandle H = link("close",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    }

    private LibC() {
    }

    /** The mseal system call number for {@code osArch}, or empty where mseal4j does not know it. */
    public static OptionalLong msealNumber(String osArch) {
        return switch (osArch) {
            // 462 in arch/x86/entry/syscalls/syscall_64.tbl and include/uapi/asm-generic/unistd.h (arm64,
            // riscv), and in the powerpc and s390 tables. Not universal: alpha uses 572, and MIPS adds its ABI
            // base (4462, 5462, 6462), so there the library declines rather than guess.
            case "amd64", "x86_64", "aarch64", "riscv64", "ppc64le", "ppc64", "s390x" -> OptionalLong.of(462);
            default -> OptionalLong.empty();
        };
    }

    /**
     * The calling thread's capture segment. A thread making call after call (the common case) finds it in
     * {@link #last} without a {@code ThreadLocal} look-up, which a cold caller (interpreted) pays dearly; another
     * thread finds its own in {@link #CAPTURE}. A segment is only ever returned to the thread that owns it.
     */
    private static MemorySegment capture() {
        Capture recent = last;
        Thread thread = Thread.currentThread();
        if (recent != null && recent.thread() == thread) {
            return recent.segment();
        }
        MemorySegment segment = CAPTURE.get();
        last = new Capture(thread, segment);
        return segment;
    }

    /** {@code mseal(addr, len, 0)} through {@code syscall(2)}: 0 on success, else the errno. */
    public static int mseal(long address, long length) {
        if (SYS_MSEAL < 0) {
            throw new UnsupportedOperationException("mseal4j does not know the mseal system call number on "
                + System.getProperty("os.arch"));
        }
        MemorySegment capture = capture();
        long result;
        try {
            result = (long) Syscall.H.invokeExact(capture, SYS_MSEAL, address, length, 0L);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return result == 0 ? 0 : errno(capture);
    }

    /** {@code mmap}: the address of the new mapping, or {@code -errno}. */
    public static long mmap(long address, long length, int prot, int flags, int fd, long offset) {
        MemorySegment capture = capture();
        long result;
        try {
            result = (long) Mmap.H.invokeExact(capture, address, length, prot, flags, fd, offset);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return result == -1L ? -errno(capture) : result;
    }

    /** {@code munmap}: 0, or the errno. */
    public static int munmap(long address, long length) {
        MemorySegment capture = capture();
        int result;
        try {
            result = (int) Munmap.H.invokeExact(capture, address, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return result == 0 ? 0 : errno(capture);
    }

    /** {@code mprotect}: 0, or the errno. */
    public static int mprotect(long address, long length, int prot) {
        MemorySegment capture = capture();
        int result;
        try {
            result = (int) Mprotect.H.invokeExact(capture, address, length, prot);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return result == 0 ? 0 : errno(capture);
    }

    /** {@code madvise}: 0, or the errno. */
    public static int madvise(long address, long length, int advice) {
        MemorySegment capture = capture();
        int result;
        try {
            result = (int) Madvise.H.invokeExact(capture, address, length, advice);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return result == 0 ? 0 : errno(capture);
    }

    /**
     * {@code mincore(address, length, vector)}: 0, or the errno. The vector gets a byte per page whose lowest bit
     * says the page is present (the shared zero page counts).
     */
    public static int mincore(long address, long length, long vector) {
        MemorySegment capture = capture();
        int result;
        try {
            result = (int) Mincore.H.invokeExact(capture, address, length, vector);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return result == 0 ? 0 : errno(capture);
    }

    /** {@code mlock}: 0, or the errno. */
    public static int mlock(long address, long length) {
        MemorySegment capture = capture();
        int result;
        try {
            result = (int) Mlock.H.invokeExact(capture, address, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return result == 0 ? 0 : errno(capture);
    }

    /** {@code mremap}: the new address, or {@code -errno}. {@code newAddress} is read only with MREMAP_FIXED. */
    public static long mremap(long oldAddress, long oldSize, long newSize, int flags, long newAddress) {
        MemorySegment capture = capture();
        long result;
        try {
            result = (long) Mremap.H.invokeExact(capture, oldAddress, oldSize, newSize, flags, newAddress);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return result == -1L ? -errno(capture) : result;
    }

    /**
     * {@code memfd_create("mseal4j", flags)}: a new file descriptor, or {@code -errno}. The name is what
     * {@code /proc/self/maps} shows, as {@code /memfd:mseal4j (deleted)}.
     */
    public static int memfdCreate(int flags) {
        MemorySegment capture = capture();
        int result;
        try {
            result = (int) MemfdCreate.H.invokeExact(capture, Name.MEMFD.address(), flags);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return result == -1 ? -errno(capture) : result;
    }

    /** {@code ftruncate}: 0, or the errno. */
    public static int ftruncate(int fd, long length) {
        MemorySegment capture = capture();
        int result;
        try {
            result = (int) Ftruncate.H.invokeExact(capture, fd, length);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return result == 0 ? 0 : errno(capture);
    }

    /** {@code fcntl(fd, command, argument)}: the result (0 or more), or {@code -errno}. */
    public static int fcntl(int fd, int command, int argument) {
        MemorySegment capture = capture();
        int result;
        try {
            result = (int) Fcntl.H.invokeExact(capture, fd, command, argument);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return result == -1 ? -errno(capture) : result;
    }

    /** {@code lseek(fd, offset, whence)}: the resulting offset, or {@code -errno}. */
    public static long lseek(int fd, long offset, int whence) {
        MemorySegment capture = capture();
        long result;
        try {
            result = (long) Lseek.H.invokeExact(capture, fd, offset, whence);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return result == -1 ? -errno(capture) : result;
    }

    /** {@code open(path, flags)} (no file is created, so no mode): a new file descriptor, or {@code -errno}. */
    public static int open(String path, int flags) {
        MemorySegment capture = capture();
        int result;
        try (Arena arena = Arena.ofConfined()) {
            result = (int) Open.H.invokeExact(capture, arena.allocateFrom(path), flags, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return result == -1 ? -errno(capture) : result;
    }

    /** {@code ioctl(fd, request, argument)}: the result (0 or more), or {@code -errno}. */
    public static int ioctl(int fd, long request, long argument) {
        MemorySegment capture = capture();
        int result;
        try {
            result = (int) Ioctl.H.invokeExact(capture, fd, request, argument);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return result == -1 ? -errno(capture) : result;
    }

    /**
     * {@code userfaultfd(flags)} through {@code syscall(2)} (glibc has no wrapper before 2.36): a new file
     * descriptor, or {@code -errno}; ENOSYS where mseal4j does not know the number on this architecture.
     */
    public static int userfaultfd(int flags) {
        long number = switch (System.getProperty("os.arch", "")) {
            // arch/x86/entry/syscalls/syscall_64.tbl; include/uapi/asm-generic/unistd.h (arm64, riscv);
            // the powerpc and s390 tables.
            case "amd64", "x86_64" -> 323;
            case "aarch64", "riscv64" -> 282;
            case "ppc64le", "ppc64" -> 364;
            case "s390x" -> 355;
            default -> -1;
        };
        if (number < 0) {
            return -Errno.ENOSYS;
        }
        MemorySegment capture = capture();
        long result;
        try {
            result = (long) Syscall.H.invokeExact(capture, number, (long) flags, 0L, 0L);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return result < 0 ? -errno(capture) : (int) result;
    }

    /** {@code pread(fd, address, count, offset)} into native memory: the bytes read (0 at the end), or {@code -errno}. */
    public static long pread(int fd, long address, long count, long offset) {
        MemorySegment capture = capture();
        long result;
        try {
            result = (long) Pread.H.invokeExact(capture, fd, address, count, offset);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return result == -1 ? -errno(capture) : result;
    }

    /**
     * {@code pwrite(fd, buffer, buffer.byteSize(), offset)}: the bytes written, or {@code -errno}. A heap segment
     * is written where it lies, at most {@link #HEAP_WRITE_MAX} bytes a call (a critical call).
     */
    public static long pwrite(int fd, MemorySegment buffer, long offset) {
        MemorySegment capture = capture();
        long result;
        try {
            result = buffer.isNative() ? (long) Pwrite.H.invokeExact(capture, fd, buffer, buffer.byteSize(), offset)
                : (long) PwriteHeap.H.invokeExact(capture, fd, buffer, Math.min(buffer.byteSize(), HEAP_WRITE_MAX),
                    offset);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return result == -1 ? -errno(capture) : result;
    }

    /**
     * {@code statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, buffer)} through {@code syscall(2)} (glibc's wrapper is
     * 2.28+): 0, or the errno; ENOSYS where mseal4j does not know the number on this architecture. The buffer
     * holds a {@code struct statx} (256 bytes), whose layout is the same on every architecture.
     */
    public static int statx(int fd, long buffer) {
        return statx(fd, Name.EMPTY, 0x1000 /* AT_EMPTY_PATH */, buffer);
    }

    /** {@code statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, buffer)}, symbolic links followed: as {@link #statx(int, long)}. */
    public static int statx(String path, long buffer) {
        try (Arena arena = Arena.ofConfined()) {
            return statx(-100 /* AT_FDCWD */, arena.allocateFrom(path), 0, buffer);
        }
    }

    private static int statx(int fd, MemorySegment path, int flags, long buffer) {
        long number = switch (System.getProperty("os.arch", "")) {
            // arch/x86/entry/syscalls/syscall_64.tbl; include/uapi/asm-generic/unistd.h (arm64, riscv);
            // the powerpc and s390 tables.
            case "amd64", "x86_64" -> 332;
            case "aarch64", "riscv64" -> 291;
            case "ppc64le", "ppc64" -> 383;
            case "s390x" -> 379;
            default -> -1;
        };
        if (number < 0) {
            return Errno.ENOSYS;
        }
        MemorySegment capture = capture();
        long result;
        try {
            // STATX_BASIC_STATS (0x7ff): type, mode, size, times, device and inode.
            result = (long) Syscall5.H.invokeExact(capture, number, (long) fd, path.address(), (long) flags, 0x7ffL,
                buffer);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return result == 0 ? 0 : errno(capture);
    }

    /** {@code close}: 0, or the errno. */
    public static int close(int fd) {
        MemorySegment capture = capture();
        int result;
        try {
            result = (int) Close.H.invokeExact(capture, fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return result == 0 ? 0 : errno(capture);
    }

    /** {@code sysconf(_SC_PAGESIZE)}. */
    public static long pageSize() {
        MemorySegment capture = capture();
        long result;
        try {
            result = (long) Sysconf.H.invokeExact(capture, Mman.SC_PAGESIZE);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        if (result <= 0) {
            throw new IllegalStateException("sysconf(_SC_PAGESIZE) failed: " + Errno.name(errno(capture)));
        }
        return result;
    }

    /** True when {@code result} of {@link #mmap} or {@link #mremap} is a failure. */
    public static boolean failed(long result) {
        return result < 0;
    }

    /**
     * A segment over {@code [address, address + size)} that lives as long as {@code arena}. The caller
     * guarantees the memory stays mapped at least that long.
     */
    public static MemorySegment view(long address, long size, Arena arena) {
        requireAvailable();
        return MemorySegment.ofAddress(address).reinterpret(size, arena, null);
    }

    /**
     * A segment over {@code [address, address + size)} in {@code arena}'s scope that runs {@code cleanup} once,
     * when the arena closes (or, for an automatic arena, is collected). The caller guarantees the memory stays
     * mapped until then, and that only the cleanup unmaps it.
     *
     * @throws IllegalStateException if the arena is closed; {@code cleanup} is then not registered
     * @throws WrongThreadException if the arena is confined to another thread; likewise
     */
    public static MemorySegment view(long address, long size, Arena arena, Runnable cleanup) {
        requireAvailable();
        return MemorySegment.ofAddress(address).reinterpret(size, arena, ignored -> cleanup.run());
    }

    /**
     * Refuses, as the JDK does when memory is given to it, an arena that is closed ({@link IllegalStateException})
     * or confined to another thread ({@link WrongThreadException}); registers nothing.
     */
    public static void checkArena(Arena arena) {
        requireAvailable();
        MemorySegment.NULL.reinterpret(0, arena, null);
    }

    /**
     * A segment over {@code [address, address + size)} that is never invalidated. Only for memory that can
     * never be unmapped: sealed memory.
     */
    public static MemorySegment foreverView(long address, long size) {
        requireAvailable();
        return MemorySegment.ofAddress(address).reinterpret(size);
    }

    /** C strings the library passes, made once. */
    private static final class Name {
        static final MemorySegment MEMFD = Arena.global().allocateFrom("mseal4j");
        static final MemorySegment EMPTY = Arena.global().allocateFrom("");
    }

    private static void requireAvailable() {
        if (UNAVAILABLE != null) {
            throw new UnsupportedOperationException(UNAVAILABLE);
        }
    }

    private static int errno(MemorySegment capture) {
        return (int) ERRNO.get(capture, 0L);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException e) {
            throw e;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new AssertionError("a C function cannot throw a checked exception", t);
    }

    /**
     * Links {@code symbol} with errno capture, or, when that cannot work here, returns a handle of the same
     * type that throws {@link UnsupportedOperationException} with the reason.
     */
    private static MethodHandle link(String symbol, FunctionDescriptor descriptor, Linker.Option... options) {
        MethodType type = descriptor.toMethodType().insertParameterTypes(0, MemorySegment.class);
        if (UNAVAILABLE != null) {
            return throwing(type, UNAVAILABLE);
        }
        try {
            Linker linker = Linker.nativeLinker();
            Optional<MemorySegment> address = linker.defaultLookup().find(symbol);
            if (address.isEmpty()) {
                return throwing(type, String.format(Locale.ROOT,
                    "the C library of this system has no '%s' symbol, which mseal4j needs", symbol));
            }
            Linker.Option[] all = new Linker.Option[options.length + 1];
            all[0] = Linker.Option.captureCallState("errno");
            System.arraycopy(options, 0, all, 1, options.length);
            return linker.downcallHandle(address.get(), descriptor, all);
        } catch (RuntimeException e) {
            // An unsupported platform or a JVM that refuses native access: report it at first use instead.
            return throwing(type, "cannot link '" + symbol + "': " + e);
        }
    }

    private static MethodHandle throwing(MethodType type, String reason) {
        try {
            MethodHandle newException = MethodHandles.insertArguments(MethodHandles.lookup().findConstructor(
                UnsupportedOperationException.class, MethodType.methodType(void.class, String.class)), 0, reason);
            MethodHandle thrower = MethodHandles.throwException(type.returnType(), UnsupportedOperationException.class);
            return MethodHandles.dropArguments(MethodHandles.foldArguments(thrower, newException), 0,
                type.parameterList());
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }
}
