/**
 * mseal4j: seal memory with Linux {@code mseal(2)} from Java, through the Foreign Function and Memory API.
 * Exports only {@link io.github.mseal4j}; needs native access:
 * {@code --enable-native-access=io.github.mseal4j}.
 */
module io.github.mseal4j {
    // JDK Flight Recorder events for seals, protection changes and failed system calls; part of the JDK.
    requires jdk.jfr;

    exports io.github.mseal4j;
}
