package io.github.mseal4j;

/**
 * How much this process has sealed, and how close it is to the kernel's limit on mappings. Sealed memory is
 * never freed, so the first two numbers only grow; watch {@link #headroom()} in a long-running process.
 *
 * @param sealedRegions regions (one per {@link MappedRegion}, arena reservation or map) in which mseal4j has
 *     sealed at least one page
 * @param sealedBytes bytes mseal4j has sealed, each page counted once, as mseal answered: a plain
 *     {@link MappedRegion#seal()} takes its 0 on trust (a seccomp filter that answers mseal with 0 without
 *     sealing would be counted), where the multi-step operations check that the seal took
 * @param sealedMappings the process's mappings (VMAs) that the kernel reports sealed ({@code sl} in
 *     {@code /proc/self/smaps}), whoever sealed them: adjacent sealed regions can share one
 * @param mappings all of the process's mappings now ({@code /proc/self/maps})
 * @param maxMapCount the kernel's limit, {@code vm.max_map_count}, or -1 when unknown
 */
public record SealStatistics(long sealedRegions, long sealedBytes, long sealedMappings, long mappings,
                             long maxMapCount) {

    /**
     * How many more mappings the process may create before {@code mmap}, {@code mprotect} and {@code mseal}
     * start failing with ENOMEM.
     *
     * @return {@code maxMapCount() - mappings()}, or -1 when the limit is unknown
     */
    public long headroom() {
        return maxMapCount < 0 ? -1 : maxMapCount - mappings;
    }
}
