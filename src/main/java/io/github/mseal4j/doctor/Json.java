package io.github.mseal4j.doctor;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;

/** A minimal JSON writer for the doctor's report: objects, arrays, strings, numbers and booleans. */
final class Json {
    private final StringBuilder out = new StringBuilder();
    /** Per open object or array: whether it already has a member (so the next one needs a comma). */
    private final Deque<Boolean> hasMember = new ArrayDeque<>();
    private boolean afterName;

    Json begin() {
        separate();
        out.append('{');
        hasMember.push(false);
        return this;
    }

    Json end() {
        hasMember.pop();
        out.append('}');
        return this;
    }

    Json beginArray() {
        separate();
        out.append('[');
        hasMember.push(false);
        return this;
    }

    Json endArray() {
        hasMember.pop();
        out.append(']');
        return this;
    }

    Json name(String name) {
        separate();
        string(name);
        out.append(':');
        afterName = true;
        return this;
    }

    Json field(String name, String value) {
        name(name);
        separate();
        string(value);
        return this;
    }

    Json field(String name, long value) {
        name(name);
        separate();
        out.append(value);
        return this;
    }

    Json field(String name, boolean value) {
        name(name);
        separate();
        out.append(value);
        return this;
    }

    private void separate() {
        if (afterName) {
            afterName = false;
            return;
        }
        if (!hasMember.isEmpty()) {
            if (hasMember.peek()) {
                out.append(',');
            }
            hasMember.pop();
            hasMember.push(true);
        }
    }

    private void string(String value) {
        out.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    @Override
    public String toString() {
        return out.toString();
    }
}
