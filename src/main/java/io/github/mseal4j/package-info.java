/**
 * Seal memory with Linux {@code mseal(2)}: once sealed, a range can never again be unmapped, remapped,
 * re-protected, mapped over or (if read-only) discarded, by anyone in the process. The kernel answers EPERM.
 * <em>Immutable</em> memory goes further: nothing in the process can write it again, not even through
 * {@code /proc/self/mem} or a debugger.
 *
 * {@snippet :
 * MappedRegion region = MappedRegion.allocate(4096, MappingOption.IMMUTABLE);
 * region.segment().setString(0, "allow: api.example.com");
 * MemorySegment allowList = region.sealReadOnly();       // frozen until the process exits
 * MemorySegment key = Mseal.freeze(keyBytes);            // the same, in one call
 *
 * try (Arena arena = Arena.ofShared()) {                  // data that is replaced: an arena's lifetime
 *     MemorySegment token = Mseal.freeze(tokenBytes, arena);   // immutable, not sealed, unmapped at close
 * }
 * }
 *
 * <h2>Core types</h2>
 * <ul>
 *   <li>{@link io.github.mseal4j.Mseal}: the support probes (sealing, immutable memory), the page size, and
 *       {@code freeze} (arrays, segments and files copied into immutable memory).</li>
 *   <li>{@link io.github.mseal4j.MappedRegion}: memory the library maps itself, to protect and seal.</li>
 *   <li>{@link io.github.mseal4j.SealedArena}: many small allocations packed into few mappings, sealed (and,
 *       where available, made immutable) at once.</li>
 *   <li>{@link io.github.mseal4j.SealedMap}: an off-heap map in sealed, read-only (where available, immutable)
 *       memory, or immutable memory with an {@link java.lang.foreign.Arena}'s lifetime.</li>
 *   <li>{@link io.github.mseal4j.SealedSet}: an off-heap set, the same table as {@code SealedMap}'s.</li>
 *   <li>{@link io.github.mseal4j.Reloadable}: generations of arena-lifetime data (a configuration that reloads),
 *       swapped so that no read meets a freed one.</li>
 *   <li>{@link io.github.mseal4j.Protection}: NONE, READ, READ_WRITE; {@link io.github.mseal4j.MappingOption}:
 *       immutable, guard pages, no dump, locked, no fork.</li>
 *   <li>{@link io.github.mseal4j.SealPolicy}: strict or best-effort where mseal is missing;
 *       {@link io.github.mseal4j.SealStatistics}: what the process has sealed, and its mapping headroom.</li>
 *   <li>{@link io.github.mseal4j.SystemCallException}: a failed system call, with its errno and a remedy.</li>
 * </ul>
 *
 * <h2>Which type for which job</h2>
 * {@link io.github.mseal4j.MappedRegion#seal()} is {@code mseal(2)} itself: the mapping never changes, but writable
 * memory stays writable. Everything else that says sealed or frozen means read-only, and immutable where the kernel
 * allows it: nothing in the process can change the bytes.
 * <table class="striped">
 *   <caption>Which type for which job</caption>
 *   <thead><tr><th>Job</th><th>Use</th><th>Lifetime</th><th>Immutable</th></tr></thead>
 *   <tbody>
 *     <tr><td>a key</td><td>{@code Mseal.freeze(bytes, GUARD_PAGES, NO_DUMP, LOCKED, NO_FORK)}</td>
 *         <td>sealed for good</td><td>yes</td></tr>
 *     <tr><td>a key that rotates</td><td>{@code Mseal.freeze(bytes, arena, ...)}, a {@code Reloadable}</td>
 *         <td>the arena's</td><td>yes</td></tr>
 *     <tr><td>a configuration file</td><td>{@code Mseal.freeze(path, sha256)}</td><td>sealed for good</td>
 *         <td>yes</td></tr>
 *     <tr><td>a configuration that reloads</td><td>{@code Reloadable.of(arena -> SealedMap.copyOf(read(), arena))}
 *         </td><td>one arena per version</td><td>yes</td></tr>
 *     <tr><td>an allow-list</td><td>{@code SealedSet.copyOf(hosts)}</td><td>sealed for good (or an arena's)</td>
 *         <td>yes</td></tr>
 *     <tr><td>settings, a lookup table</td><td>{@code SealedMap.copyOf(map)}</td><td>sealed for good</td>
 *         <td>yes</td></tr>
 *     <tr><td>many small values</td><td>{@code SealedArena}</td><td>sealed for good</td><td>yes</td></tr>
 *     <tr><td>raw pages</td><td>{@code MappedRegion}</td><td>sealed for good once sealed</td>
 *         <td>with {@code IMMUTABLE}, once {@code sealReadOnly()}</td></tr>
 *   </tbody>
 * </table>
 *
 * <h2>Lifetime</h2>
 * Sealed memory is never freed: it stays mapped until the process exits or calls {@code execve}, and each
 * sealed region keeps at least one of the process's kernel mappings ({@code vm.max_map_count}, 65530 by
 * default). Seal few, large regions, and only what lives until exit. Data that is replaced gets an
 * {@link java.lang.foreign.Arena}'s lifetime: {@code Mseal.freeze(data, arena)},
 * {@code SealedMap.copyOf(map, arena)}, {@link io.github.mseal4j.Reloadable}; the same immutable memory, not
 * sealed, unmapped when the arena closes ({@code docs/lifetimes.md}). {@code -Dio.github.mseal4j.maxSealedBytes}
 * caps what is sealed for good. The library only ever seals, protects or unmaps memory it mapped
 * itself; it never accepts heap, {@code malloc}-backed or file-mapped segments.
 *
 * <h2>Platforms</h2>
 * <table class="striped">
 *   <caption>Where sealing works</caption>
 *   <thead><tr><th>Platform</th><th>Result</th></tr></thead>
 *   <tbody>
 *     <tr><td>Linux 6.10+, 64-bit: x86_64, aarch64</td><td>sealing works; immutable memory too, where
 *         {@code memfd_create} is allowed</td></tr>
 *     <tr><td>Linux 6.10+ on riscv64, ppc64le, s390x (the same system call number, not tested)</td>
 *         <td>should work</td></tr>
 *     <tr><td>Linux before 6.10</td><td>{@code KERNEL_TOO_OLD}: regions work, {@code seal()} throws</td></tr>
 *     <tr><td>seccomp or LSM forbids mseal</td><td>{@code BLOCKED_BY_POLICY}</td></tr>
 *     <tr><td>alpha, MIPS and other architectures</td><td>{@code UNKNOWN_ARCHITECTURE}</td></tr>
 *     <tr><td>32-bit JVMs, other operating systems</td><td>{@code NOT_64_BIT}, {@code NOT_LINUX}</td></tr>
 *   </tbody>
 * </table>
 *
 * <h2>Native access</h2>
 * The library calls C through {@link java.lang.foreign.Linker}, which the JVM must allow:
 * {@code --enable-native-access=io.github.mseal4j} on the module path,
 * {@code --enable-native-access=ALL-UNNAMED} on the class path, or {@code Enable-Native-Access: ALL-UNNAMED}
 * in an executable jar's manifest. Without it, mseal4j makes no native call at all (so the JVM prints no
 * warning), {@link io.github.mseal4j.Mseal#support()} reports {@code NATIVE_ACCESS_DISABLED} with the exact
 * flag, and every other operation throws {@link java.lang.UnsupportedOperationException}. On JDK 24+,
 * {@code --illegal-native-access=allow} counts as a grant too. JDK Flight Recorder events need
 * {@code jdk.jfr} in the runtime (on the module path: {@code --add-modules jdk.jfr}); without it there are
 * none, and nothing else changes.
 *
 * <h2>Limits</h2>
 * Sealing freezes mappings and protections, not contents. Writes through {@code /proc/self/mem} and
 * {@code ptrace} still reach sealed read-only memory that is not immutable: the first unless the kernel runs
 * with {@code proc_mem.force_override=never}, the second for anyone allowed to attach a debugger. Immutable
 * memory refuses both. Sealed memory is never freed. See {@code docs/semantics.md} for what each kernel
 * version blocks.
 */
package io.github.mseal4j;
