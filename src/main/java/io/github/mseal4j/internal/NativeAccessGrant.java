package io.github.mseal4j.internal;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Whether the JVM lets this module make restricted calls: {@code --enable-native-access} for it (or the
 * manifest's {@code Enable-Native-Access}), or, on JDK 24+, {@code --illegal-native-access=allow}, which
 * lets every module make them without a warning. The JDK does not say which mode it runs in, so the launch
 * options are read: through {@code java.management} when that module is present (it sees options from
 * {@code JDK_JAVA_OPTIONS} and argument files too), otherwise from {@code /proc/self/cmdline} and
 * {@code JDK_JAVA_OPTIONS}. Anything unreadable counts as not allowed: the library then asks for the grant.
 */
public final class NativeAccessGrant {
    private static final String OPTION = "--illegal-native-access";

    private NativeAccessGrant() {
    }

    /** Why native access is not granted to {@code module}, or empty when it is. */
    public static Optional<String> problem(Module module) {
        if (module.isNativeAccessEnabled() || illegalNativeAccessAllowed()) {
            return Optional.empty();
        }
        return Optional.of(advice(module));
    }

    /** True when the JVM was started with {@code --illegal-native-access=allow} (the last such option wins). */
    static boolean illegalNativeAccessAllowed() {
        if (Runtime.version().feature() < 24) {
            return false; // the option arrived in JDK 24
        }
        try {
            return "allow".equals(lastValue(launchOptions()));
        } catch (RuntimeException | IOException | LinkageError e) {
            return false;
        }
    }

    /** The value of the last {@code --illegal-native-access} among {@code options}, or null. */
    static String lastValue(List<String> options) {
        String value = null;
        for (int i = 0; i < options.size(); i++) {
            String option = options.get(i);
            if (option.startsWith(OPTION + "=")) {
                value = option.substring(OPTION.length() + 1);
            } else if (option.equals(OPTION) && i + 1 < options.size()) {
                value = options.get(++i);
            }
        }
        return value;
    }

    private static List<String> launchOptions() throws IOException {
        if (ModuleLayer.boot().findModule("java.management").isPresent()) {
            return Management.inputArguments();
        }
        List<String> options = new ArrayList<>();
        String environment = System.getenv("JDK_JAVA_OPTIONS");
        if (environment != null) {
            options.addAll(Arrays.asList(environment.trim().split("\\s+")));
        }
        String cmdline = new String(Files.readAllBytes(Path.of("/proc/self/cmdline")), StandardCharsets.UTF_8);
        options.addAll(Arrays.asList(cmdline.split("\0")));
        return options;
    }

    /** Loaded only when {@code java.management} is in the boot layer (the module requires it statically). */
    private static final class Management {
        static List<String> inputArguments() {
            return ManagementFactory.getRuntimeMXBean().getInputArguments();
        }
    }

    /**
     * How to grant native access to {@code module}, the one that holds mseal4j: the one flag that applies there,
     * and where it goes for the launcher that started this JVM. Here, not in {@link LibC}: asking it must link
     * nothing (LibC's initialisation links every call).
     */
    public static String advice(Module module) {
        String flag = "--enable-native-access=" + (module.isNamed() ? module.getName() : "ALL-UNNAMED");
        String where = module.isNamed() ? "module " + module.getName() + " (on the module path)"
            : "the class path (the unnamed module)";
        String how;
        if (System.getProperty("org.gradle.test.worker") != null) {
            how = "; this JVM is a Gradle test worker: add it to the test task, tasks.test { jvmArgs(\"" + flag
                + "\") }";
        } else if (System.getProperty("surefire.real.class.path") != null
                || System.getProperty("surefire.test.class.path") != null) {
            how = "; this JVM was started by Maven Surefire or Failsafe: add it to the plugin's <argLine>" + flag
                + "</argLine> (keeping what the argLine already holds)";
        } else if (module.isNamed()) {
            how = "";
        } else {
            how = " (an executable jar can say 'Enable-Native-Access: ALL-UNNAMED' in its manifest)";
        }
        return "native access is not enabled for mseal4j, which is in " + where + "; start java with " + flag + how
            + "; docs/setup.md has the snippet for each build tool and launcher";
    }
}
