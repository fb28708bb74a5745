package io.github.mseal4j.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mseal4j.MappedRegion;
import io.github.mseal4j.Mseal;
import io.github.mseal4j.Protection;
import org.junit.jupiter.api.Test;

/** The leak check the child JVMs rely on: it sees a mapping left behind, and not a mapping changed in place. */
class AddressSpaceTest {

    @Test
    void aNewMappingIsSeenAndGoneOnceUnmapped() {
        // Once first, so that what the JVM and malloc set up for these calls exists before counting.
        MappedRegion warmUp = MappedRegion.allocate(3 * Mseal.pageSize());
        warmUp.protect(Mseal.pageSize(), Mseal.pageSize(), Protection.READ);
        warmUp.close();
        AddressSpace before = AddressSpace.now();
        MappedRegion region = MappedRegion.allocate(3 * Mseal.pageSize());
        String seen = AddressSpace.now().newSince(before);
        assertTrue(seen.contains(Long.toHexString(region.address())), "the new region is reported: " + seen);
        AddressSpace allocated = AddressSpace.now();
        region.protect(Mseal.pageSize(), Mseal.pageSize(), Protection.READ); // three mappings now, the same range
        assertEquals("none", AddressSpace.now().newSince(allocated), "a split is not new address space");
        region.close();
        assertEquals("none", AddressSpace.now().newSince(before), "nothing left once closed (the region was at "
            + Long.toHexString(region.address()) + ")");
    }
}
