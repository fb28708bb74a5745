package io.github.mseal4j.internal;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * UTF-8 checks: the length of a string's encoding, read char by char without encoding it, which also finds a
 * lone surrogate (UTF-8 cannot encode one, and an encoder would write {@code '?'} for it, which is another
 * string); and whether bytes in memory are well-formed UTF-8.
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
