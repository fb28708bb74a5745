/**
 * An application that seals its configuration with mseal4j. On the module path it grants native access to the
 * library's module: {@code java --enable-native-access=io.github.mseal4j ...}.
 */
module io.github.mseal4j.example {
    requires io.github.mseal4j;
}
