package io.github.mseal4j.testing;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Tuple;

/**
 * Strings for the UTF-8 paths: well-formed ones of every kind (ASCII, two- and three-byte BMP characters,
 * supplementary characters as surrogate pairs, U+0000 and U+FFFF), mixed in runs so that ASCII stretches
 * start and end at every position relative to the 8-char steps of the fast paths; and malformed ones, with a
 * lone surrogate somewhere.
 */
public final class Unicode {
    private Unicode() {
    }

    /** One code point, of a kind drawn evenly enough that every kind occurs in every run. */
    public static Arbitrary<Integer> codePoints() {
        return Arbitraries.frequencyOf(
            Tuple.of(12, Arbitraries.integers().between(0x20, 0x7e)),
            Tuple.of(1, Arbitraries.of(0, 0x7f, 0x80, 0x7ff, 0x800, 0xfffd, 0xffff, 0x10000, 0x10ffff)),
            Tuple.of(2, Arbitraries.integers().between(0x80, 0x7ff)),
            Tuple.of(2, Arbitraries.integers().between(0x800, 0xd7ff)),
            Tuple.of(1, Arbitraries.integers().between(0xe000, 0xffff)),
            Tuple.of(2, Arbitraries.integers().between(0x10000, 0x10ffff)));
    }

    /** Well-formed strings of 0 to {@code maxCodePoints} code points; mostly ASCII, as keys are. */
    public static Arbitrary<String> strings(int maxCodePoints) {
        Arbitrary<String> ascii = Arbitraries.strings().withCharRange('!', '~').ofMaxLength(maxCodePoints);
        Arbitrary<String> mixed = codePoints().list().ofMaxSize(maxCodePoints).map(points -> {
            StringBuilder text = new StringBuilder();
            points.forEach(text::appendCodePoint);
            return text.toString();
        });
        return Arbitraries.frequencyOf(Tuple.of(1, ascii), Tuple.of(2, mixed));
    }

    /** A well-formed string with one lone surrogate (high or low) put in at some position. */
    public static Arbitrary<String> malformed(int maxCodePoints) {
        return strings(maxCodePoints).flatMap(text -> Arbitraries.integers().between(0, text.length())
            .flatMap(at -> Arbitraries.of('\ud800', '\udbff', '\udc00', '\udfff').map(lone -> {
                // Inserting between the halves of a pair would only move the problem; keep pairs whole.
                int position = at > 0 && at < text.length() && Character.isLowSurrogate(text.charAt(at)) ? at + 1 : at;
                String candidate = text.substring(0, position) + lone + text.substring(position);
                return candidate;
            })))
            .filter(text -> io.github.mseal4j.internal.Utf8.length(text) < 0);
    }
}
