package io.github.mseal4j;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * Run in a child JVM by {@link SealedMapTest}: builds a map of more than 4 GiB (four values of 1.1 GiB, then
 * a small entry that starts past 4 GiB) and reads back across the 4 GiB line. Prints what it found.
 */
public final class HugeMap {
    private HugeMap() {
    }

    public static void main(String[] args) {
        long valueSize = 1_100L << 20;
        SealedMap.Builder builder = SealedMap.builder();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(valueSize, 8);
            for (int i = 0; i < 4; i++) {
                value.fill((byte) ('A' + i));
                value.set(ValueLayout.JAVA_LONG_UNALIGNED, valueSize - 8, 0x0123456789abcdefL + i);
                builder.put(MemorySegment.ofArray(("big" + i).getBytes(StandardCharsets.UTF_8)), value);
            }
        }
        builder.put("small", "past the 4 GiB line");
        SealedMap map = builder.build();
        System.out.println("mapBytes=" + map.memory().byteSize());
        System.out.println("small=" + map.get("small"));
        for (int i = 0; i < 4; i++) {
            MemorySegment big = map.get(("big" + i).getBytes(StandardCharsets.UTF_8));
            long offsetInMap = big.address() - map.memory().address();
            System.out.println("big" + i + " size=" + big.byteSize() + " offset=" + offsetInMap
                + " first=" + (char) big.get(ValueLayout.JAVA_BYTE, 0)
                + " last=" + Long.toHexString(big.get(ValueLayout.JAVA_LONG_UNALIGNED, big.byteSize() - 8)));
        }
    }
}
