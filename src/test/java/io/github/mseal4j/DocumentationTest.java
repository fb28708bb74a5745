package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The documents say what the code does. Checked where a sentence states a fact the code decides: which
 * architectures are tested, which hosts the best-effort policy covers, what a stale segment's error says.
 */
class DocumentationTest {
    private static final Path BASE = Path.of(System.getProperty("basedir", "."));

    private static String read(String path) throws IOException {
        return Files.readString(BASE.resolve(path)).replaceAll("\\s+", " ");
    }

    @Test
    void theUntestedArchitecturesAreCalledUntestedEverywhere() throws IOException {
        for (String path : new String[] {"README.md", "docs/platforms.md",
            "src/main/java/io/github/mseal4j/package-info.java"}) {
            String text = read(path);
            assertTrue(text.contains("riscv64"), path);
            assertTrue(text.matches(".*riscv64[^.|]*(not tested|untested).*"), path + " says riscv64 is not tested");
        }
    }

    @Test
    void bestEffortNamesTheHostsItCoversAndThoseItCannot() throws IOException {
        for (String path : new String[] {"README.md", "docs/platforms.md",
            "src/main/java/io/github/mseal4j/SealPolicy.java"}) {
            String text = read(path);
            assertTrue(text.contains("KERNEL_TOO_OLD") && text.contains("BLOCKED_BY_POLICY"), path);
            assertTrue(text.contains("NATIVE_ACCESS_DISABLED"), path + " says best-effort cannot help there");
            assertFalse(text.contains("apply the protections and return (one warning"), path);
        }
    }

    @Test
    void theJavadocNamesTheMessageOfAStaleBuildingSegment() throws IOException {
        String arena = read("src/main/java/io/github/mseal4j/SealedArena.java");
        assertTrue(arena.contains("Already closed"), "SealedArena's javadoc quotes the JDK's message");
    }
}
