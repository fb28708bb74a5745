package io.github.mseal4j.internal;

import io.github.mseal4j.Protection;

/**
 * Constants of {@code <sys/mman.h>} and {@code <unistd.h>} for the Linux architectures mseal4j supports
 * (x86_64, aarch64, riscv64, ppc64le, s390x: all use the asm-generic values below).
 */
public final class Mman {
    /** PROT_NONE, asm-generic/mman-common.h. */
    public static final int PROT_NONE = 0x0;
    /** PROT_READ, asm-generic/mman-common.h. */
    public static final int PROT_READ = 0x1;
    /** PROT_WRITE, asm-generic/mman-common.h. */
    public static final int PROT_WRITE = 0x2;

    /** MAP_SHARED, asm-generic/mman-common.h. */
    public static final int MAP_SHARED = 0x01;
    /** MAP_PRIVATE, asm-generic/mman-common.h. */
    public static final int MAP_PRIVATE = 0x02;
    /** MAP_FIXED, asm-generic/mman-common.h. */
    public static final int MAP_FIXED = 0x10;
    /** MAP_ANONYMOUS, asm-generic/mman-common.h (0x800 on MIPS, 0x10 on alpha: both unsupported here). */
    public static final int MAP_ANONYMOUS = 0x20;
    /** MAP_NORESERVE: 0x4000 in asm-generic/mman.h (x86, arm64, riscv, s390), 0x40 in powerpc's asm/mman.h. */
    public static final int MAP_NORESERVE = System.getProperty("os.arch", "").startsWith("ppc") ? 0x40 : 0x4000;
    /** MAP_POPULATE, asm-generic/mman.h: fault the whole mapping in now. */
    public static final int MAP_POPULATE = 0x8000;
    /** MAP_FIXED_NOREPLACE, asm-generic/mman-common.h, Linux 4.17. */
    public static final int MAP_FIXED_NOREPLACE = 0x100000;

    /** MADV_DONTNEED, asm-generic/mman-common.h: a discarding advice. */
    public static final int MADV_DONTNEED = 4;
    /** MADV_FREE, asm-generic/mman-common.h, Linux 4.5: a discarding advice. */
    public static final int MADV_FREE = 8;
    /** MADV_REMOVE, asm-generic/mman-common.h: frees shared memory and its backing; refused by F_SEAL_WRITE. */
    public static final int MADV_REMOVE = 9;
    /** MADV_DONTFORK, asm-generic/mman-common.h: treated as discarding by mseal. */
    public static final int MADV_DONTFORK = 10;
    /** MADV_HUGEPAGE, asm-generic/mman-common.h, Linux 2.6.38: back with transparent huge pages if allowed. */
    public static final int MADV_HUGEPAGE = 14;
    /** MADV_DONTDUMP, asm-generic/mman-common.h. */
    public static final int MADV_DONTDUMP = 16;
    /** MADV_WIPEONFORK, asm-generic/mman-common.h, Linux 4.14: treated as discarding by mseal. */
    public static final int MADV_WIPEONFORK = 18;
    /** MADV_POPULATE_WRITE, asm-generic/mman-common.h, Linux 5.14: fault pages in writable, in one call. */
    public static final int MADV_POPULATE_WRITE = 23;
    /** MADV_POPULATE_READ, Linux 5.14: fault pages in readable; EFAULT where they cannot be read. */
    public static final int MADV_POPULATE_READ = 22;
    /** SEEK_END, for {@code lseek}: the offset is the file's size. */
    public static final int SEEK_END = 2;

    /** O_RDONLY, asm-generic/fcntl.h. */
    public static final int O_RDONLY = 0;
    /** O_NOCTTY, asm-generic/fcntl.h (0400): never becomes a controlling terminal. */
    public static final int O_NOCTTY = 0x100;
    /** O_NONBLOCK, asm-generic/fcntl.h (04000). */
    public static final int O_NONBLOCK = 0x800;
    /** O_CLOEXEC, asm-generic/fcntl.h (02000000). */
    public static final int O_CLOEXEC = 0x80000;

    /** MFD_CLOEXEC, uapi/linux/memfd.h. */
    public static final int MFD_CLOEXEC = 0x1;
    /** MFD_ALLOW_SEALING, uapi/linux/memfd.h: file seals may be added (F_ADD_SEALS). */
    public static final int MFD_ALLOW_SEALING = 0x2;
    /** MFD_NOEXEC_SEAL, uapi/linux/memfd.h, Linux 6.3: never executable; required where vm.memfd_noexec=2. */
    public static final int MFD_NOEXEC_SEAL = 0x8;

    /** F_ADD_SEALS, uapi/linux/fcntl.h: F_LINUX_SPECIFIC_BASE (1024) + 9. */
    public static final int F_ADD_SEALS = 1033;
    /** F_GET_SEALS, uapi/linux/fcntl.h: F_LINUX_SPECIFIC_BASE (1024) + 10. */
    public static final int F_GET_SEALS = 1034;
    /** F_SEAL_SEAL, uapi/linux/fcntl.h: no more seals may be added. */
    public static final int F_SEAL_SEAL = 0x1;
    /** F_SEAL_SHRINK, uapi/linux/fcntl.h. */
    public static final int F_SEAL_SHRINK = 0x2;
    /** F_SEAL_GROW, uapi/linux/fcntl.h. */
    public static final int F_SEAL_GROW = 0x4;
    /** F_SEAL_WRITE, uapi/linux/fcntl.h: no write(2) and no writable shared mapping, ever. */
    public static final int F_SEAL_WRITE = 0x8;
    /** The four seals that make a memfd's contents and size final. */
    public static final int IMMUTABLE_FILE_SEALS = F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;

    /** MREMAP_MAYMOVE, uapi/linux/mman.h. */
    public static final int MREMAP_MAYMOVE = 1;
    /** MREMAP_FIXED, uapi/linux/mman.h. */
    public static final int MREMAP_FIXED = 2;
    /** MREMAP_DONTUNMAP, uapi/linux/mman.h, Linux 5.7. */
    public static final int MREMAP_DONTUNMAP = 4;

    /** _SC_PAGESIZE, glibc and musl bits/confname.h. */
    public static final int SC_PAGESIZE = 30;

    private Mman() {
    }

    /** The {@code PROT_*} bits for a protection. */
    public static int prot(Protection protection) {
        return switch (protection) {
            case NONE -> PROT_NONE;
            case READ -> PROT_READ;
            case READ_WRITE -> PROT_READ | PROT_WRITE;
        };
    }

    /** A protection as C code spells it, for messages: {@code PROT_READ|PROT_WRITE}. */
    public static String protName(Protection protection) {
        return switch (protection) {
            case NONE -> "PROT_NONE";
            case READ -> "PROT_READ";
            case READ_WRITE -> "PROT_READ|PROT_WRITE";
        };
    }
}
