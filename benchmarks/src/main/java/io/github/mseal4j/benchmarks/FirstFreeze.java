package io.github.mseal4j.benchmarks;

import io.github.mseal4j.Mseal;

/**
 * A fresh JVM's first freeze, and nothing else: {@code java -cp benchmarks.jar ...FirstFreeze [bare]}, timed from
 * outside (the whole process, JVM start to exit) by {@code benchmarks/first-call.sh}, beside {@code bare}: the same
 * system calls through bare downcall handles ({@link BareFreeze}).
 */
public final class FirstFreeze {
    private FirstFreeze() {
    }

    public static void main(String[] args) throws Throwable {
        byte[] key = new byte[32];
        if (args.length > 0 && args[0].equals("bare")) {
            new BareFreeze().freeze(key, true);
        } else {
            Mseal.freeze(key);
        }
    }
}
