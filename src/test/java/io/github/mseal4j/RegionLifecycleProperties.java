package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.Mman;
import io.github.mseal4j.testing.Kernel;
import io.github.mseal4j.testing.Layout;
import io.github.mseal4j.testing.ProcMem;
import io.github.mseal4j.testing.RequiresMseal;
import io.github.mseal4j.testing.SealBudget;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.AfterTry;
import net.jqwik.api.state.Action;
import net.jqwik.api.state.ActionChain;
import net.jqwik.api.state.Transformer;
import net.jqwik.api.statistics.Statistics;

/**
 * The life of a region as a state machine: allocate, write, protect, seal part of it, attack the sealed
 * part with raw system calls, seal it read-only, close. A small model predicts every step, and after each
 * one the model is compared with the kernel (smaps, and contents read through /proc/self/mem) and with the
 * segments handed out (valid ones work, revoked ones throw instead of crashing).
 */
@AddLifecycleHook(RequiresMseal.class)
class RegionLifecycleProperties {
    private static final long PAGE = Mseal.pageSize();
    private static final List<Model> RUNNING = new CopyOnWriteArrayList<>();

    /** A segment handed out by the region, the page it starts at, and whether it must still work. */
    static final class HandedOut {
        final MemorySegment segment;
        final int page;
        boolean valid = true;

        HandedOut(MemorySegment segment, int page) {
            this.segment = segment;
            this.page = page;
        }
    }

    /** The region under test and what it should look like. */
    static final class Model {
        final MappedRegion region;
        final int pages;
        final Protection[] protection;
        final boolean[] sealed;
        final byte[] content;
        final List<HandedOut> handedOut = new ArrayList<>();
        MemorySegment readOnlyView;
        boolean closed;

        Model(int pages) {
            this.region = MappedRegion.allocate(pages * PAGE);
            this.pages = pages;
            this.protection = new Protection[pages];
            this.sealed = new boolean[pages];
            this.content = new byte[pages];
            Arrays.fill(protection, Protection.READ_WRITE);
            RUNNING.add(this);
        }

        boolean anySealed(int from, int to) {
            for (int i = from; i < to; i++) {
                if (sealed[i]) {
                    return true;
                }
            }
            return false;
        }

        boolean allSealed(int from, int to) {
            for (int i = from; i < to; i++) {
                if (!sealed[i]) {
                    return false;
                }
            }
            return true;
        }

        void revokeAll() {
            handedOut.forEach(handed -> handed.valid = false);
        }

        @Override
        public String toString() {
            StringBuilder text = new StringBuilder(closed ? "closed " : "").append(pages).append(" pages:");
            for (int i = 0; i < pages; i++) {
                text.append(' ').append(protection[i]).append(sealed[i] ? "+sealed" : "");
            }
            return text.toString();
        }
    }

    record Range(int from, int to) {
        long offset() {
            return from * PAGE;
        }

        long length() {
            return (to - from) * PAGE;
        }
    }

    @Property(tries = 60)
    void everyStepMatchesTheModel(@ForAll("lifecycles") ActionChain<Model> chain) {
        chain.withInvariant("kernel, contents and segments agree with the model", RegionLifecycleProperties::check).run();
        Statistics.label("steps").collect(chain.transformations().size() < 5 ? "1-4" : "5+");
        Statistics.label("ended closed").collect(chain.finalState().map(model -> model.closed).orElse(false));
        for (String step : chain.transformations()) {
            Statistics.label("step").collect(step.split(" ")[0]);
        }
        Statistics.label("step").coverage(check -> {
            for (String kind : List.of("write", "protect", "seal", "sealReadOnly", "attack", "close")) {
                check.check(kind).count(count -> count > 0);
            }
        });
    }

    @Provide
    Arbitrary<ActionChain<Model>> lifecycles() {
        return Arbitraries.integers().between(1, 6).flatMap(pages -> ActionChain.<Model>startWith(() -> new Model(pages))
            .withAction(3, write())
            .withAction(3, protect())
            .withAction(2, seal())
            .withAction(1, sealReadOnly())
            .withAction(3, attack())
            .withAction(1, close())
            .withAction(1, Action.<Model>when(model -> model.closed).just(Transformer.endOfChain()))
            .withMaxTransformations(15));
    }

    @AfterTry
    void closeWhatTheTryOpened() {
        RUNNING.forEach(model -> model.region.close());
        RUNNING.clear();
    }

    @AfterContainer
    static void stayWithinTheSealBudget() {
        SealBudget.check(RegionLifecycleProperties.class.getSimpleName());
    }

    // ---- actions ----

    private static Arbitrary<Range> ranges(Model model) {
        return Arbitraries.integers().between(0, model.pages - 1).flatMap(from ->
            Arbitraries.integers().between(from + 1, model.pages).map(to -> new Range(from, to)));
    }

    private static Action.Dependent<Model> write() {
        return new Action.Dependent<>() {
            @Override
            public boolean precondition(Model model) {
                return !model.closed && Arrays.asList(model.protection).contains(Protection.READ_WRITE);
            }

            @Override
            public Arbitrary<Transformer<Model>> transformer(Model model) {
                List<Integer> writable = new ArrayList<>();
                for (int i = 0; i < model.pages; i++) {
                    if (model.protection[i] == Protection.READ_WRITE) {
                        writable.add(i);
                    }
                }
                return Combinators.combine(Arbitraries.of(writable), Arbitraries.bytes())
                    .as((page, value) -> Transformer.mutate("write " + value + " to page " + page, m -> {
                        MemorySegment segment = m.region.segment(page * PAGE, PAGE);
                        segment.fill(value);
                        m.content[page] = value;
                        m.handedOut.add(new HandedOut(segment, page));
                    }));
            }
        };
    }

    private static Action.Dependent<Model> protect() {
        return whileOpen(model -> Combinators.combine(ranges(model), Arbitraries.of(Protection.values()))
            .as((range, protection) -> Transformer.mutate("protect " + range + " " + protection, m -> {
                if (m.anySealed(range.from(), range.to())) {
                    assertThrows(IllegalStateException.class,
                        () -> m.region.protect(range.offset(), range.length(), protection));
                    return;
                }
                boolean losesAccess = false;
                for (int i = range.from(); i < range.to(); i++) {
                    losesAccess |= m.protection[i].compareTo(protection) > 0;
                }
                m.region.protect(range.offset(), range.length(), protection);
                if (losesAccess) {
                    m.revokeAll();
                }
                Arrays.fill(m.protection, range.from(), range.to(), protection);
            })));
    }

    private static Action.Dependent<Model> seal() {
        return whileOpen(model -> ranges(model).map(range -> Transformer.mutate("seal " + range, m -> {
            m.region.seal(range.offset(), range.length());
            Arrays.fill(m.sealed, range.from(), range.to(), true);
        })));
    }

    /** An action possible while the region is open, whose choices depend on the model. */
    private static Action.Dependent<Model> whileOpen(Function<Model, Arbitrary<Transformer<Model>>> transformers) {
        return new Action.Dependent<>() {
            @Override
            public boolean precondition(Model model) {
                return !model.closed;
            }

            @Override
            public Arbitrary<Transformer<Model>> transformer(Model model) {
                return transformers.apply(model);
            }
        };
    }

    private static Action<Model> sealReadOnly() {
        return Action.<Model>when(model -> !model.closed).describeAs("sealReadOnly").justMutate(m -> {
            boolean conflict = false;
            boolean writable = false;
            for (int i = 0; i < m.pages; i++) {
                conflict |= m.sealed[i] && m.protection[i] != Protection.READ;
                writable |= m.protection[i] == Protection.READ_WRITE;
            }
            if (conflict) {
                assertThrows(IllegalStateException.class, m.region::sealReadOnly);
                return;
            }
            MemorySegment view = m.region.sealReadOnly();
            if (m.readOnlyView != null) {
                assertSame(m.readOnlyView, view, "the same view every time");
            }
            m.readOnlyView = view;
            if (writable) {
                m.revokeAll();
            }
            Arrays.fill(m.protection, Protection.READ);
            Arrays.fill(m.sealed, true);
        });
    }

    /**
     * Raw system calls on a wholly sealed range: each must fail with EPERM and change nothing, except
     * MADV_DONTNEED, which the kernel allows on sealed writable pages: it discards them up to the first
     * read-only one (since 6.12; before, a read-only page anywhere refused the whole call).
     */
    private static Action.Dependent<Model> attack() {
        return new Action.Dependent<>() {
            @Override
            public boolean precondition(Model model) {
                return !model.closed && model.anySealed(0, model.pages);
            }

            @Override
            public Arbitrary<Transformer<Model>> transformer(Model model) {
                List<Range> sealedRanges = new ArrayList<>();
                for (int from = 0; from < model.pages; from++) {
                    for (int to = from + 1; to <= model.pages && model.sealed[to - 1]; to++) {
                        sealedRanges.add(new Range(from, to));
                    }
                }
                return Combinators.combine(Arbitraries.of(sealedRanges), Arbitraries.integers().between(0, 4))
                    .as((range, kind) -> Transformer.mutate("attack " + range + " with " + attackName(kind), m -> {
                        int errno = attack(m.region.address() + range.offset(), range.length(), kind);
                        if (kind != 4) {
                            assertEquals("EPERM", Errno.name(errno), attackName(kind) + " on sealed " + range);
                            return;
                        }
                        int firstReadOnly = range.from();
                        while (firstReadOnly < range.to() && m.protection[firstReadOnly] == Protection.READ_WRITE) {
                            firstReadOnly++;
                        }
                        boolean refused = firstReadOnly < range.to();
                        assertEquals(refused ? "EPERM" : "0", refused ? Errno.name(errno) : Integer.toString(errno),
                            "MADV_DONTNEED on sealed " + range);
                        if (!refused || Kernel.era() != Kernel.Era.PRE_CHECK) {
                            Arrays.fill(m.content, range.from(), firstReadOnly, (byte) 0);
                        }
                    }));
            }
        };
    }

    private static String attackName(int kind) {
        return switch (kind) {
            case 0 -> "mprotect(PROT_READ|PROT_WRITE)";
            case 1 -> "mprotect(PROT_NONE)";
            case 2 -> "munmap";
            case 3 -> "mmap(MAP_FIXED)";
            default -> "madvise(MADV_DONTNEED)";
        };
    }

    private static int attack(long address, long length, int kind) {
        return switch (kind) {
            case 0 -> LibC.mprotect(address, length, Mman.PROT_READ | Mman.PROT_WRITE);
            case 1 -> LibC.mprotect(address, length, Mman.PROT_NONE);
            case 2 -> LibC.munmap(address, length);
            case 3 -> {
                long result = LibC.mmap(address, length, Mman.PROT_READ | Mman.PROT_WRITE,
                    Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED, -1, 0);
                yield LibC.failed(result) ? (int) -result : 0;
            }
            default -> LibC.madvise(address, length, Mman.MADV_DONTNEED);
        };
    }

    private static Action<Model> close() {
        return Action.<Model>when(model -> !model.closed).describeAs("close").justMutate(m -> {
            m.region.close();
            m.closed = true;
            m.revokeAll();
        });
    }

    // ---- the invariant ----

    private static void check(Model model) {
        Layout layout = Layout.read(model.region.address(), model.pages, PAGE);
        for (int page = 0; page < model.pages; page++) {
            Layout.PageState state = layout.page(page);
            boolean mapped = !model.closed || model.sealed[page];
            assertEquals(mapped, state.mapped(), "page " + page + " mapped, " + model);
            if (!mapped) {
                continue;
            }
            assertEquals(model.protection[page], state.protection(), "page " + page + ", " + model);
            assertEquals(model.sealed[page], state.sealed(), "page " + page + " sealed, " + model);
            byte[] bytes = ProcMem.read(layout.address(page), (int) PAGE).orElseThrow();
            for (byte b : bytes) {
                assertEquals(model.content[page], b, "contents of page " + page + ", " + model);
            }
        }
        for (HandedOut handed : model.handedOut) {
            if (handed.valid) {
                assertEquals(model.content[handed.page], handed.segment.get(ValueLayout.JAVA_BYTE, 0),
                    "a valid segment of page " + handed.page);
            } else {
                assertThrows(IllegalStateException.class, () -> handed.segment.get(ValueLayout.JAVA_BYTE, 0),
                    "a revoked segment of page " + handed.page + " throws instead of crashing");
            }
        }
        if (model.readOnlyView != null) {
            for (int page = 0; page < model.pages; page++) {
                assertEquals(model.content[page], model.readOnlyView.get(ValueLayout.JAVA_BYTE, page * PAGE));
            }
            assertTrue(model.readOnlyView.isReadOnly());
        }
        boolean whollySealed = model.allSealed(0, model.pages);
        assertEquals(whollySealed, model.region.isSealed(), "isSealed(), " + model);
        if (model.closed) {
            assertThrows(IllegalStateException.class, model.region::segment);
        }
    }
}
