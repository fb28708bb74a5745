package io.github.mseal4j.internal;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * UTF-8 without encoding: the length of a string's encoding, whether it is well-formed, and whether it equals
 * bytes in memory, all read char by char from the {@code String} (no allocation; 8 ASCII chars per step).
 * A lone surrogate cannot be encoded in UTF-8: {@link #length} reports it and {@link #equalsBytes} never
 * matches it, so a malformed string can never be taken for another.
 */
public final class Utf8 {
    private static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Utf8() {
    }

    /**
     * The length of {@code text} in UTF-8, or, if it holds a lone surrogate, {@code -1 - index} of the first.
     */
    public static long length(String text) {
        int n = text.length();
        long bytes = 0;
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                bytes++;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (!Character.isSurrogate(c)) {
                bytes += 3;
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else {
                return -1 - i;
            }
        }
        return bytes;
    }

    /** True when every char of {@code text} is ASCII, so its UTF-8 encoding is its chars, one byte each. */
    public static boolean isAscii(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) >= 0x80) {
                return false;
            }
        }
        return true;
    }

    /**
     * True when {@code [offset, offset + length)} of {@code data} holds exactly the UTF-8 encoding of
     * {@code text}. False for any string with a lone surrogate.
     */
    public static boolean equalsBytes(MemorySegment data, long offset, long length, String text) {
        int n = text.length();
        int i = 0;
        long j = 0;
        for (; i + 8 <= n && j + 8 <= length; i += 8, j += 8) {
            long c0 = text.charAt(i);
            long c1 = text.charAt(i + 1);
            long c2 = text.charAt(i + 2);
            long c3 = text.charAt(i + 3);
            long c4 = text.charAt(i + 4);
            long c5 = text.charAt(i + 5);
            long c6 = text.charAt(i + 6);
            long c7 = text.charAt(i + 7);
            if ((c0 | c1 | c2 | c3 | c4 | c5 | c6 | c7) >= 0x80) {
                break;
            }
            long word = c0 | c1 << 8 | c2 << 16 | c3 << 24 | c4 << 32 | c5 << 40 | c6 << 48 | c7 << 56;
            if (word != data.get(LONG_LE, offset + j)) {
                return false;
            }
        }
        for (; i < n; i++) {
            int c = text.charAt(i);
            if (c < 0x80) {
                if (j >= length || data.get(ValueLayout.JAVA_BYTE, offset + j) != (byte) c) {
                    return false;
                }
                j++;
                continue;
            }
            int cp;
            int count;
            if (c < 0x800) {
                cp = c;
                count = 2;
            } else if (!Character.isSurrogate((char) c)) {
                cp = c;
                count = 3;
            } else if (Character.isHighSurrogate((char) c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
                cp = Character.toCodePoint((char) c, text.charAt(++i));
                count = 4;
            } else {
                return false; // not encodable: matches nothing
            }
            if (j + count > length) {
                return false;
            }
            for (int k = 0; k < count; k++) {
                int shift = 6 * (count - 1 - k);
                int expected = k == 0 ? (count == 2 ? 0xc0 : count == 3 ? 0xe0 : 0xf0) | cp >> shift
                    : 0x80 | (cp >> shift & 0x3f);
                if (data.get(ValueLayout.JAVA_BYTE, offset + j + k) != (byte) expected) {
                    return false;
                }
            }
            j += count;
        }
        return j == length;
    }

    /**
     * True when {@code [offset, offset + length)} of {@code data} is well-formed UTF-8: no overlong forms, no
     * surrogates, nothing past U+10FFFF, nothing cut short.
     */
    public static boolean isWellFormed(MemorySegment data, long offset, long length) {
        long end = offset + length;
        long i = offset;
        while (i < end) {
            if (i + 8 <= end && (data.get(LONG_LE, i) & 0x8080808080808080L) == 0) {
                i += 8; // eight ASCII bytes
                continue;
            }
            int b = data.get(ValueLayout.JAVA_BYTE, i) & 0xff;
            if (b < 0x80) {
                i++;
                continue;
            }
            int count;
            int min;
            int cp;
            if (b >= 0xc2 && b <= 0xdf) {
                count = 2;
                min = 0x80;
                cp = b & 0x1f;
            } else if (b >= 0xe0 && b <= 0xef) {
                count = 3;
                min = 0x800;
                cp = b & 0x0f;
            } else if (b >= 0xf0 && b <= 0xf4) {
                count = 4;
                min = 0x10000;
                cp = b & 0x07;
            } else {
                return false;
            }
            if (i + count > end) {
                return false;
            }
            for (int k = 1; k < count; k++) {
                int next = data.get(ValueLayout.JAVA_BYTE, i + k) & 0xff;
                if ((next & 0xc0) != 0x80) {
                    return false;
                }
                cp = cp << 6 | next & 0x3f;
            }
            if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
                return false;
            }
            i += count;
        }
        return true;
    }
}
