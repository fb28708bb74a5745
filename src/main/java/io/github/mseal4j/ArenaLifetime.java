package io.github.mseal4j;

import io.github.mseal4j.internal.FileStat;
import io.github.mseal4j.internal.LibC;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Immutable memory that lives as long as an {@link Arena}: a fresh freeze ({@link MemfdFreeze#freezeNew}) that is
 * not sealed, handed out as a segment of the arena's scope whose cleanup unmaps it. Nothing in the process can
 * write it (the file is sealed against writing, the mapping can never be made writable); unlike sealed memory,
 * the mapping itself can be unmapped, by the arena's close and by any code that calls {@code munmap}.
 *
 * <p>The arena's own rules keep this safe: once a shared arena's close has begun, no thread can complete an
 * access to one of its segments (the JDK waits out accesses in progress), so the cleanup's {@code munmap} runs
 * only when nothing reads the memory, and a later access throws {@link IllegalStateException}. An automatic
 * arena's segments are unmapped once the collector finds them unreachable; the global arena's never are.
 */
final class ArenaLifetime {
    /** For tests only: told the address of each mapping an arena's cleanup unmapped. */
    static volatile java.util.function.LongConsumer unmapObserver;

    private ArenaLifetime() {
    }

    /**
     * Refuses, before any system call, an arena that memory cannot be given to: null ({@link NullPointerException}),
     * closed ({@link IllegalStateException}) or confined to another thread ({@link WrongThreadException}), as the
     * JDK refuses them.
     */
    static void check(Arena arena) {
        Objects.requireNonNull(arena, "arena");
        LibC.checkArena(arena); // the JDK's own checks, and messages
    }

    /**
     * {@code length} bytes of {@code contents}, read-only, checked by {@code check} (null: none) before they are
     * handed out, living as long as {@code arena}: immutable where {@link Mseal#immutability()} is available;
     * elsewhere, under the best-effort policy, read-only ordinary memory (one warning per process), and under the
     * strict one, refused. A failure at any step leaves nothing mapped.
     *
     * @throws UnsupportedOperationException if immutable memory is unavailable and the policy is strict
     */
    static Frozen freeze(long length, MemfdFreeze.Contents contents, MemfdFreeze.Check check, Arena arena,
                         Set<MappingOption> options) throws IOException {
        check(arena);
        if (length == 0) {
            Sealing.immutableOrFallBack(); // the strict policy refuses here too, as for a byte
            return new Frozen(LibC.view(0, 0, arena).asReadOnly(), true, null);
        }
        if (length >= RegionMapping.LARGEST_MAPPING) {
            throw new IllegalArgumentException(length + " bytes are too large to freeze: a mapping lies below 2^48"
                + " (256 TiB) on every 64-bit Linux");
        }
        if (Sealing.immutableOrFallBack()) {
            MemfdFreeze.Frozen frozen = MemfdFreeze.freezeNew(length, contents, options, check, false);
            return new Frozen(own(frozen.base(), frozen.total(), frozen.data(), length, arena), true, frozen.file());
        }
        return new Frozen(readOnlyCopy(length, contents, check, arena, options), false, null);
    }

    /**
     * What {@link #freeze} made: the segment, whether it is immutable (false: the best-effort policy's read-only
     * ordinary memory), and the memfd it maps (null where it maps none): what its mapping must show.
     */
    record Frozen(MemorySegment segment, boolean immutable, FileStat file) {
    }

    /**
     * {@code [data, data + length)} as a read-only segment of {@code arena}, which unmaps the whole mapping
     * {@code [base, base + total)} when it closes. Should the arena refuse (closed meanwhile by another thread),
     * the mapping is unmapped at once and the JDK's exception thrown.
     */
    private static MemorySegment own(long base, long total, long data, long length, Arena arena) {
        // Unmapped once, by whichever comes first: the arena's cleanup, or the refusal below (should the JDK have
        // registered the cleanup and then failed, the close would otherwise unmap whatever is there by then).
        AtomicBoolean unmapped = new AtomicBoolean();
        try {
            return LibC.view(data, length, arena, () -> {
                if (unmapped.compareAndSet(false, true)) {
                    unmap(base, total);
                }
            }).asReadOnly();
        } catch (RuntimeException | Error e) {
            if (unmapped.compareAndSet(false, true)) {
                LibC.munmap(base, total);
            }
            throw e;
        }
    }

    /**
     * The cleanup of an arena's memory. A refusal (EPERM: other code in the process sealed the range, which only
     * code that knows its address can) is logged: the memory then stays mapped, read-only, until the process exits.
     */
    private static void unmap(long base, long total) {
        int errno = LibC.munmap(base, total);
        java.util.function.LongConsumer observer = unmapObserver;
        if (observer != null && errno == 0) {
            observer.accept(base);
        }
        if (errno != 0) {
            Sealing.log().log(System.Logger.Level.WARNING, () -> "mseal4j: "
                + new SystemCallException("munmap", base, total, "", errno).getMessage() + "; memory of a closed"
                + " arena stays mapped, read-only, until the process exits (sealed by other code, if EPERM)");
        }
    }

    /**
     * Where immutable memory is unavailable and the policy is best-effort: a region of ordinary memory with the
     * options, written, made read-only, checked, and given the arena's lifetime (the region's bookkeeping is
     * dropped; the arena unmaps the mapping, guard pages included). Anything in the process that can call
     * {@code mprotect} or write {@code /proc/self/mem} can change it.
     */
    private static MemorySegment readOnlyCopy(long length, MemfdFreeze.Contents contents, MemfdFreeze.Check check,
                                              Arena arena, Set<MappingOption> options) throws IOException {
        MappedRegion region = MappedRegion.allocate(length, options.toArray(MappingOption[]::new));
        try {
            contents.write(region.segment());
            region.protect(Protection.READ);
            if (check != null) {
                check.check(region.segment());
            }
        } catch (IOException | RuntimeException | Error e) {
            try {
                region.close();
            } catch (RuntimeException again) {
                e.addSuppressed(again);
            }
            throw e;
        }
        long guard = options.contains(MappingOption.GUARD_PAGES) ? Mseal.pageSize() : 0;
        return own(region.address() - guard, region.mappedSize() + 2 * guard, region.address(), length, arena);
    }
}
