package io.github.mseal4j;

import io.github.mseal4j.internal.Errno;
import io.github.mseal4j.internal.LibC;
import io.github.mseal4j.internal.Platform;
import io.github.mseal4j.internal.Smaps;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import io.github.mseal4j.internal.SupportProbe;

/**
 * Entry point: whether sealing and immutable memory work here, the page size everything is measured in, and
 * {@code freeze}: data copied into immutable memory in one call.
 *
 * {@snippet :
 * if (!Mseal.isSupported()) {
 *     System.err.println("memory will not be sealed: " + Mseal.support().reason());
 * }
 * }
 */
public final class Mseal {

    private Mseal() {
    }

    /**
     * Whether {@code mseal(2)} works in this JVM, and why not. Probed once per process, on first use, with
     * {@code mseal(NULL, 0, 0)}: a call the kernel answers without sealing anything. Never throws.
     *
     * @return the probe's verdict
     */
    public static SealSupport support() {
        return Probe.RESULT;
    }

    /**
     * Whether immutable memory works in this JVM, and why not: memory that nothing in the process can write
     * again, not through its mapping, not through {@code /proc/self/mem}, not by a debugger (see
     * {@link MappingOption#IMMUTABLE}). It needs {@link #support() mseal}, {@code memfd_create} and the file
     * seals {@code F_SEAL_WRITE}, {@code F_SEAL_SHRINK}, {@code F_SEAL_GROW} and {@code F_SEAL_SEAL}. Probed on
     * first use, with a one-page memfd that is sealed and closed again (nothing is mapped or sealed in memory),
     * and kept for the life of the process; only a verdict caused by a passing shortage (no file descriptor
     * left) is asked again at the next call. Never throws.
     *
     * @return the probe's verdict: {@code AVAILABLE}, or why not ({@code MEMFD_UNAVAILABLE},
     *     {@code FILE_SEALS_UNAVAILABLE}, or the reason mseal itself is unavailable)
     */
    public static SealSupport immutability() {
        return probeImmutability().verdict();
    }

    /**
     * True where immutable memory should be used: available, or unknown for now because the last probe met a
     * passing shortage (no file descriptor left), in which case the memfd call itself will report it. False
     * only where the host lacks it for good.
     */
    static boolean immutableExpected() {
        ImmutabilityProbe.Immutability probed = probeImmutability();
        return probed.verdict().available() || !probed.lasting();
    }

    /** A lasting verdict is kept for the life of the process; one from a passing shortage is asked again. */
    private static ImmutabilityProbe.Immutability probeImmutability() {
        ImmutabilityProbe.Immutability known = lastingImmutability;
        if (known != null) {
            return known;
        }
        ImmutabilityProbe.Immutability probed = ImmutabilityProbe.probe(support());
        if (probed.lasting()) {
            lastingImmutability = probed;
        }
        return probed;
    }

    private static volatile ImmutabilityProbe.Immutability lastingImmutability;

    /**
     * Whether sealing works here.
     *
     * @return {@code support().available()}
     */
    public static boolean isSupported() {
        return support().available();
    }

    /**
     * The size of a page, as {@code sysconf(_SC_PAGESIZE)} reports it at run time: 4096 on x86_64, but 4, 16
     * or 64 KiB on aarch64. Offsets and lengths given to {@link MappedRegion} are multiples of it.
     *
     * @return the page size in bytes
     * @throws UnsupportedOperationException when native calls are impossible here (not Linux, or native
     *     access not enabled); the message says why
     */
    public static long pageSize() {
        if (PageSize.VALUE <= 0) {
            throw new UnsupportedOperationException(PageSize.PROBLEM);
        }
        return PageSize.VALUE;
    }

    /**
     * The policy for hosts without mseal, from the system property {@value SealPolicy#PROPERTY}.
     *
     * @return {@link SealPolicy#STRICT} unless the property says {@code best-effort}
     * @throws IllegalArgumentException if the property names no policy; the message lists the valid ones
     */
    public static SealPolicy policy() {
        return Sealing.policy();
    }

    /**
     * An immutable, sealed, read-only copy of {@code bytes}: memory that nothing in the process can write, not
     * even through {@code /proc/self/mem} or a debugger (see {@link MappingOption#IMMUTABLE}). The segment is
     * exactly {@code bytes.length} long (the page padding around it stays outside), valid for the life of the
     * process, and never freed.
     *
     * {@snippet :
     * MemorySegment key = Mseal.freeze(keyBytes);
     * java.util.Arrays.fill(keyBytes, (byte) 0);      // the heap copy can go; the frozen one cannot change
     * }
     *
     * <p>Where {@link #immutability()} is not available, this throws under the strict {@linkplain SealPolicy
     * policy}; under best-effort it returns sealed read-only memory instead (or, where mseal is missing too,
     * read-only memory), and logs one warning.
     *
     * @param bytes the data; copied. An empty array gives an empty segment, and maps nothing.
     * @return a read-only segment of exactly {@code bytes.length} bytes
     * @throws NullPointerException if {@code bytes} is null
     * @throws IllegalArgumentException if the {@linkplain SealPolicy policy} property names no policy
     * @throws UnsupportedOperationException if immutable memory is not available here and the policy is strict
     * @throws IllegalStateException if it would need mappings the library keeps for the JVM under
     *     {@code vm.max_map_count} ({@code -Dio.github.mseal4j.mappingReserve}); nothing is changed
     * @throws SystemCallException if a system call fails; nothing is left mapped unless the kernel failed half-way
     *     through sealing
     */
    public static MemorySegment freeze(byte[] bytes) {
        return freeze(MemorySegment.ofArray(Objects.requireNonNull(bytes, "bytes")));
    }

    /**
     * An immutable, sealed, read-only copy of {@code data} (heap or native): as {@link #freeze(byte[])}.
     *
     * @param data the data; its bytes are copied
     * @return a read-only segment of exactly {@code data.byteSize()} bytes
     * @throws NullPointerException if {@code data} is null
     * @throws IllegalStateException if {@code data}'s scope is closed
     * @throws IllegalArgumentException if the {@linkplain SealPolicy policy} property names no policy, or
     *     {@code data} is too large for any mapping (2^48 bytes or more)
     * @throws UnsupportedOperationException if immutable memory is not available here and the policy is strict
     * @throws IllegalStateException if it would need mappings the library keeps for the JVM under
     *     {@code vm.max_map_count} ({@code -Dio.github.mseal4j.mappingReserve}); nothing is changed
     * @throws SystemCallException if a system call fails
     */
    public static MemorySegment freeze(MemorySegment data) {
        return freeze(data, NO_OPTIONS);
    }

    /**
     * An immutable, sealed, read-only copy of {@code bytes}, exactly as long, hardened as {@code options} say:
     * {@link MappingOption#GUARD_PAGES} (sealed with the data), {@link MappingOption#NO_DUMP},
     * {@link MappingOption#LOCKED}, {@link MappingOption#NO_FORK}; {@link MappingOption#IMMUTABLE} is implied.
     * Otherwise as {@link #freeze(byte[])}.
     *
     * {@snippet :
     * MemorySegment hmacKey = Mseal.freeze(keyBytes, MappingOption.GUARD_PAGES, MappingOption.NO_DUMP,
     *                                      MappingOption.LOCKED, MappingOption.NO_FORK);
     * assert hmacKey.byteSize() == keyBytes.length;   // 32 bytes, not a page
     * }
     *
     * @param bytes the data; copied
     * @param options the hardening to apply; none is fine
     * @return a read-only segment of exactly {@code bytes.length} bytes
     * @throws NullPointerException if {@code bytes}, {@code options} or an option is null
     * @throws IllegalArgumentException if the {@linkplain SealPolicy policy} property names no policy
     * @throws UnsupportedOperationException if immutable memory is not available here and the policy is strict
     * @throws IllegalStateException if it would need mappings the library keeps for the JVM under
     *     {@code vm.max_map_count} ({@code -Dio.github.mseal4j.mappingReserve}), or seal more than the budget
     *     for memory sealed for good allows ({@code -Dio.github.mseal4j.maxSealedBytes}); nothing is changed
     * @throws SystemCallException if a system call fails (an option that cannot be applied, such as
     *     {@code LOCKED} beyond {@code RLIMIT_MEMLOCK}: {@code mlock}); nothing is left mapped
     */
    public static MemorySegment freeze(byte[] bytes, MappingOption... options) {
        return freeze(MemorySegment.ofArray(Objects.requireNonNull(bytes, "bytes")), options);
    }

    /**
     * An immutable, sealed, read-only copy of {@code data} (heap or native), exactly as long, hardened as
     * {@code options} say: as {@link #freeze(byte[], MappingOption...)}.
     *
     * @param data the data; its bytes are copied
     * @param options the hardening to apply; none is fine
     * @return a read-only segment of exactly {@code data.byteSize()} bytes
     * @throws NullPointerException if {@code data}, {@code options} or an option is null
     * @throws IllegalStateException if {@code data}'s scope is closed
     * @throws IllegalArgumentException if the {@linkplain SealPolicy policy} property names no policy, or
     *     {@code data} is too large for any mapping (2^48 bytes or more)
     * @throws UnsupportedOperationException if immutable memory is not available here and the policy is strict
     * @throws IllegalStateException if it would need mappings the library keeps for the JVM under
     *     {@code vm.max_map_count} ({@code -Dio.github.mseal4j.mappingReserve}), or seal more than the budget
     *     for memory sealed for good allows ({@code -Dio.github.mseal4j.maxSealedBytes}); nothing is changed
     * @throws SystemCallException if a system call fails; nothing is left mapped
     */
    public static MemorySegment freeze(MemorySegment data, MappingOption... options) {
        Set<MappingOption> chosen = hardening(options);
        long length = checkFreezable(data);
        if (length == 0) {
            return frozenNothing();
        }
        try {
            return frozen(length, MemfdFreeze.Contents.copyOf(data), null, chosen);
        } catch (IOException e) {
            throw new AssertionError("a copy of memory reads no file", e);
        }
    }

    private static final MappingOption[] NO_OPTIONS = {};

    /** The options asked for, checked; IMMUTABLE, implied by every freeze, is left out. */
    private static Set<MappingOption> hardening(MappingOption... options) {
        java.util.EnumSet<MappingOption> chosen = java.util.EnumSet.noneOf(MappingOption.class);
        for (MappingOption option : Objects.requireNonNull(options, "options")) {
            chosen.add(Objects.requireNonNull(option, "option"));
        }
        chosen.remove(MappingOption.IMMUTABLE);
        return chosen;
    }

    /**
     * An immutable, read-only copy of {@code data} that lives as long as {@code arena}, and is <em>not</em>
     * sealed: nothing in the process can write it (not through its mapping, {@code /proc/self/mem} or a
     * debugger), and it is unmapped when the arena is closed (a shared or confined arena), becomes unreachable
     * (an automatic one), or never ({@link Arena#global()}). The choice for data that is replaced: keys that
     * rotate, configuration that reloads (see {@code docs/lifetimes.md}). The segment is exactly
     * {@code data.length} long; using it after the arena is closed throws {@link IllegalStateException}.
     *
     * <p>Unlike sealed memory, the mapping itself can be replaced by code in the process that calls
     * {@code munmap} and {@code mmap} at its address; its contents cannot be changed. It does not count
     * against the budget for memory sealed for good ({@code -Dio.github.mseal4j.maxSealedBytes}).
     *
     * <p>Where {@link #immutability()} is not available, this throws under the strict {@linkplain SealPolicy
     * policy}; under best-effort it returns read-only memory of the same lifetime instead, and logs one warning.
     *
     * {@snippet :
     * try (Arena arena = Arena.ofShared()) {
     *     MemorySegment key = Mseal.freeze(keyBytes, arena);   // immutable until the arena closes
     *     java.util.Arrays.fill(keyBytes, (byte) 0);
     *     // ... use key; after close() it is unmapped, and using it throws IllegalStateException
     * }
     * }
     *
     * @param data the data; copied. An empty array gives an empty segment of the arena, and maps nothing.
     * @param arena the lifetime of the copy
     * @return a read-only segment of exactly {@code data.length} bytes, in {@code arena}'s scope
     * @throws NullPointerException if an argument is null
     * @throws IllegalStateException if {@code arena} is closed (checked before anything is mapped)
     * @throws WrongThreadException if {@code arena} is confined to another thread (checked before anything is
     *     mapped)
     * @throws IllegalArgumentException if the {@linkplain SealPolicy policy} property names no policy
     * @throws UnsupportedOperationException if immutable memory is not available here and the policy is strict
     * @throws IllegalStateException if it would need mappings the library keeps for the JVM under
     *     {@code vm.max_map_count} ({@code -Dio.github.mseal4j.mappingReserve}); nothing is changed
     * @throws SystemCallException if a system call fails; nothing is left mapped
     */
    public static MemorySegment freeze(byte[] data, Arena arena) {
        return freeze(MemorySegment.ofArray(Objects.requireNonNull(data, "data")), arena);
    }

    /**
     * An immutable, read-only copy of {@code data} (heap or native) that lives as long as {@code arena}: as
     * {@link #freeze(byte[], Arena)}.
     *
     * @param data the data; its bytes are copied
     * @param arena the lifetime of the copy
     * @return a read-only segment of exactly {@code data.byteSize()} bytes, in {@code arena}'s scope
     * @throws NullPointerException if an argument is null
     * @throws IllegalStateException if {@code data}'s scope or {@code arena} is closed
     * @throws WrongThreadException if {@code data} or {@code arena} is confined to another thread
     * @throws IllegalArgumentException if the {@linkplain SealPolicy policy} property names no policy, or
     *     {@code data} is too large for any mapping (2^48 bytes or more)
     * @throws UnsupportedOperationException if immutable memory is not available here and the policy is strict
     * @throws IllegalStateException if it would need mappings the library keeps for the JVM under
     *     {@code vm.max_map_count} ({@code -Dio.github.mseal4j.mappingReserve}); nothing is changed
     * @throws SystemCallException if a system call fails; nothing is left mapped
     */
    public static MemorySegment freeze(MemorySegment data, Arena arena) {
        return freeze(data, arena, NO_OPTIONS);
    }

    /**
     * An immutable, read-only copy of {@code bytes} with {@code arena}'s lifetime, not sealed, exactly as long,
     * hardened as {@code options} say: {@link MappingOption#GUARD_PAGES}, {@link MappingOption#NO_DUMP},
     * {@link MappingOption#LOCKED}, {@link MappingOption#NO_FORK} ({@link MappingOption#IMMUTABLE} is implied).
     * The key that rotates: one arena per generation of the key, closed once nothing uses it. Otherwise as
     * {@link #freeze(byte[], Arena)}.
     *
     * @param bytes the data; copied
     * @param arena the lifetime of the copy
     * @param options the hardening to apply; none is fine
     * @return a read-only segment of exactly {@code bytes.length} bytes, in {@code arena}'s scope
     * @throws NullPointerException if an argument or an option is null
     * @throws IllegalStateException if {@code arena} is closed (checked before anything is mapped)
     * @throws WrongThreadException if {@code arena} is confined to another thread
     * @throws IllegalArgumentException if the {@linkplain SealPolicy policy} property names no policy
     * @throws UnsupportedOperationException if immutable memory is not available here and the policy is strict
     * @throws IllegalStateException if it would need mappings the library keeps for the JVM under
     *     {@code vm.max_map_count} ({@code -Dio.github.mseal4j.mappingReserve}); nothing is changed
     * @throws SystemCallException if a system call fails; nothing is left mapped
     */
    public static MemorySegment freeze(byte[] bytes, Arena arena, MappingOption... options) {
        return freeze(MemorySegment.ofArray(Objects.requireNonNull(bytes, "bytes")), arena, options);
    }

    /**
     * An immutable, read-only copy of {@code data} (heap or native) with {@code arena}'s lifetime, not sealed,
     * exactly as long, hardened as {@code options} say: as {@link #freeze(byte[], Arena, MappingOption...)}.
     *
     * @param data the data; its bytes are copied
     * @param arena the lifetime of the copy
     * @param options the hardening to apply; none is fine
     * @return a read-only segment of exactly {@code data.byteSize()} bytes, in {@code arena}'s scope
     * @throws NullPointerException if an argument or an option is null
     * @throws IllegalStateException if {@code data}'s scope or {@code arena} is closed
     * @throws WrongThreadException if {@code data} or {@code arena} is confined to another thread
     * @throws IllegalArgumentException if the {@linkplain SealPolicy policy} property names no policy, or
     *     {@code data} is too large for any mapping (2^48 bytes or more)
     * @throws UnsupportedOperationException if immutable memory is not available here and the policy is strict
     * @throws IllegalStateException if it would need mappings the library keeps for the JVM under
     *     {@code vm.max_map_count} ({@code -Dio.github.mseal4j.mappingReserve}); nothing is changed
     * @throws SystemCallException if a system call fails; nothing is left mapped
     */
    public static MemorySegment freeze(MemorySegment data, Arena arena, MappingOption... options) {
        Set<MappingOption> chosen = hardening(options);
        ArenaLifetime.check(arena);
        long length = checkFreezable(data);
        try {
            return ArenaLifetime.freeze(length, MemfdFreeze.Contents.copyOf(data), null, arena, chosen).segment();
        } catch (IOException e) {
            throw new AssertionError("a copy of memory reads no file", e);
        }
    }

    /** The length of {@code data}, which must be a live segment this thread may read. */
    private static long checkFreezable(MemorySegment data) {
        Platform.requireNativeCalls();
        Objects.requireNonNull(data, "data");
        if (!data.scope().isAlive()) {
            throw new IllegalStateException("the segment's scope is closed: nothing to freeze");
        }
        if (!data.isAccessibleBy(Thread.currentThread())) {
            throw new WrongThreadException("the segment belongs to a confined arena of another thread: nothing to"
                + " freeze from this one");
        }
        return data.byteSize();
    }

    /**
     * {@code length} bytes of {@code contents}, frozen and sealed, checked by {@code check} (null: none) after the
     * file is sealed against writing and before the mseal, so a refusal leaves nothing mapped. Where immutable
     * memory is unavailable (under best-effort), sealed read-only ordinary memory, checked before it is sealed.
     */
    private static MemorySegment frozen(long length, MemfdFreeze.Contents contents, MemfdFreeze.Check check,
                                        Set<MappingOption> options) throws IOException {
        if (length >= RegionMapping.LARGEST_MAPPING) {
            throw new IllegalArgumentException(length + " bytes are too large to freeze: a mapping lies below 2^48"
                + " (256 TiB) on every 64-bit Linux");
        }
        if (Sealing.immutableOrFallBack()) {
            return MemfdFreeze.freezeNew(length, contents, options, check, true).sealedSegment();
        }
        MappedRegion region = MappedRegion.allocate(length, options.toArray(MappingOption[]::new));
        MemorySegment frozen;
        try {
            contents.write(region.segment());
            if (check != null) {
                region.protect(Protection.READ); // checked as it will stay (through its mapping, at least)
                check.check(region.segment().asSlice(0, length));
            }
            frozen = region.sealReadOnly().asSlice(0, length);
        } catch (IOException | RuntimeException | Error e) {
            closeAfter(region, e);
            throw e;
        }
        region.close(); // frees the region's bookkeeping; the sealed pages stay, as they must
        return frozen;
    }

    /**
     * The empty frozen segment, which maps nothing, after the checks a freeze of one byte makes: an unknown
     * policy, or a strict one where immutable memory or mseal is unavailable, refuses here too.
     */
    private static MemorySegment frozenNothing() {
        Sealing.immutableOrFallBack();
        Sealing.byKernel();
        return MemorySegment.ofArray(new byte[0]).asReadOnly();
    }

    /** Unmaps what a failed freeze left (never sealed pages); a failure to do so is added to {@code e}. */
    private static void closeAfter(MappedRegion region, Throwable e) {
        try {
            region.close();
        } catch (RuntimeException again) {
            e.addSuppressed(again);
        }
    }

    /**
     * The contents of a file, loaded into immutable memory: as {@link #freeze(byte[])} of its bytes.
     *
     * <p>The file is <em>copied</em>, not mapped. A mapping of the file itself could not be made immutable:
     * a private file mapping keeps showing later changes to the file on every page that was never written,
     * and a shared one shows every change.
     *
     * <p>What the copy is: one read of the file, front to back, and no snapshot. A file written while it is read
     * can give a copy that mixes old and new content, or has a size the file never had. What can be seen cheaply
     * is refused: a size, modification time or file (device and inode) at the path that differ after the read
     * from before it, and a file that ends early or runs on. A write that changes none of those (the same size,
     * within the modification time's granularity) is not seen: freeze files that are replaced whole (written to
     * a temporary file and renamed), and use {@link #freeze(Path, String)} where the content must be exactly
     * known.
     *
     * <p>What is not a regular file is refused before it is opened, as a FIFO without a writer would block the
     * open for ever. A path that someone else can change between that check and the open (swapping in a FIFO)
     * can still block it: freeze files whose path only trusted users can change, as a configuration's is.
     *
     * @param file a regular file (symbolic links are followed); read whole
     * @return a read-only segment of the file's bytes
     * @throws IOException if the file is not a regular file (a directory, FIFO, device or socket: checked before
     *     it is opened), cannot be read, is seen to change while it is read (size, modification time, or another
     *     file at the path), or reports a size other than what it holds (as files in {@code /proc} and
     *     {@code /sys} do)
     * @throws NullPointerException if {@code file} is null
     * @throws IllegalArgumentException if the {@linkplain SealPolicy policy} property names no policy, or the
     *     file is too large for any mapping (2^48 bytes or more)
     * @throws UnsupportedOperationException if immutable memory is not available here and the policy is strict
     * @throws IllegalStateException if it would need mappings the library keeps for the JVM under
     *     {@code vm.max_map_count} ({@code -Dio.github.mseal4j.mappingReserve}); nothing is changed
     * @throws SystemCallException if a system call fails
     */
    public static MemorySegment freeze(Path file) throws IOException {
        return freezeFile(file, null, null);
    }

    /**
     * The contents of a file, loaded into immutable memory and checked against a SHA-256 digest. The digest
     * is computed <em>over the frozen copy</em>, after it can no longer change, so what was verified is what
     * stays: the bytes returned are exactly bytes whose digest is {@code sha256Hex}, however the file was written
     * meanwhile (a copy torn by a concurrent write does not match, and is refused). The digest is checked after
     * the copy is sealed against writing and before it is sealed with mseal: on a mismatch the copy is unmapped,
     * so a retry loop leaves nothing behind.
     *
     * {@snippet :
     * MemorySegment policy = Mseal.freeze(Path.of("/etc/app/policy.json"),
     *     "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
     * }
     *
     * @param file the file; read whole and copied (see {@link #freeze(Path)} for why it is not mapped)
     * @param sha256Hex the expected SHA-256 of the file, as 64 hexadecimal digits (either case, optionally after
     *     {@code sha256:}; whitespace around them is ignored)
     * @return a read-only segment of the file's bytes, whose digest is {@code sha256Hex}
     * @throws IOException as {@link #freeze(Path)}
     * @throws SecurityException if the frozen bytes' SHA-256 is not {@code sha256Hex}; the message names both, and
     *     nothing is left mapped
     * @throws IllegalArgumentException if {@code sha256Hex} is not a SHA-256 digest (checked before the
     *     file is read), the {@linkplain SealPolicy policy} property names no policy, or the file is larger than
     *     any mapping (2^48 bytes or more)
     * @throws NullPointerException if an argument is null
     * @throws UnsupportedOperationException if immutable memory is not available here and the policy is strict
     * @throws IllegalStateException if it would need mappings the library keeps for the JVM under
     *     {@code vm.max_map_count} ({@code -Dio.github.mseal4j.mappingReserve}); nothing is changed
     * @throws SystemCallException if a system call fails
     */
    public static MemorySegment freeze(Path file, String sha256Hex) throws IOException {
        Objects.requireNonNull(file, "file");
        return freezeFile(file, digestCheck(file, sha256Hex), null);
    }

    /**
     * The contents of a file, in immutable memory that lives as long as {@code arena} and is not sealed (see
     * {@link #freeze(byte[], Arena)}), checked against a SHA-256 digest as {@link #freeze(Path, String)} checks
     * it: over the copy, after nothing can change it any more, and before it is handed out. On a mismatch the
     * copy is unmapped: a retry loop leaves nothing behind.
     *
     * {@snippet :
     * Arena generation = Arena.ofShared();
     * MemorySegment policy = Mseal.freeze(Path.of("/etc/app/policy.json"), expectedSha256, generation);
     * // ... when the next version is frozen and in use: generation.close() unmaps this one
     * }
     *
     * @param file the file; read whole and copied (see {@link #freeze(Path)})
     * @param sha256Hex the expected SHA-256 of the file, as for {@link #freeze(Path, String)}
     * @param arena the lifetime of the copy
     * @return a read-only segment of the file's bytes, whose digest is {@code sha256Hex}, in {@code arena}'s scope
     * @throws IOException as {@link #freeze(Path)}
     * @throws SecurityException if the copy's SHA-256 is not {@code sha256Hex}; nothing is left mapped
     * @throws IllegalArgumentException if {@code sha256Hex} is not a SHA-256 digest (checked before the file is
     *     read), the {@linkplain SealPolicy policy} property names no policy, or the file is larger than any
     *     mapping (2^48 bytes or more)
     * @throws NullPointerException if an argument is null
     * @throws IllegalStateException if {@code arena} is closed (checked before the file is opened)
     * @throws WrongThreadException if {@code arena} is confined to another thread (checked before the file is
     *     opened)
     * @throws UnsupportedOperationException if immutable memory is not available here and the policy is strict
     * @throws IllegalStateException if it would need mappings the library keeps for the JVM under
     *     {@code vm.max_map_count} ({@code -Dio.github.mseal4j.mappingReserve}); nothing is changed
     * @throws SystemCallException if a system call fails; nothing is left mapped
     */
    public static MemorySegment freeze(Path file, String sha256Hex, Arena arena) throws IOException {
        Objects.requireNonNull(file, "file");
        MemfdFreeze.Check check = digestCheck(file, sha256Hex);
        ArenaLifetime.check(arena);
        return freezeFile(file, check, arena);
    }

    /**
     * The contents of {@code file}, checked by {@code check} (null: none) before they are sealed or handed out,
     * sealed for good ({@code arena} null) or living as long as {@code arena}.
     */
    private static MemorySegment freezeFile(Path file, MemfdFreeze.Check check, Arena arena) throws IOException {
        Platform.requireNativeCalls();
        Objects.requireNonNull(file, "file");
        try (FileCopy copy = FileCopy.open(file)) {
            long size = copy.size();
            MemfdFreeze.Contents contents = MemfdFreeze.Contents.writtenBy(memory -> copy.readInto(memory.address()));
            if (size == 0) {
                copy.checkEmpty();
                if (check != null) {
                    check.check(MemorySegment.ofArray(new byte[0]));
                }
                return arena == null ? frozenNothing() : ArenaLifetime.freeze(0, contents, null, arena, Set.of())
                    .segment();
            }
            if (size >= RegionMapping.LARGEST_MAPPING) {
                throw new IllegalArgumentException(file + " is " + size + " bytes, too large to freeze: a mapping"
                    + " lies below 2^48 (256 TiB) on every 64-bit Linux");
            }
            return arena == null ? frozen(size, contents, check, Set.of())
                : ArenaLifetime.freeze(size, contents, check, arena, Set.of()).segment();
        }
    }

    /**
     * The check that frozen bytes have the SHA-256 {@code sha256Hex}: 64 hexadecimal digits, either case, with an
     * optional {@code sha256:} before them and whitespace around; parsed now, before anything is read.
     *
     * @throws IllegalArgumentException if {@code sha256Hex} is not such a digest
     */
    static MemfdFreeze.Check digestCheck(Path file, String sha256Hex) {
        Objects.requireNonNull(sha256Hex, "sha256Hex");
        String expected = sha256Hex.strip().toLowerCase(Locale.ROOT);
        if (expected.startsWith("sha256:")) {
            expected = expected.substring("sha256:".length()).strip();
        }
        if (!expected.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("a SHA-256 digest is 64 hexadecimal digits (either case, optionally"
                + " after 'sha256:'); got '" + sha256Hex + "'");
        }
        String wanted = expected;
        return frozen -> {
            String actual = HexFormat.of().formatHex(sha256(frozen));
            if (!actual.equals(wanted)) {
                throw new SecurityException("SHA-256 of " + file + " is " + actual + ", not the expected " + wanted
                    + "; nothing was frozen (the copy is unmapped)");
            }
        };
    }

    private static byte[] sha256(MemorySegment data) {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every Java runtime has SHA-256", e);
        }
        for (long done = 0; done < data.byteSize(); ) {
            long chunk = Math.min(data.byteSize() - done, 1L << 30);
            digest.update(data.asSlice(done, chunk).asByteBuffer());
            done += chunk;
        }
        return digest.digest();
    }

    /**
     * What this process has sealed so far, and its mapping headroom. Reads {@code /proc/self/smaps} and
     * {@code /proc/self/maps}, so it costs a few milliseconds: for monitoring, not hot paths.
     *
     * @return the current figures
     */
    public static SealStatistics statistics() {
        long sealedMappings = -1;
        long mappings = -1;
        try {
            sealedMappings = Smaps.read(0, Long.MAX_VALUE).stream().filter(Smaps.Vma::sealed).count();
            try (var lines = Files.lines(Path.of("/proc/self/maps"))) {
                mappings = lines.count();
            }
        } catch (IOException | RuntimeException e) {
            // Not Linux, or /proc unavailable: report what is known.
        }
        long maxMapCount;
        try {
            maxMapCount = Long.parseLong(Errno.maxMapCount());
        } catch (NumberFormatException e) {
            maxMapCount = -1;
        }
        return new SealStatistics(SealCounters.regions(), SealCounters.bytes(), sealedMappings, mappings, maxMapCount,
            SealCounters.unreachable());
    }

    private static final class Probe {
        static final SealSupport RESULT = SupportProbe.probe();
    }

    /** Asked once; a failure is kept and reported at each call, never thrown from class initialisation. */
    private static final class PageSize {
        static final long VALUE;
        static final String PROBLEM;

        static {
            long value = -1;
            String problem = null;
            try {
                value = LibC.pageSize();
            } catch (RuntimeException e) {
                problem = e.getMessage();
            }
            VALUE = value;
            PROBLEM = problem;
        }
    }
}
