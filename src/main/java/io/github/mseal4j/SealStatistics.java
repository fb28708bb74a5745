package io.github.mseal4j;

/**
 * How much this process has sealed, how much of that it no longer uses, and how close it is to the kernel's limit
 * on mappings. Sealed memory is never freed, so the first two numbers only grow; watch {@link #headroom()} and
 * {@link #unreachableSealedBytes()} in a long-running process.
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
 * @param unreachableSealedBytes of {@code sealedBytes}, those of maps, arenas, regions and frozen copies that the
 *     program no longer references (the collector found nothing referring to them, nor to any segment over them
 *     that they handed out as sealed; a region's {@code segment()} views do not count, so keep the region):
 *     mapped until the process exits, and of no use. It grows when data sealed for good is replaced (a
 *     configuration that reloads, keys that rotate), which wants an {@link java.lang.foreign.Arena}'s lifetime
 *     instead ({@code docs/lifetimes.md}); the first time it passes 64 MiB the library logs a warning. It lags:
 *     memory is counted once the collector has found it unreachable, at the next seal or call to
 *     {@code statistics()}
 */
public record SealStatistics(long sealedRegions, long sealedBytes, long sealedMappings, long mappings,
                             long maxMapCount, long unreachableSealedBytes) {

    /**
     * The figures without the unreachable count (0), as before it was kept.
     *
     * @param sealedRegions as the record's
     * @param sealedBytes as the record's
     * @param sealedMappings as the record's
     * @param mappings as the record's
     * @param maxMapCount as the record's
     */
    public SealStatistics(long sealedRegions, long sealedBytes, long sealedMappings, long mappings,
                          long maxMapCount) {
        this(sealedRegions, sealedBytes, sealedMappings, mappings, maxMapCount, 0);
    }

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
