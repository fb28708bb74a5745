package io.github.mseal4j;

/**
 * Hardening for a {@link MappedRegion}, chosen at {@link MappedRegion#allocate(long, MappingOption...)}. The
 * library applies them in the order the kernel requires: advice before sealing, because discarding advice
 * (which {@code MADV_DONTFORK} counts as) is refused on sealed read-only memory.
 */
public enum MappingOption {
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
