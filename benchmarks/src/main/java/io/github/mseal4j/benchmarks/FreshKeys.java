package io.github.mseal4j.benchmarks;

import java.nio.charset.StandardCharsets;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * The next query of a lookup benchmark, per thread (threads share no counter): a fresh {@code String} made from the
 * query's bytes, equal to the map's key but not the same object, its hash not cached, like a key just read from a
 * request.
 */
@State(Scope.Thread)
public class FreshKeys {
    int next;

    /** The next of {@code queries} (cycling) as a fresh string. */
    String next(byte[][] queries) {
        int index = next;
        next = index + 1 == queries.length ? 0 : index + 1;
        return new String(queries[index], StandardCharsets.ISO_8859_1);
    }
}
