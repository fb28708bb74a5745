package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mseal4j.internal.Smaps;
import io.github.mseal4j.testing.RequiresMseal;
import io.github.mseal4j.testing.SealBudget;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.statistics.Statistics;

/**
 * For any sequence of allocations, the arena hands out aligned, disjoint memory inside its own mappings,
 * keeps every byte through {@code seal()}, and leaves all of it sealed and read-only.
 */
@AddLifecycleHook(RequiresMseal.class)
class SealedArenaProperties {
    private static final long PAGE = Mseal.pageSize();
    /** Two pages, so that allocations of up to three pages also take the own-region path. */
    private static final long CHUNK = 2 * PAGE;

    record Request(long size, long alignment) {
    }

    @Property(tries = 40)
    void allocationsAreAlignedDisjointAndSurviveSealing(@ForAll("requests") List<Request> requests) {
        record Allocation(int number, MemorySegment segment) {
        }
        List<Allocation> allocations = new ArrayList<>();
        try (SealedArena arena = SealedArena.create(CHUNK)) {
            for (Request request : requests) {
                MemorySegment segment = arena.allocate(request.size(), request.alignment());
                assertEquals(request.size(), segment.byteSize());
                assertEquals(0, segment.address() % request.alignment(), "aligned to " + request.alignment());
                assertTrue(segment.elements(ValueLayout.JAVA_BYTE).allMatch(b -> b.get(ValueLayout.JAVA_BYTE, 0) == 0),
                    "zeroed");
                segment.fill(pattern(allocations.size()));
                allocations.add(new Allocation(allocations.size(), segment));
                Statistics.label("size").collect(request.size() == 0 ? "empty" : request.size() > CHUNK ? "own region"
                    : request.size() < PAGE ? "under a page" : "a page or more");
                Statistics.label("alignment").collect(request.alignment() > 64 ? "over 64" : "up to 64");
            }
            List<Allocation> byAddress = new ArrayList<>(allocations);
            byAddress.removeIf(a -> a.segment().byteSize() == 0);
            byAddress.sort(Comparator.comparingLong(a -> a.segment().address()));
            for (int i = 1; i < byAddress.size(); i++) {
                MemorySegment before = byAddress.get(i - 1).segment();
                assertTrue(before.address() + before.byteSize() <= byAddress.get(i).segment().address(), "disjoint");
            }

            arena.seal();
            assertTrue(arena.isSealed());
            for (Allocation allocation : allocations) {
                MemorySegment building = allocation.segment();
                assertFalse(building.scope().isAlive(), "what was handed out while building is invalid now");
                if (building.byteSize() > 0) {
                    assertThrows(IllegalStateException.class, () -> building.get(ValueLayout.JAVA_BYTE, 0));
                }
                MemorySegment sealed = arena.sealedView(building);
                assertTrue(sealed.isReadOnly());
                assertEquals(building.address(), sealed.address());
                assertEquals(building.byteSize(), sealed.byteSize());
                byte expected = pattern(allocation.number());
                assertTrue(sealed.elements(ValueLayout.JAVA_BYTE).allMatch(b -> b.get(ValueLayout.JAVA_BYTE, 0) == expected),
                    "contents kept through seal()");
                if (sealed.byteSize() > 0) {
                    List<Smaps.Vma> vmas = Smaps.read(sealed.address(), sealed.address() + sealed.byteSize());
                    assertTrue(Smaps.coveredAndSealed(vmas, sealed.address(), sealed.address() + sealed.byteSize()));
                    assertTrue(vmas.stream().allMatch(vma -> vma.protection() == Protection.READ), "read-only: " + vmas);
                }
            }
        }
        Statistics.label("size").coverage(check -> {
            check.check("empty").count(count -> count > 0);
            check.check("own region").count(count -> count > 0);
            check.check("under a page").count(count -> count > 0);
        });
    }

    @Provide
    Arbitrary<List<Request>> requests() {
        Arbitrary<Long> sizes = Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(1, Arbitraries.just(0L)),
            net.jqwik.api.Tuple.of(6, Arbitraries.longs().between(1, 512)),
            net.jqwik.api.Tuple.of(2, Arbitraries.longs().between(513, CHUNK)),
            net.jqwik.api.Tuple.of(1, Arbitraries.longs().between(CHUNK + 1, 3 * PAGE)));
        Arbitrary<Long> alignments = Arbitraries.integers().between(0, 12).map(shift -> 1L << shift);
        return Combinators.combine(sizes, alignments).as(Request::new).list().ofMinSize(1).ofMaxSize(12);
    }

    @AfterContainer
    static void stayWithinTheSealBudget() {
        SealBudget.check(SealedArenaProperties.class.getSimpleName());
    }

    private static byte pattern(int number) {
        return (byte) (0x11 + number * 7);
    }
}
