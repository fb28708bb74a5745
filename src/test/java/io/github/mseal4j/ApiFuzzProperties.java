package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.Mman;
import io.github.mseal4j.testing.Layout;
import io.github.mseal4j.testing.ProcMem;
import io.github.mseal4j.testing.RequiresMseal;
import io.github.mseal4j.testing.SealBudget;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
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
 * Throws arbitrary numbers (negative, huge, overflowing, unaligned) and arbitrary segments (heap, other arenas,
 * closed, slices, NULL) at every entry point. Each call must either succeed, with the effect it promises, or
 * throw one of the documented exceptions; none may crash the JVM, and none may touch memory outside the
 * library's own: a page on each side of the region, owned by the test, is checked unchanged afterwards.
 * At least 10,000 calls per run.
 */
@AddLifecycleHook(RequiresMseal.class)
class ApiFuzzProperties {
    private static final long PAGE = Mseal.pageSize();
    private static final int PAGES = 4;
    private static final AtomicLong CALLS = new AtomicLong();
    private static final Set<Class<? extends RuntimeException>> DOCUMENTED = Set.of(IllegalArgumentException.class,
        IndexOutOfBoundsException.class, IllegalStateException.class, UnsupportedOperationException.class,
        NullPointerException.class, SystemCallException.class);
    private static final byte SENTINEL = (byte) 0x5a;

    /** Where a segment argument comes from. */
    enum Source { HEAP, OTHER_ARENA, CLOSED_ARENA, BUILDING_SLICE, NULL_SEGMENT, SEALED_VIEW, NULL }

    sealed interface Call permits Protect, Seal, Slice, Allocate, ArenaAllocate, ArenaSeal, SealedView, MapPut {
    }

    record Protect(long offset, long length, Protection protection) implements Call {
    }

    record Seal(long offset, long length) implements Call {
    }

    record Slice(long offset, long length) implements Call {
    }

    record Allocate(long size) implements Call {
    }

    record ArenaAllocate(long size, long alignment) implements Call {
    }

    record ArenaSeal() implements Call {
    }

    record SealedView(Source source) implements Call {
    }

    record MapPut(Source key, Source value) implements Call {
    }

    /** The objects one try works on. */
    static final class World implements AutoCloseable {
        final MappedRegion region = MappedRegion.allocate(PAGES * PAGE);
        final SealedArena arena = SealedArena.create(PAGE);
        final SealedMap.Builder builder = SealedMap.builder();
        final Arena other = Arena.ofConfined();
        final MemorySegment closed;
        final List<MemorySegment> building = new ArrayList<>();
        final MemorySegment sealedElsewhere;

        World() {
            Arena gone = Arena.ofConfined();
            closed = gone.allocate(16);
            gone.close();
            sealedElsewhere = MappedRegion.allocate(PAGE).sealReadOnly();
        }

        MemorySegment segment(Source source) {
            return switch (source) {
                case HEAP -> MemorySegment.ofArray(new byte[] {1, 2, 3});
                case OTHER_ARENA -> other.allocate(8);
                case CLOSED_ARENA -> closed;
                case BUILDING_SLICE -> building.isEmpty() ? MemorySegment.NULL
                    : building.getLast().asSlice(0, Math.min(2, building.getLast().byteSize()));
                case NULL_SEGMENT -> MemorySegment.NULL;
                case SEALED_VIEW -> sealedElsewhere;
                case NULL -> null;
            };
        }

        @Override
        public void close() {
            region.close();
            arena.close();
            other.close();
        }
    }

    @Property(tries = 200)
    void everyCallSucceedsCorrectlyOrThrowsADocumentedException(@ForAll("calls") List<Call> calls) {
        try (World world = new World()) {
            long start = world.region.address();
            long[] sentinels = {mapSentinel(start - PAGE), mapSentinel(start + PAGES * PAGE)};
            try {
                for (Call call : calls) {
                    CALLS.incrementAndGet();
                    String outcome;
                    try {
                        apply(world, call);
                        outcome = "succeeded";
                    } catch (RuntimeException e) {
                        if (!DOCUMENTED.contains(e.getClass())) {
                            fail(call + " threw an undocumented " + e, e);
                        }
                        outcome = e.getClass().getSimpleName();
                    }
                    Statistics.label("outcome").collect(call.getClass().getSimpleName(), outcome);
                }
                for (long sentinel : sentinels) {
                    if (sentinel != 0) {
                        byte[] expected = new byte[(int) PAGE];
                        Arrays.fill(expected, SENTINEL);
                        assertArrayEquals(expected, ProcMem.read(sentinel, (int) PAGE).orElseThrow(),
                            "the neighbouring page is untouched");
                        Layout.PageState state = Layout.read(sentinel, 1, PAGE).page(0);
                        assertTrue(state.mapped() && state.protection() == Protection.READ_WRITE && !state.sealed(),
                            "the neighbouring page keeps its protection and is not sealed: " + state);
                    }
                }
                Statistics.label("neighbours checked").collect(Arrays.stream(sentinels).filter(s -> s != 0).count());
            } finally {
                for (long sentinel : sentinels) {
                    if (sentinel != 0) {
                        LibC.munmap(sentinel, PAGE);
                    }
                }
            }
        }
        Statistics.label("outcome").coverage(check -> {
            check.check("Protect", "succeeded").count(count -> count > 0);
            check.check("Seal", "succeeded").count(count -> count > 0);
            check.check("Slice", "succeeded").count(count -> count > 0);
            check.check("Protect", "IndexOutOfBoundsException").count(count -> count > 0);
            check.check("Seal", "IllegalArgumentException").count(count -> count > 0);
            check.check("MapPut", "NullPointerException").count(count -> count > 0);
        });
    }

    /** Makes {@code call}; where it succeeds, checks it did what it promises. */
    private static void apply(World world, Call call) {
        MappedRegion region = world.region;
        switch (call) {
            case Protect p -> {
                region.protect(p.offset(), p.length(), p.protection());
                Layout layout = Layout.read(region.address() + p.offset(), (int) (p.length() / PAGE), PAGE);
                for (int page = 0; page < layout.pages(); page++) {
                    assertEquals(p.protection(), layout.page(page).protection(), call.toString());
                }
            }
            case Seal s -> {
                region.seal(s.offset(), s.length());
                Layout layout = Layout.read(region.address() + s.offset(), (int) (s.length() / PAGE), PAGE);
                for (int page = 0; page < layout.pages(); page++) {
                    assertTrue(layout.page(page).sealed(), call.toString());
                }
            }
            case Slice s -> {
                MemorySegment segment = region.segment(s.offset(), s.length());
                assertEquals(s.length(), segment.byteSize());
                assertEquals(region.address() + s.offset(), segment.address());
            }
            case Allocate a -> {
                try (MappedRegion fresh = MappedRegion.allocate(a.size())) {
                    assertEquals(a.size(), fresh.byteSize(), call.toString());
                    assertEquals(a.size(), fresh.segment().byteSize(), call.toString());
                    assertTrue(fresh.mappedSize() >= a.size() && fresh.mappedSize() % PAGE == 0, call.toString());
                }
            }
            case ArenaAllocate a -> {
                MemorySegment segment = world.arena.allocate(a.size(), a.alignment());
                assertEquals(a.size(), segment.byteSize());
                assertEquals(0, segment.address() % a.alignment());
                world.building.add(segment);
            }
            case ArenaSeal ignored -> world.arena.seal();
            case SealedView v -> {
                MemorySegment view = world.arena.sealedView(world.segment(v.source()));
                assertTrue(view.isReadOnly(), call.toString());
            }
            case MapPut m -> world.builder.put(world.segment(m.key()), world.segment(m.value()));
        }
    }

    /** A read-write page of the test's own at {@code address}, filled with the sentinel; 0 if that is taken. */
    private static long mapSentinel(long address) {
        long result = LibC.mmap(address, PAGE, Mman.PROT_READ | Mman.PROT_WRITE,
            Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED_NOREPLACE, -1, 0);
        if (LibC.failed(result)) {
            return 0;
        }
        byte[] fill = new byte[(int) PAGE];
        Arrays.fill(fill, SENTINEL);
        ProcMem.write(result, fill);
        return result;
    }

    @Provide
    Arbitrary<List<Call>> calls() {
        Arbitrary<Long> numbers = Arbitraries.oneOf(
            Arbitraries.longs(),
            Arbitraries.integers().between(-2, PAGES + 2).map(n -> n * PAGE),
            // Valid page ranges, so that protect and seal succeed often enough for the coverage check below.
            Arbitraries.integers().between(0, PAGES).map(n -> n * PAGE),
            Arbitraries.integers().between(-2, PAGES + 2).map(n -> n * PAGE + 1),
            Arbitraries.integers().between(0, 2 * (int) PAGE).map(Integer::longValue),
            Arbitraries.of(Long.MAX_VALUE, Long.MIN_VALUE, Long.MAX_VALUE - PAGE + 1, -PAGE, 1L << 46));
        Arbitrary<Long> alignments = Arbitraries.oneOf(Arbitraries.longs(),
            Arbitraries.integers().between(0, 16).map(shift -> 1L << shift));
        Arbitrary<Source> sources = Arbitraries.of(Source.values());
        Arbitrary<Call> call = Arbitraries.oneOf(
            Combinators.combine(numbers, numbers, Arbitraries.of(Protection.values())).as(Protect::new),
            Combinators.combine(numbers, numbers).as(Seal::new),
            Combinators.combine(numbers, numbers).as(Slice::new),
            numbers.map(Allocate::new),
            // Sizes an arena could really map are kept under 64 pages: sealed, they would stay mapped for good.
            // (An immutable arena maps even 2^46 bytes: a memfd costs nothing until written.)
            Combinators.combine(numbers.map(n -> n > 64 * PAGE ? n % (64 * PAGE) : n), alignments)
                .as(ArenaAllocate::new),
            Arbitraries.just(new ArenaSeal()),
            sources.map(SealedView::new),
            Combinators.combine(sources, sources).as(MapPut::new));
        return call.list().ofMinSize(60).ofMaxSize(120);
    }

    @AfterContainer
    static void madeEnoughCallsAndStayedWithinTheSealBudget() {
        System.out.println("API fuzzing made " + CALLS.get() + " calls");
        assertTrue(CALLS.get() >= 10_000, "at least 10,000 generated calls per run: " + CALLS.get());
        SealBudget.check(ApiFuzzProperties.class.getSimpleName());
    }
}
