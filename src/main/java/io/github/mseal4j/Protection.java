package io.github.mseal4j;

/**
 * The access a page of a {@link MappedRegion} grants, ordered from least to most.
 *
 * <p>Once a page is sealed its protection can never change again: seal read-only data as {@link #READ}
 * (see {@link MappedRegion#sealReadOnly()}), guard pages as {@link #NONE}.
 */
public enum Protection {
    /** No access: {@code PROT_NONE}. Reading or writing faults. */
    NONE,
    /** Read only: {@code PROT_READ}. Writing faults. */
    READ,
    /** Read and write: {@code PROT_READ | PROT_WRITE}. */
    READ_WRITE
}
