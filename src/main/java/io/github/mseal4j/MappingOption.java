package io.github.mseal4j;

/**
 * Hardening for a {@link MappedRegion}, chosen at {@link MappedRegion#allocate(long, MappingOption...)}. The
 * library applies them in the order the kernel requires: advice before sealing, because discarding advice
 * (which {@code MADV_DONTFORK} counts as) is refused on sealed read-only memory. Every option combines with
 * every other.
 */
public enum MappingOption {
    /**
     * Memory that, once frozen by {@link MappedRegion#sealReadOnly()}, nothing in the process can write again:
     * not through its mapping, not through {@code /proc/self/mem} or {@code /proc/<pid>/mem}, not with
     * {@code ptrace(PTRACE_POKEDATA)}, not by reopening its file; and {@code mprotect} cannot make it writable.
     * Plain sealed read-only memory stops none of those forced writes.
     *
     * <p>How: the region is a shared mapping of a {@code memfd} instead of private anonymous memory. Freezing
     * invalidates every segment handed out, replaces the writable mapping atomically by an inaccessible
     * placeholder, seals the file ({@code F_SEAL_WRITE}, {@code F_SEAL_SHRINK}, {@code F_SEAL_GROW},
     * {@code F_SEAL_SEAL}), maps it again read-only at the same address (through a descriptor opened read-only
     * from {@code /proc/self/fd}, as some kernels refuse that map through a writable one), applies the other
     * options again, seals
     * the mapping with mseal and closes the file. The kernel refuses forced writes to shared mappings that are
     * not writable, and the write seal means the mapping can never be writable again.
     *
     * <p>Such a region is sealed only whole and only read-only: {@link MappedRegion#seal()} and
     * {@link MappedRegion#seal(long, long)} throw {@link IllegalStateException}. Before freezing it behaves like
     * any region. Needs {@link Mseal#immutability()}: where that is not available, allocation throws
     * {@link UnsupportedOperationException} under the strict {@linkplain SealPolicy policy}, and under
     * best-effort falls back to ordinary memory (one warning), whose {@link MappedRegion#isImmutable()} is false.
     * Memory of a memfd gets no transparent huge pages where the kernel's {@code shmem_enabled} is
     * {@code never} (a common default).
     */
    IMMUTABLE,
    /**
     * One {@code PROT_NONE} page directly below and one directly above the data, so that running off either
     * end faults instead of reading or writing a neighbour. They are sealed together with the data (the first
     * time any part of the region is sealed), so nobody can make them accessible again; before that,
     * {@code close()} unmaps them with the data. They are not part of {@link MappedRegion#segment()} or
     * {@link MappedRegion#byteSize()}.
     */
    GUARD_PAGES,
    /** {@code madvise(MADV_DONTDUMP)}: the data never appears in a core dump ({@code dd} in smaps). */
    NO_DUMP,
    /**
     * {@code mlock}: the data is faulted in now and never written to swap ({@code lo} in smaps). Limited by
     * {@code RLIMIT_MEMLOCK} ({@code ulimit -l}) unless the process has {@code CAP_IPC_LOCK}; when the limit is
     * too small, allocation fails with a {@link SystemCallException} that names it, and nothing stays mapped.
     */
    LOCKED,
    /**
     * {@code madvise(MADV_DONTFORK)}: child processes made by {@code fork()} do not inherit the mapping
     * ({@code dc} in smaps), so a sealed secret does not end up in them.
     */
    NO_FORK
}
