package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.Mman;
import io.github.mseal4j.internal.Smaps;
import io.github.mseal4j.testing.ProcMem;
import io.github.mseal4j.testing.RequiresMseal;
import io.github.mseal4j.testing.SealBudget;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.statistics.Statistics;

/**
 * Immutable memory, however it was made (a region allocated {@code IMMUTABLE} and frozen, or
 * {@code Mseal.freeze} of an array, a segment or a file), against every way to write or replace it: a write
 * through {@code /proc/self/mem} at any offset, {@code mprotect} to every protection, {@code munmap},
 * {@code mremap}, {@code mmap(MAP_FIXED)}, {@code MADV_REMOVE}; and {@code MADV_DONTNEED}, which the kernel
 * allows but which loses nothing. Sizes from one byte to several pages.
 */
@AddLifecycleHook(RequiresMseal.class)
class ImmutableProperties {
    private static final long PAGE = Mseal.pageSize();

    /** How the immutable memory is made. */
    enum Source { REGION, FREEZE_ARRAY, FREEZE_SEGMENT, FREEZE_FILE }

    /** A raw attack on the whole mapping. */
    enum Attack {
        PROTECT_NONE, PROTECT_READ, PROTECT_READ_WRITE, PROTECT_READ_EXEC, MUNMAP, MREMAP_SHRINK, MREMAP_GROW,
        MREMAP_MOVE, MMAP_FIXED, MADV_REMOVE
    }

    @Property(tries = 80)
    void nothingWritesImmutableMemory(@ForAll("contents") byte[] contents, @ForAll Source source,
                                      @ForAll("offsets") List<Double> offsets, @ForAll Attack attack) throws IOException {
        MemorySegment frozen = make(source, contents);
        assertEquals(contents.length, frozen.byteSize(), "exactly the length asked for");
        assertTrue(frozen.isReadOnly());
        long start = frozen.address() & -PAGE;
        long length = (frozen.address() + frozen.byteSize() + PAGE - 1 & -PAGE) - start;
        List<Smaps.Vma> vmas = Smaps.read(start, start + length);
        assertTrue(Smaps.coveredAndImmutable(vmas, start, start + length), "shared, sealed, no mw: " + vmas);

        for (double fraction : offsets) {
            long offset = Math.min(contents.length - 1, (long) (fraction * contents.length));
            byte forged = (byte) ~contents[(int) offset];
            UncheckedIOException refused = assertThrows(UncheckedIOException.class,
                () -> ProcMem.write(frozen.address() + offset, new byte[] {forged}), "offset " + offset);
            assertTrue(String.valueOf(refused.getCause().getMessage()).contains("Input/output error"),
                "EIO: " + refused.getCause());
            Statistics.label("offset").collect(offset == 0 ? "first" : offset == contents.length - 1 ? "last" : "inside");
        }

        int errno = attack(attack, start, length);
        assertNotEquals(0, errno, attack + " must be refused");
        String expected = switch (attack) {
            // A write-sealed memfd maps without VM_MAYWRITE, so asking for write access fails its access
            // check (EACCES) before the seal's; execute access may be asked for, and the seal refuses it.
            // MADV_REMOVE would punch a hole in the file, which F_SEAL_WRITE forbids.
            case PROTECT_READ_WRITE, MADV_REMOVE -> "EACCES";
            default -> "EPERM";
        };
        assertEquals(expected, Errno.name(errno), attack.toString());

        // Allowed, and harmless: a shared mapping's pages come back from the file.
        assertEquals(0, LibC.madvise(start, length, Mman.MADV_DONTNEED), "MADV_DONTNEED is allowed on shared memory");
        assertArrayEquals(contents, ProcMem.read(frozen.address(), contents.length).orElseThrow(),
            "every byte as frozen, after every attack");
        assertArrayEquals(contents, frozen.toArray(ValueLayout.JAVA_BYTE));
        assertTrue(Smaps.coveredAndImmutable(Smaps.read(start, start + length), start, start + length));
        Statistics.label("size").collect(contents.length == 1 ? "1 byte" : contents.length < PAGE ? "under a page"
            : contents.length % PAGE == 0 ? "whole pages" : "pages and a part");
        Statistics.label("size").coverage(check -> {
            check.check("1 byte").count(count -> count > 0);
            check.check("under a page").count(count -> count > 0);
            check.check("pages and a part").count(count -> count > 0);
        });
        Statistics.label("offset").coverage(check -> {
            check.check("first").count(count -> count > 0);
            check.check("last").count(count -> count > 0);
        });
    }

    private static MemorySegment make(Source source, byte[] contents) throws IOException {
        return switch (source) {
            case REGION -> {
                MappedRegion region = MappedRegion.allocate(contents.length, MappingOption.IMMUTABLE);
                region.segment().copyFrom(MemorySegment.ofArray(contents));
                yield region.sealReadOnly().asSlice(0, contents.length);
            }
            case FREEZE_ARRAY -> Mseal.freeze(contents);
            case FREEZE_SEGMENT -> Mseal.freeze(MemorySegment.ofArray(contents));
            case FREEZE_FILE -> {
                Path file = Files.createTempFile("mseal4j-immutable", ".bin");
                try {
                    Files.write(file, contents);
                    yield Mseal.freeze(file);
                } finally {
                    Files.delete(file);
                }
            }
        };
    }

    private static int attack(Attack attack, long start, long length) {
        return switch (attack) {
            case PROTECT_NONE -> LibC.mprotect(start, length, Mman.PROT_NONE);
            case PROTECT_READ -> LibC.mprotect(start, length, Mman.PROT_READ);
            case PROTECT_READ_WRITE -> LibC.mprotect(start, length, Mman.PROT_READ | Mman.PROT_WRITE);
            case PROTECT_READ_EXEC -> LibC.mprotect(start, length, Mman.PROT_READ | 0x4);
            case MUNMAP -> LibC.munmap(start, length);
            case MREMAP_SHRINK -> length > PAGE ? errno(LibC.mremap(start, length, PAGE, 0, 0))
                : LibC.munmap(start, length);
            case MREMAP_GROW -> errno(LibC.mremap(start, length, length + PAGE, Mman.MREMAP_MAYMOVE, 0));
            case MREMAP_MOVE -> {
                long target = LibC.mmap(0, length, Mman.PROT_NONE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, -1, 0);
                int errno = errno(LibC.mremap(start, length, length, Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED, target));
                LibC.munmap(target, length);
                yield errno;
            }
            case MMAP_FIXED -> errno(LibC.mmap(start, length, Mman.PROT_READ | Mman.PROT_WRITE,
                Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED, -1, 0));
            case MADV_REMOVE -> LibC.madvise(start, length, Mman.MADV_REMOVE);
        };
    }

    private static int errno(long result) {
        return LibC.failed(result) ? (int) -result : 0;
    }

    @Provide
    Arbitrary<byte[]> contents() {
        Arbitrary<Integer> sizes = Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(2, Arbitraries.just(1)), // weighted so that 80 tries see it (coverage below)
            net.jqwik.api.Tuple.of(4, Arbitraries.integers().between(2, (int) PAGE - 1)),
            net.jqwik.api.Tuple.of(2, Arbitraries.integers().between(1, 3).map(pages -> pages * (int) PAGE)),
            net.jqwik.api.Tuple.of(4, Arbitraries.integers().between((int) PAGE + 1, 4 * (int) PAGE)));
        return sizes.flatMap(size -> Arbitraries.bytes().array(byte[].class).ofSize(size));
    }

    @Provide
    Arbitrary<List<Double>> offsets() {
        Arbitrary<Double> anywhere = Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(1, Arbitraries.just(0.0)),
            net.jqwik.api.Tuple.of(1, Arbitraries.just(1.0)),
            net.jqwik.api.Tuple.of(4, Arbitraries.doubles().between(0, 1)));
        return anywhere.list().ofMinSize(1).ofMaxSize(6);
    }

    @AfterContainer
    static void stayWithinTheSealBudget() {
        SealBudget.check(ImmutableProperties.class.getSimpleName());
    }
}
