package io.github.mseal4j.doctor;

import java.io.File;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The jar's entry point, compiled for Java 8 (class file 52) so that any Java from 8 on can load it: on Java 22 or
 * newer it runs the {@link Doctor}; on an older one it says which Java the library needs, which one this is, and
 * where a newer one may be found on this machine, instead of the JVM's {@code UnsupportedClassVersionError}. Written
 * in Java 8's language and API only.
 */
public final class Launcher {
    /** The Java the library needs (the Foreign Function and Memory API, final in 22). */
    static final int NEEDED = 22;
    /** The exit status for "not available here", as the doctor's. */
    static final int UNAVAILABLE = 2;

    private Launcher() {
    }

    /**
     * Runs the doctor, or says which Java it needs.
     *
     * @param args the doctor's arguments
     * @throws Exception what the doctor throws
     */
    public static void main(String[] args) throws Exception {
        int feature = feature(System.getProperty("java.specification.version", "0"));
        if (feature < NEEDED) {
            System.err.println(tooOld(feature, System.getProperty("java.version"), System.getProperty("java.home"),
                candidates()));
            System.exit(UNAVAILABLE);
            return;
        }
        try {
            Class.forName("io.github.mseal4j.doctor.Doctor").getMethod("main", String[].class)
                .invoke(null, (Object) args);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof Exception) {
                throw (Exception) cause;
            }
            throw (Error) cause;
        }
    }

    /** {@code 1.8} is 8, {@code 17} is 17. */
    static int feature(String specification) {
        String version = specification.startsWith("1.") ? specification.substring(2) : specification;
        int end = 0;
        while (end < version.length() && Character.isDigit(version.charAt(end))) {
            end++;
        }
        return end == 0 ? 0 : Integer.parseInt(version.substring(0, end));
    }

    /** What to say on an old Java: which is needed, which this is, and the newer ones found. */
    static String tooOld(int feature, String version, String home, List<String> found) {
        StringBuilder text = new StringBuilder();
        text.append("mseal4j needs Java ").append(NEEDED).append(" or newer (the Foreign Function and Memory API);")
            .append(" this is Java ").append(version).append(" (").append(home).append(").");
        if (found.isEmpty()) {
            text.append(" No Java ").append(NEEDED).append("+ was found in the usual places (JAVA_HOME,")
                .append(" /usr/lib/jvm, /usr/java, /opt/java, /Library/Java/JavaVirtualMachines, ~/.sdkman,")
                .append(" ~/.jdks): install one (for example Temurin ").append(NEEDED).append(" or 25) and run this")
                .append(" jar with its java.");
        } else {
            text.append(" Java ").append(NEEDED).append("+ found here; run this jar with one of them:");
            for (String candidate : found) {
                text.append(System.lineSeparator()).append("  ").append(candidate);
            }
        }
        return text.toString();
    }

    /** The JDKs of {@value #NEEDED}+ found in the usual places, as {@code <java> (<version>)}. */
    static List<String> candidates() {
        List<File> homes = new ArrayList<File>();
        String javaHome = System.getenv("JAVA_HOME");
        if (javaHome != null) {
            homes.add(new File(javaHome));
        }
        String user = System.getProperty("user.home", "");
        for (String parent : new String[] {"/usr/lib/jvm", "/usr/java", "/opt/java", "/usr/local/java",
            "/Library/Java/JavaVirtualMachines", user + "/.sdkman/candidates/java", user + "/.jdks"}) {
            File[] children = new File(parent).listFiles();
            if (children != null) {
                Arrays.sort(children);
                homes.addAll(Arrays.asList(children));
            }
        }
        List<String> found = new ArrayList<String>();
        for (File home : homes) {
            for (File candidate : new File[] {home, new File(home, "Contents/Home")}) {
                String version = releaseVersion(candidate);
                File java = new File(candidate, "bin/java");
                String entry = java.getPath() + " (" + version + ")";
                if (version != null && feature(version) >= NEEDED && java.canExecute() && !found.contains(entry)) {
                    found.add(entry);
                }
            }
        }
        return found;
    }

    /** {@code JAVA_VERSION} of a JDK's {@code release} file, or null. */
    private static String releaseVersion(File home) {
        File release = new File(home, "release");
        if (!release.isFile()) {
            return null;
        }
        try {
            for (String line : Files.readAllLines(release.toPath(), StandardCharsets.UTF_8)) {
                if (line.startsWith("JAVA_VERSION=")) {
                    return line.substring("JAVA_VERSION=".length()).replace("\"", "").trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return null;
    }
}
