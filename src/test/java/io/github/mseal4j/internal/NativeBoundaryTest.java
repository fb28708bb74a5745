package io.github.mseal4j.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The house rule: exactly one main source file makes restricted FFM calls, and it is LibC. */
class NativeBoundaryTest {
    private static final Path MAIN = Path.of(System.getProperty("basedir", ".")).resolve("src/main/java");
    private static final Pattern RESTRICTED = Pattern.compile(
        "downcallHandle|upcallStub|\\.reinterpret\\(|defaultLookup\\(|libraryLookup\\(|SymbolLookup\\.loaderLookup"
            + "|System\\.loadLibrary|System\\.load\\(");

    private static Map<Path, String> sources() throws IOException {
        try (Stream<Path> files = Files.walk(MAIN)) {
            return files.filter(path -> path.toString().endsWith(".java")).collect(Collectors.toMap(
                path -> MAIN.relativize(path), path -> {
                    try {
                        return Files.readString(path);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }));
        }
    }

    @Test
    void onlyLibCMakesRestrictedCalls() throws IOException {
        Map<Path, String> sources = sources();
        assertTrue(sources.size() > 5, "found the main sources under " + MAIN);
        List<Path> restricted = sources.entrySet().stream()
            .filter(entry -> RESTRICTED.matcher(entry.getValue()).find()).map(Map.Entry::getKey).sorted().toList();
        assertEquals(List.of(Path.of("io/github/mseal4j/internal/LibC.java")), restricted);
    }

    @Test
    void restrictedWarningsAreSuppressedInOnePlaceOnly() throws IOException {
        List<Path> suppressing = sources().entrySet().stream()
            .filter(entry -> entry.getValue().contains("@SuppressWarnings(\"restricted\")"))
            .map(Map.Entry::getKey).toList();
        assertEquals(List.of(Path.of("io/github/mseal4j/internal/LibC.java")), suppressing);
    }

    @Test
    void theModuleExportsOnlyTheApi() throws IOException {
        String descriptor = Files.readString(MAIN.resolve("module-info.java"));
        assertEquals(List.of("exports io.github.mseal4j;"), descriptor.lines().map(String::strip)
            .filter(line -> line.startsWith("exports") || line.startsWith("opens")).toList());
        assertTrue(!LibC.class.getModule().isExported("io.github.mseal4j.internal"), "internal is not exported");
    }
}
