package io.github.mseal4j.testing;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The running kernel's version, and which generation of mseal semantics it has (see docs/semantics.md). */
public final class Kernel {

    /** How a kernel treats operations on ranges that mix sealed and unsealed mappings. */
    public enum Era {
        /** 6.10 and 6.11: every call checks the whole range up front and changes nothing on EPERM. */
        PRE_CHECK,
        /** 6.12 to 6.16: mprotect and madvise stop at the first sealed mapping, after changing those before. */
        IN_LOOP,
        /** 6.17 and later: as IN_LOOP, and mremap moves of several mappings stop at the first sealed one. */
        MULTI_VMA_MREMAP
    }

    private static final Pattern VERSION = Pattern.compile("^(\\d+)\\.(\\d+)");

    private Kernel() {
    }

    /** {@code major * 1000 + minor} of {@code os.version}, e.g. 6018 for 6.18.44. */
    public static int version() {
        Matcher matcher = VERSION.matcher(System.getProperty("os.version", ""));
        if (!matcher.find()) {
            throw new IllegalStateException("cannot parse os.version " + System.getProperty("os.version"));
        }
        return Integer.parseInt(matcher.group(1)) * 1000 + Integer.parseInt(matcher.group(2));
    }

    /** True when the kernel is at least {@code major.minor}. */
    public static boolean atLeast(int major, int minor) {
        return System.getProperty("os.name", "").equals("Linux") && version() >= major * 1000 + minor;
    }

    /** The era of the running kernel; only meaningful on 6.10+. */
    public static Era era() {
        int version = version();
        if (version >= 6017) {
            return Era.MULTI_VMA_MREMAP;
        }
        return version >= 6012 ? Era.IN_LOOP : Era.PRE_CHECK;
    }

    /** True on 64-bit x86 and ARM Linux, where mseal must work on 6.10+. */
    public static boolean isMainstreamArchitecture() {
        String arch = System.getProperty("os.arch", "");
        return arch.equals("amd64") || arch.equals("x86_64") || arch.equals("aarch64");
    }
}
