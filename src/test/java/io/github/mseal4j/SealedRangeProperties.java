package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.Mman;
import io.github.mseal4j.testing.Expected;
import io.github.mseal4j.testing.Kernel;
import io.github.mseal4j.testing.Kernel.Era;
import io.github.mseal4j.testing.KernelRules;
import io.github.mseal4j.testing.KernelRules.Advice;
import io.github.mseal4j.testing.Layout;
import io.github.mseal4j.testing.ProcMem;
import io.github.mseal4j.testing.RequiresMseal;
import io.github.mseal4j.testing.SealBudget;
import io.github.mseal4j.internal.Smaps;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.statistics.StatisticsCoverage;

/**
 * Proves, against the running kernel, that memory sealed by {@link MappedRegion#seal(long, long)} refuses
 * every way of changing it, and that everything unsealed keeps working. Each try allocates a region of 1 to 64
 * pages, writes a pattern, protects it, seals a generated sub-range, then makes one raw system call (the
 * attack) over a generated range. {@link KernelRules} predicts, from the layout smaps reports before the
 * call, what the call must return and what every page must look like afterwards; the try checks both, and the
 * contents, through {@code /proc/self/mem} so that no wrong guess can crash the JVM.
 *
 * <p>Each try leaves its sealed pages mapped for good (sealed memory is never freed); the rest is unmapped.
 * {@link SealBudget} keeps the total small.
 */
@AddLifecycleHook(RequiresMseal.class)
class SealedRangeProperties {
    /**
     * Tries per property. Edge cases are not mixed in: jqwik's edge cases of these nested generators are
     * nearly all one-page regions and would crowd out the rest; the generators below weight the edges
     * (tiny regions, whole-region and first- or last-page ranges) themselves.
     */
    private static final int TRIES = 100;
    private static final long PAGE = Mseal.pageSize();
    private static final Era ERA = Kernel.era();

    /** Pages {@code [from, to)} of a region. */
    record Pages(int from, int to) {
        int count() {
            return to - from;
        }
    }

    /**
     * One try's setup: a region of {@code pages} pages, all {@code protection} except the sealed range, which
     * is {@code sealedProtection}; the attack covers {@code target}.
     */
    record Scenario(int pages, Protection protection, Pages sealed, Protection sealedProtection, Pages target) {
        @Override
        public String toString() {
            return pages + " pages " + protection + ", sealed [" + sealed.from + ", " + sealed.to + ") "
                + sealedProtection + ", attack on [" + target.from + ", " + target.to + ")";
        }
    }

    // ---- the properties ----

    @Property(tries = TRIES, edgeCases = EdgeCasesMode.NONE)
    void mprotectFailsWithEpermExactlyOnSealedPages(@ForAll("scenarios") Scenario scenario,
                                                     @ForAll Protection protection) {
        Statistics.label("protection").collect(protection == scenario.sealedProtection()
            ? "same as the sealed pages' (a no-op)" : "different");
        attack(scenario, "mprotect(" + protection + ")",
            (region, layout) -> new Attempt(LibC.mprotect(layout.address(scenario.target().from()),
                scenario.target().count() * PAGE, Mman.prot(protection))),
            layout -> KernelRules.mprotect(ERA, layout, scenario.target().from(), scenario.target().to(), protection));
        Statistics.label("protection").coverage(check -> check.check("same as the sealed pages' (a no-op)")
            .count(count -> count > 0));
    }

    @Property(tries = TRIES, edgeCases = EdgeCasesMode.NONE)
    void munmapFailsWithEpermAndUnmapsNothingWhenAnyPageIsSealed(@ForAll("scenarios") Scenario scenario) {
        attack(scenario, "munmap",
            (region, layout) -> new Attempt(LibC.munmap(layout.address(scenario.target().from()),
                scenario.target().count() * PAGE)),
            layout -> KernelRules.munmap(layout, scenario.target().from(), scenario.target().to()));
    }

    @Property(tries = TRIES, edgeCases = EdgeCasesMode.NONE)
    void mmapFixedCannotMapOverSealedPages(@ForAll("scenarios") Scenario scenario) {
        attack(scenario, "mmap(MAP_FIXED)",
            (region, layout) -> new Attempt(errnoOf(LibC.mmap(layout.address(scenario.target().from()),
                scenario.target().count() * PAGE, Mman.PROT_READ | Mman.PROT_WRITE,
                Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED, -1, 0))),
            layout -> KernelRules.mmapFixed(layout, scenario.target().from(), scenario.target().to()));
    }

    /**
     * More tries than the others: its coverage check needs 8 of 12 equally likely (advice, protection) cells,
     * which a hundred tries miss about once in 700 runs; 250 miss them less than once in 10^8.
     */
    @Property(tries = 250, edgeCases = EdgeCasesMode.NONE)
    void discardingMadviseFailsOnSealedReadOnlyPagesOnly(@ForAll("scenarios") Scenario scenario,
                                                         @ForAll Advice advice) {
        Statistics.label("advice on sealed pages").collect(advice, scenario.sealedProtection());
        attack(scenario, "madvise(MADV_" + advice + ")",
            (region, layout) -> new Attempt(LibC.madvise(layout.address(scenario.target().from()),
                scenario.target().count() * PAGE, advice.value())),
            layout -> KernelRules.madvise(ERA, layout, scenario.target().from(), scenario.target().to(), advice));
        Statistics.label("advice on sealed pages").coverage(check -> {
            for (Advice each : Advice.values()) {
                check.check(each, Protection.READ).count(count -> count > 0);
                check.check(each, Protection.READ_WRITE).count(count -> count > 0);
            }
        });
    }

    @Property(tries = TRIES, edgeCases = EdgeCasesMode.NONE)
    void mremapShrinkFailsOnASealedMappingOrTail(@ForAll("scenariosOfTwoPagesOrMore") Scenario scenario,
                                                 @ForAll("fractions") double fraction) {
        Pages target = scenario.target();
        int shrinkBy = 1 + (int) Math.min(target.count() - 2, fraction * (target.count() - 1));
        attack(scenario, "mremap(shrink by " + shrinkBy + ")",
            (region, layout) -> new Attempt(errnoOf(LibC.mremap(layout.address(target.from()),
                target.count() * PAGE, (target.count() - shrinkBy) * PAGE, 0, 0))),
            layout -> KernelRules.mremapShrink(ERA, layout, target.from(), target.to(), shrinkBy));
    }

    @Property(tries = TRIES, edgeCases = EdgeCasesMode.NONE)
    void mremapGrowFailsOnASealedMapping(@ForAll("scenarios") Scenario scenario,
                                         @ForAll("growth") int growBy) {
        Pages target = scenario.target();
        attack(scenario, "mremap(grow by " + growBy + ", MREMAP_MAYMOVE)",
            (region, layout) -> {
                long result = LibC.mremap(layout.address(target.from()), target.count() * PAGE,
                    (target.count() + growBy) * PAGE, Mman.MREMAP_MAYMOVE, 0);
                if (LibC.failed(result)) {
                    return new Attempt((int) -result);
                }
                if (result == layout.address(target.from())) {
                    // Grown in place: the new pages past the region are the test's to unmap.
                    long regionEnd = layout.address(layout.pages());
                    long grownEnd = result + (target.count() + growBy) * PAGE;
                    return new Attempt(0, Optional.empty(), () -> {
                        if (grownEnd > regionEnd) {
                            LibC.munmap(regionEnd, grownEnd - regionEnd);
                        }
                    });
                }
                return new Attempt(0, Optional.of(result), () -> LibC.munmap(result, (target.count() + growBy) * PAGE));
            },
            layout -> KernelRules.mremapGrow(ERA, layout, target.from(), target.to(),
                isFree(layout.start() + layout.vmaEndPage(target.from()) * PAGE, growBy * PAGE)));
    }

    @Property(tries = TRIES, edgeCases = EdgeCasesMode.NONE)
    void mremapMoveFailsAtTheFirstSealedMapping(@ForAll("scenarios") Scenario scenario) {
        Pages target = scenario.target();
        attack(scenario, "mremap(MREMAP_MAYMOVE|MREMAP_FIXED) away",
            (region, layout) -> {
                long destination = reserve(target.count());
                long result = LibC.mremap(layout.address(target.from()), target.count() * PAGE, target.count() * PAGE,
                    Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED, destination);
                return new Attempt(errnoOf(result), Optional.of(destination),
                    () -> LibC.munmap(destination, target.count() * PAGE));
            },
            layout -> KernelRules.mremapMove(ERA, layout, target.from(), target.to()));
    }

    @Property(tries = TRIES, edgeCases = EdgeCasesMode.NONE)
    void mremapFixedOntoASealedDestinationFails(@ForAll("scenarios") Scenario scenario) {
        Pages target = scenario.target();
        attack(scenario, "mremap(MREMAP_MAYMOVE|MREMAP_FIXED) onto it",
            (region, layout) -> {
                long source = reserve(target.count());
                assertEquals(0, LibC.mprotect(source, target.count() * PAGE, Mman.PROT_READ | Mman.PROT_WRITE));
                for (int i = 0; i < target.count(); i++) {
                    ProcMem.write(source + i * PAGE, filled(scratchByte(target.from() + i)));
                }
                long result = LibC.mremap(source, target.count() * PAGE, target.count() * PAGE,
                    Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED, layout.address(target.from()));
                return LibC.failed(result)
                    ? new Attempt((int) -result, Optional.empty(), () -> LibC.munmap(source, target.count() * PAGE))
                    : new Attempt(0);
            },
            layout -> KernelRules.mremapOnto(layout, target.from(), target.to()));
    }

    @Property(tries = TRIES, edgeCases = EdgeCasesMode.NONE)
    void mremapDontUnmapFailsOnASealedMapping(@ForAll("scenarios") Scenario scenario) {
        Pages target = scenario.target();
        attack(scenario, "mremap(MREMAP_MAYMOVE|MREMAP_DONTUNMAP)",
            (region, layout) -> {
                long result = LibC.mremap(layout.address(target.from()), target.count() * PAGE, target.count() * PAGE,
                    Mman.MREMAP_MAYMOVE | Mman.MREMAP_DONTUNMAP, 0);
                return LibC.failed(result) ? new Attempt((int) -result)
                    : new Attempt(0, Optional.of(result), () -> LibC.munmap(result, target.count() * PAGE));
            },
            layout -> KernelRules.mremapDontUnmap(ERA, layout, target.from(), target.to()));
    }

    @AfterContainer
    static void stayWithinTheSealBudget() {
        SealBudget.check(SealedRangeProperties.class.getSimpleName());
    }

    // ---- generators ----

    @Provide
    Arbitrary<Scenario> scenarios() {
        return scenarios(1);
    }

    @Provide
    Arbitrary<Scenario> scenariosOfTwoPagesOrMore() {
        return scenarios(2);
    }

    @Provide
    Arbitrary<Double> fractions() {
        return Arbitraries.doubles().between(0, 1);
    }

    @Provide
    Arbitrary<Integer> growth() {
        return Arbitraries.integers().between(1, 8);
    }

    /**
     * Regions of 1 to 64 pages, mostly a few to a few dozen. The sealed range is short (1 to 4 pages, or now
     * and then the whole region) because every sealed page stays mapped until the JVM exits; the attack
     * range is anywhere.
     */
    @SuppressWarnings("unchecked")
    private static Arbitrary<Scenario> scenarios(int minimumTargetPages) {
        int smallest = Math.max(1, minimumTargetPages);
        // One region in six has 1 to 3 pages, four in six 4 to 24, one in six 25 to 64.
        Arbitrary<Integer> sizes = Arbitraries.integers().between(0, 5).withDistribution(RandomDistribution.uniform())
            .flatMap(bucket -> switch (bucket) {
                case 0 -> Arbitraries.integers().between(smallest, 3);
                case 5 -> Arbitraries.integers().between(25, 64).withDistribution(RandomDistribution.uniform());
                default -> Arbitraries.integers().between(4, 24).withDistribution(RandomDistribution.uniform());
            });
        return sizes.flatMap(pages -> sealedRanges(pages).flatMap(sealed -> Combinators.combine(
            Arbitraries.of(Protection.values()),
            Arbitraries.of(Protection.values()),
            targets(pages, sealed, minimumTargetPages))
            .as((protection, sealedProtection, target) ->
                new Scenario(pages, protection, sealed, sealedProtection, target))));
    }

    /**
     * Attack ranges: anywhere, and one in five straddling an edge of the sealed range where one can (by chance
     * alone a straddle comes up about once in twelve tries, and a hundred tries would miss it about once in
     * five thousand runs, failing the coverage check; now about once in a million at most).
     */
    @SuppressWarnings("unchecked")
    private static Arbitrary<Pages> targets(int pages, Pages sealed, int minimumTargetPages) {
        Arbitrary<Pages> anywhere = pageRanges(pages, Arbitraries.integers().between(minimumTargetPages, pages)
            .withDistribution(RandomDistribution.uniform()));
        if (sealed.count() < 2 || (sealed.from() == 0 && sealed.to() == pages)) {
            return anywhere; // nothing to straddle: a one-page range is inside or outside, the whole region inside
        }
        // Part of the sealed range (1 to count - 1 pages) and 1 or more pages beside it: at least two pages.
        Arbitrary<Integer> inside = Arbitraries.integers().between(1, sealed.count() - 1);
        List<Arbitrary<Pages>> straddles = new ArrayList<>();
        if (sealed.from() > 0) {
            straddles.add(Combinators.combine(Arbitraries.integers().between(1, sealed.from()), inside)
                .as((before, in) -> new Pages(sealed.from() - before, sealed.from() + in)));
        }
        if (sealed.to() < pages) {
            straddles.add(Combinators.combine(inside, Arbitraries.integers().between(1, pages - sealed.to()))
                .as((in, after) -> new Pages(sealed.to() - in, sealed.to() + after)));
        }
        return Arbitraries.frequencyOf(Tuple.of(4, anywhere), Tuple.of(1, Arbitraries.oneOf(straddles)));
    }

    /** Sealed ranges: one page to four, now and then the whole region. */
    @SuppressWarnings("unchecked")
    private static Arbitrary<Pages> sealedRanges(int pages) {
        Arbitrary<Integer> lengths = Arbitraries.integers().between(1, Math.min(pages, 4))
            .withDistribution(RandomDistribution.uniform());
        return Arbitraries.frequencyOf(
            Tuple.of(1, Arbitraries.just(new Pages(0, pages))),
            Tuple.of(19, pageRanges(pages, lengths)));
    }

    /** Page ranges of the given lengths in a region of {@code pages}; the region's edges come up often. */
    @SuppressWarnings("unchecked")
    private static Arbitrary<Pages> pageRanges(int pages, Arbitrary<Integer> lengths) {
        Arbitrary<Pages> anywhere = lengths.flatMap(length -> Arbitraries.integers().between(0, pages - length)
            .withDistribution(RandomDistribution.uniform()).map(from -> new Pages(from, from + length)));
        return Arbitraries.frequencyOf(
            Tuple.of(1, Arbitraries.just(new Pages(0, pages))),
            Tuple.of(2, lengths.map(length -> new Pages(0, length))),
            Tuple.of(2, lengths.map(length -> new Pages(pages - length, pages))),
            Tuple.of(7, anywhere));
    }

    // ---- one try ----

    /** What the attack returned; where data moved to, if anywhere; what to unmap afterwards. */
    record Attempt(int errno, Optional<Long> destination, Runnable cleanup) {
        Attempt(int errno) {
            this(errno, Optional.empty(), () -> { });
        }
    }

    interface Attack {
        Attempt run(MappedRegion region, Layout before);
    }

    interface Rule {
        Expected predict(Layout before);
    }

    private static void attack(Scenario scenario, String call, Attack attack, Rule rule) {
        collectCoverage(scenario);
        List<Runnable> cleanups = new ArrayList<>();
        MappedRegion region = MappedRegion.allocate(scenario.pages() * PAGE);
        try {
            Layout before = prepare(region, scenario);
            Expected expected = rule.predict(before);
            Attempt attempt = attack.run(region, before);
            Set<Integer> holes = plugHoles(before);
            cleanups.add(attempt.cleanup());
            Statistics.label("outcome").collect(outcome(attempt.errno()));

            String context = call + " on " + scenario + " (" + ERA + ", layout before: " + describe(before) + ")";
            assertEquals(outcome(expected.errno()), outcome(attempt.errno()), context);
            Layout after = Layout.read(region.address(), scenario.pages(), PAGE).withHoles(holes);
            expected.firstDifference(after).ifPresent(difference -> fail(context + ": " + difference));
            checkContents(expected, after, context);
            if (expected.moved()) {
                checkMovedData(scenario, expected, attempt, context);
            }
            checkUnsealedNeighboursStillWork(after, context);
        } finally {
            // The region unmaps its unsealed pages, the plugs among them; its sealed pages stay for good.
            region.close();
            cleanups.forEach(Runnable::run);
        }
    }

    /**
     * Fills every page of the region the attack unmapped with a PROT_NONE placeholder, at once, so that no
     * other thread of the JVM can map something there that {@link MappedRegion#close()} would then unmap.
     * Returns the pages plugged: the holes, to be treated as unmapped.
     */
    private static Set<Integer> plugHoles(Layout layout) {
        Set<Integer> holes = new HashSet<>();
        for (int page = 0; page < layout.pages(); page++) {
            long result = LibC.mmap(layout.address(page), PAGE, Mman.PROT_NONE,
                Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED_NOREPLACE, -1, 0);
            if (!LibC.failed(result)) {
                holes.add(page);
            } else {
                assertEquals(Errno.EEXIST, (int) -result, "MAP_FIXED_NOREPLACE over a mapped page");
            }
        }
        return holes;
    }

    /** Writes the pattern, applies the protections, seals; checks the kernel agrees with all of it. */
    private static Layout prepare(MappedRegion region, Scenario scenario) {
        for (int page = 0; page < scenario.pages(); page++) {
            region.segment().asSlice(page * PAGE, PAGE).fill(originalByte(page));
        }
        region.protect(scenario.protection());
        Pages sealed = scenario.sealed();
        region.protect(sealed.from() * PAGE, sealed.count() * PAGE, scenario.sealedProtection());
        region.seal(sealed.from() * PAGE, sealed.count() * PAGE);

        Layout layout = Layout.read(region.address(), scenario.pages(), PAGE);
        for (int page = 0; page < scenario.pages(); page++) {
            boolean inSealed = page >= sealed.from() && page < sealed.to();
            Layout.PageState state = layout.page(page);
            assertTrue(state.mapped(), "page " + page + " is mapped");
            assertEquals(inSealed, state.sealed(), "page " + page + " sealed as asked, " + scenario);
            assertEquals(inSealed ? scenario.sealedProtection() : scenario.protection(), state.protection(),
                "page " + page + " protection, " + scenario);
        }
        return layout;
    }

    private static void checkContents(Expected expected, Layout after, String context) {
        for (int page = 0; page < after.pages(); page++) {
            Expected.Page want = expected.page(page);
            if (!want.mapped()) {
                continue;
            }
            byte[] bytes = ProcMem.read(after.address(page), (int) PAGE)
                .orElseThrow(() -> new AssertionError(context + ": cannot read a mapped page"));
            byte original = originalByte(page);
            boolean ok = switch (want.content()) {
                case ORIGINAL -> uniform(bytes, original);
                case ZERO -> uniform(bytes, (byte) 0);
                case ORIGINAL_OR_ZERO -> uniform(bytes, original) || uniform(bytes, (byte) 0);
                case SCRATCH -> uniform(bytes, scratchByte(page));
            };
            assertTrue(ok, context + ": page " + page + " should hold " + want.content() + " but starts with "
                + Arrays.toString(Arrays.copyOf(bytes, 4)));
        }
    }

    /** The pages that left the region must have arrived intact at the destination. */
    private static void checkMovedData(Scenario scenario, Expected expected, Attempt attempt, String context) {
        if (attempt.destination().isEmpty()) {
            return;
        }
        long destination = attempt.destination().get();
        Pages target = scenario.target();
        for (int page = target.from(); page < target.to(); page++) {
            Expected.Page want = expected.page(page);
            boolean left = !want.mapped() || want.content() == Expected.Content.ZERO;
            if (left) {
                long address = destination + (page - target.from()) * PAGE;
                Optional<byte[]> bytes = ProcMem.read(address, (int) PAGE);
                assertTrue(bytes.isPresent() && uniform(bytes.get(), originalByte(page)),
                    context + ": page " + page + " should have moved intact to " + Errno.hex(address));
            }
        }
    }

    /** Every unsealed page still mapped read-write can be written and read, and re-protected. */
    private static void checkUnsealedNeighboursStillWork(Layout after, String context) {
        for (int page = 0; page < after.pages(); page++) {
            Layout.PageState state = after.page(page);
            if (!state.mapped() || state.sealed()) {
                continue;
            }
            assertEquals(0, LibC.mprotect(after.address(page), PAGE, Mman.prot(state.protection())),
                context + ": unsealed page " + page + " can still be re-protected");
            if (state.protection() == Protection.READ_WRITE) {
                var view = LibC.foreverView(after.address(page), PAGE);
                view.set(ValueLayout.JAVA_BYTE, PAGE - 1, (byte) 0x5a);
                assertEquals((byte) 0x5a, view.get(ValueLayout.JAVA_BYTE, PAGE - 1), context + ": page " + page);
            }
        }
    }

    private static void collectCoverage(Scenario scenario) {
        Pages target = scenario.target();
        Pages sealed = scenario.sealed();
        String position = target.from() == 0 && target.to() == scenario.pages() ? "whole region"
            : target.from() == 0 ? "first page"
            : target.to() == scenario.pages() ? "last page"
            : "interior";
        String relation = target.to() <= sealed.from() || target.from() >= sealed.to() ? "disjoint"
            : target.from() >= sealed.from() && target.to() <= sealed.to() ? "inside the sealed pages"
            : target.from() <= sealed.from() && target.to() >= sealed.to() ? "covering the sealed pages"
            : "straddling";
        Statistics.label("region size").collect(scenario.pages() <= 3 ? "1-3 pages"
            : scenario.pages() <= 24 ? "4-24 pages" : "25-64 pages");
        Statistics.label("attack range").collect(position);
        Statistics.label("relation to the sealed pages").collect(relation);
        Statistics.label("attack range").coverage(check -> {
            check.check("whole region").count(count -> count > 0);
            check.check("first page").count(count -> count > 0);
            check.check("last page").count(count -> count > 0);
        });
        Statistics.label("relation to the sealed pages").coverage(check -> {
            check.check("disjoint").count(count -> count > 0);
            check.check("straddling").count(count -> count > 0);
            check.check("inside the sealed pages").count(count -> count > 0);
        });
    }

    // ---- helpers ----

    private static boolean isFree(long address, long length) {
        return Smaps.read(address, address + length).isEmpty();
    }

    /** A fresh PROT_NONE mapping of {@code pages} pages outside any region, owned by the test. */
    private static long reserve(int pages) {
        long address = LibC.mmap(0, pages * PAGE, Mman.PROT_NONE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, -1, 0);
        assertTrue(!LibC.failed(address), "scratch mapping");
        return address;
    }

    private static String outcome(int errno) {
        return errno == 0 ? "succeeded" : Errno.name(errno);
    }

    private static int errnoOf(long result) {
        return LibC.failed(result) ? (int) -result : 0;
    }

    private static byte originalByte(int page) {
        return (byte) (0x40 + page % 32);
    }

    private static byte scratchByte(int page) {
        return (byte) (0xa0 + page % 32);
    }

    private static byte[] filled(byte value) {
        byte[] bytes = new byte[(int) PAGE];
        Arrays.fill(bytes, value);
        return bytes;
    }

    private static boolean uniform(byte[] bytes, byte value) {
        for (byte b : bytes) {
            if (b != value) {
                return false;
            }
        }
        return true;
    }

    private static String describe(Layout layout) {
        StringBuilder text = new StringBuilder();
        for (Smaps.Vma vma : layout.vmas()) {
            long from = (vma.start() - layout.start()) / PAGE;
            long to = (vma.end() - layout.start()) / PAGE;
            text.append('[').append(from).append(", ").append(to).append(") ").append(vma.permissions())
                .append(vma.sealed() ? " sl" : "").append("; ");
        }
        return text.toString();
    }
}
