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

    /** MAP_PRIVATE, asm-generic/mman-common.h. */
    public static final int MAP_PRIVATE = 0x02;
    /** MAP_FIXED, asm-generic/mman-common.h. */
    public static final int MAP_FIXED = 0x10;
    /** MAP_ANONYMOUS, asm-generic/mman-common.h (0x800 on MIPS, 0x10 on alpha: both unsupported here). */
    public static final int MAP_ANONYMOUS = 0x20;
    /** MAP_FIXED_NOREPLACE, asm-generic/mman-common.h, Linux 4.17. */
    public static final int MAP_FIXED_NOREPLACE = 0x100000;

    /** MADV_DONTNEED, asm-generic/mman-common.h: a discarding advice. */
    public static final int MADV_DONTNEED = 4;
    /** MADV_FREE, asm-generic/mman-common.h, Linux 4.5: a discarding advice. */
    public static final int MADV_FREE = 8;
    /** MADV_DONTFORK, asm-generic/mman-common.h: treated as discarding by mseal. */
    public static final int MADV_DONTFORK = 10;
    /** MADV_HUGEPAGE, asm-generic/mman-common.h, Linux 2.6.38: back with transparent huge pages if allowed. */
    public static final int MADV_HUGEPAGE = 14;
    /** MADV_DONTDUMP, asm-generic/mman-common.h. */
    public static final int MADV_DONTDUMP = 16;
    /** MADV_WIPEONFORK, asm-generic/mman-common.h, Linux 4.14: treated as discarding by mseal. */
    public static final int MADV_WIPEONFORK = 18;

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
