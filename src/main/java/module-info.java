/**
 * mseal4j: seal memory with Linux {@code mseal(2)} from Java, through the Foreign Function and Memory API.
 * Exports only {@link io.github.mseal4j}; needs native access:
 * {@code --enable-native-access=io.github.mseal4j}.
 */
module io.github.mseal4j {
    // Optional. JDK Flight Recorder events for seals, protection changes and failed system calls, recorded
    // when jdk.jfr is present (it is in every full JDK); a jlink image without it works, with no events.
    requires static jdk.jfr;
    // Optional. Reads the launch options, to honour --illegal-native-access=allow; without it the library
    // reads /proc/self/cmdline instead.
    requires static java.management;

    exports io.github.mseal4j;
}
