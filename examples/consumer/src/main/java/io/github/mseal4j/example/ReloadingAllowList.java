package io.github.mseal4j.example;

import io.github.mseal4j.Reloadable;
import io.github.mseal4j.SealedMap;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An allow-list of hosts that reloads from its file, as a service picks up configuration changes, in two ways.
 * Each version is an immutable {@link SealedMap} with an {@link Arena}'s lifetime, not sealed for good: replacing
 * it frees the one before, so reloading forever leaks nothing (a map sealed for good would stay mapped until the
 * process exits, every time).
 *
 * <ul>
 *   <li>{@link #shared}: a {@link Reloadable}; each version lives in a shared arena, closed as soon as the last
 *       lookup in it has returned. Memory is given back at once, and no lookup ever meets a closed version.</li>
 *   <li>{@link #automatic}: a volatile field and {@link Arena#ofAuto()}; a version is unmapped once the garbage
 *       collector finds nothing referring to it. Simplest, with nothing to close, but how many old versions stay
 *       mapped in between depends on when the collector runs.</li>
 * </ul>
 *
 * <p>The file has one host per line; blank lines and lines starting with {@code #} are skipped.
 */
public abstract sealed class ReloadingAllowList implements AutoCloseable {
    private final Path file;

    private ReloadingAllowList(Path file) {
        this.file = file;
    }

    /**
     * An allow-list whose versions live in shared arenas, swapped by a {@link Reloadable}.
     *
     * @param file the hosts, one per line; read now
     * @return the allow-list
     * @throws UncheckedIOException if the file cannot be read
     */
    public static ReloadingAllowList shared(Path file) {
        return new Shared(file);
    }

    /**
     * An allow-list whose versions live in automatic arenas, swapped through a volatile field.
     *
     * @param file the hosts, one per line; read now
     * @return the allow-list
     * @throws UncheckedIOException if the file cannot be read
     */
    public static ReloadingAllowList automatic(Path file) {
        return new Automatic(file);
    }

    /**
     * Whether {@code host} is on the current version of the list.
     *
     * @param host a host name, exactly as listed
     * @return true when allowed
     */
    public abstract boolean isAllowed(String host);

    /**
     * Reads the file again and makes its hosts the current version. If the file cannot be read, the current
     * version stays.
     *
     * @throws UncheckedIOException if the file cannot be read
     */
    public abstract void reload();

    /** Gives the current version's memory back (the shared variant at once; the automatic one when collected). */
    @Override
    public abstract void close();

    /** The version's map, with {@code arena}'s lifetime. */
    SealedMap load(Arena arena) {
        Map<String, String> hosts = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                String host = line.strip();
                if (!host.isEmpty() && !host.startsWith("#")) {
                    hosts.put(host, "allow");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the allow-list " + file, e);
        }
        return SealedMap.copyOf(hosts, arena);
    }

    private static final class Shared extends ReloadingAllowList {
        private final Reloadable<SealedMap> hosts;

        Shared(Path file) {
            super(file);
            hosts = Reloadable.of(this::load);
        }

        @Override
        public boolean isAllowed(String host) {
            return hosts.read(map -> map.containsKey(host));
        }

        @Override
        public void reload() {
            hosts.reload();
        }

        @Override
        public void close() {
            hosts.close();
        }
    }

    private static final class Automatic extends ReloadingAllowList {
        private volatile SealedMap hosts;

        Automatic(Path file) {
            super(file);
            hosts = load(Arena.ofAuto());
        }

        @Override
        public boolean isAllowed(String host) {
            return hosts.containsKey(host); // the map read here stays reachable, so mapped, until this returns
        }

        @Override
        public void reload() {
            hosts = load(Arena.ofAuto());
        }

        @Override
        public void close() {
            hosts = null;
        }
    }
}
