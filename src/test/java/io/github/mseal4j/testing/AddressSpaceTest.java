package io.github.mseal4j.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mseal4j.MappedRegion;
import io.github.mseal4j.Mseal;
import io.github.mseal4j.Protection;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * The leak check the child JVMs rely on: it sees a mapping left behind, and not a mapping changed in place.
 * This JVM is not steady (its compiler threads and malloc arenas may map memory at any moment), so only the
 * region's own span is compared.
 */
class AddressSpaceTest {

    @Test
    void aNewMappingIsSeenAndGoneOnceUnmapped() {
        long page = Mseal.pageSize();
        AddressSpace before = AddressSpace.now();
        MappedRegion region = MappedRegion.allocate(3 * page);
        long from = region.address();
        long to = from + 3 * page;
        String seen = AddressSpace.now().newSince(before);
        assertTrue(seen.contains(Long.toHexString(from)), "the new region is reported: " + seen);
        assertEquals(String.format(Locale.ROOT, "%x-%x", from, to), AddressSpace.now().newSince(before, from, to));
        AddressSpace allocated = AddressSpace.now();
        region.protect(page, page, Protection.READ); // three mappings now, the same range
        assertEquals("none", AddressSpace.now().newSince(allocated, from, to), "a split is not new address space");
        region.close();
        assertEquals("none", AddressSpace.now().newSince(before, from, to), "nothing left once closed (the region"
            + " was at " + Long.toHexString(from) + ")");
    }
}
