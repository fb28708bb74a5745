package io.github.mseal4j.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs Java in a child process, for what must not happen in the test JVM: crashing, running without native
 * access, running under a seccomp filter. The child uses the test JVM's own {@code java}.
 */
public final class ChildJvm {
    private static final long TIMEOUT_MINUTES = 2;

    /** How the child ended and what it printed. */
    public record Result(int exitStatus, String stdout, String stderr) {
        /** Both streams, for assertion messages. */
        public String transcript() {
            return "exit status " + exitStatus + "\n--- stdout ---\n" + stdout + "--- stderr ---\n" + stderr;
        }
    }

    private ChildJvm() {
    }

    /** The {@code java} launcher of this JVM. */
    public static Path java() {
        return Path.of(System.getProperty("java.home"), "bin", "java");
    }

    /** The library's and the tests' compiled classes, as a class path. */
    public static String testClassPath() {
        Path base = Path.of(System.getProperty("basedir", "."));
        return base.resolve("target/classes") + java.io.File.pathSeparator + base.resolve("target/test-classes");
    }

    /** Runs {@code mainClass} on the test class path with {@code jvmOptions}. */
    public static Result runMain(List<String> jvmOptions, Class<?> mainClass, String... args) {
        List<String> command = new ArrayList<>(jvmOptions);
        command.add("-cp");
        command.add(testClassPath());
        command.add(mainClass.getName());
        command.addAll(List.of(args));
        return run(command);
    }

    /** Runs {@code java} with {@code arguments}. */
    public static Result run(List<String> arguments) {
        List<String> command = new ArrayList<>();
        command.add(java().toString());
        command.add("-Xshare:auto");
        // A child that is meant to crash (or does by mistake) writes its report under target/, not the tree.
        command.add("-XX:ErrorFile=" + Path.of(System.getProperty("basedir", "."), "target", "child-hs_err_pid%p.log"));
        // A crash whose report hangs (a lock held by the crashed thread) ends in seconds, and shows as a crash.
        command.add("-XX:ErrorLogTimeout=10");
        command.addAll(arguments);
        try {
            Process process = new ProcessBuilder(command).start();
            process.getOutputStream().close();
            CompletableFuture<String> out = drain(process.getInputStream());
            CompletableFuture<String> err = drain(process.getErrorStream());
            if (!process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                process.destroyForcibly().waitFor();
                throw new AssertionError("child JVM did not finish within " + TIMEOUT_MINUTES + " minutes: " + command
                    + "\n" + new Result(-1, out.join(), err.join()).transcript());
            }
            return new Result(process.exitValue(), out.join(), err.join());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static CompletableFuture<String> drain(InputStream stream) {
        return CompletableFuture.supplyAsync(() -> {
            try (stream) {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }
}
