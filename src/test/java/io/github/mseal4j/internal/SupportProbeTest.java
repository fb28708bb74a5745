package io.github.mseal4j.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.mseal4j.SealSupport;
import io.github.mseal4j.SealSupport.Status;
import io.github.mseal4j.internal.SupportProbe.Host;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The probe's verdict for every outcome, each naming its cause. */
class SupportProbeTest {
    private static final Host LINUX = new Host("Linux", "amd64", 64, "6.18.44", Optional.empty());
    private static final int THROWS = -1;

    /**
     * One row: the host, what the probe call returns (an errno, or {@code THROWS}), and what the verdict must
     * say: its status, words its reason must contain, and whether the probe was made at all.
     */
    record Row(String name, Host host, int probeResult, Status status, List<String> reasonMentions,
               boolean probes) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Row> rows() {
        return Stream.of(
            new Row("mseal(0,0,0) returns 0", LINUX, 0, Status.AVAILABLE, List.of("available", "6.18.44"), true),
            new Row("aarch64 returns 0", new Host("Linux", "aarch64", 64, "6.12.1", Optional.empty()), 0,
                Status.AVAILABLE, List.of("aarch64"), true),
            new Row("ENOSYS: kernel older than 6.10", new Host("Linux", "amd64", 64, "6.8.0-1017-azure", Optional.empty()),
                Errno.ENOSYS, Status.KERNEL_TOO_OLD,
                List.of("this kernel (6.8.0-1017-azure) has no mseal", "6.10 or newer", "ENOSYS"), true),
            new Row("EPERM: seccomp or LSM", LINUX, Errno.EPERM, Status.BLOCKED_BY_POLICY,
                List.of("seccomp", "security", "policy", "EPERM"), true),
            new Row("EINVAL: anything else", LINUX, Errno.EINVAL, Status.PROBE_FAILED, List.of("EINVAL", "errno 22"), true),
            new Row("ENOMEM: anything else", LINUX, Errno.ENOMEM, Status.PROBE_FAILED, List.of("ENOMEM"), true),
            new Row("the call cannot be made", LINUX, THROWS, Status.PROBE_FAILED,
                List.of("could not be made", "no 'syscall' symbol"), true),
            new Row("native access not granted",
                new Host("Linux", "amd64", 64, "6.18.44", Optional.of(NativeAccessGrant.advice(
                    ClassLoader.getSystemClassLoader().getUnnamedModule()))),
                0, Status.NATIVE_ACCESS_DISABLED,
                List.of("native access is not enabled", "--enable-native-access=ALL-UNNAMED", "docs/setup.md"), false),
            new Row("not Linux", new Host("Mac OS X", "aarch64", 64, "24.1", Optional.empty()), 0,
                Status.NOT_LINUX, List.of("only on Linux", "Mac OS X"), false),
            new Row("32-bit JVM", new Host("Linux", "arm", 32, "6.18", Optional.empty()), 0, Status.NOT_64_BIT,
                List.of("64-bit", "32-bit"), false),
            new Row("alpha numbers it 572", new Host("Linux", "alpha", 64, "6.18", Optional.empty()), 0,
                Status.UNKNOWN_ARCHITECTURE, List.of("alpha", "462"), false),
            new Row("MIPS adds an ABI base", new Host("Linux", "mips64el", 64, "6.18", Optional.empty()), 0,
                Status.UNKNOWN_ARCHITECTURE, List.of("mips64el", "MIPS"), false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void theVerdictNamesTheCause(Row row) {
        AtomicInteger calls = new AtomicInteger();
        SealSupport verdict = SupportProbe.verdict(row.host(), () -> {
            calls.incrementAndGet();
            if (row.probeResult() == THROWS) {
                throw new UnsupportedOperationException("the C library of this system has no 'syscall' symbol");
            }
            return row.probeResult();
        });
        assertEquals(row.status(), verdict.status(), verdict.reason());
        assertEquals(row.status() == Status.AVAILABLE, verdict.available());
        for (String mention : row.reasonMentions()) {
            assertTrue(verdict.reason().contains(mention), "'" + verdict.reason() + "' mentions '" + mention + "'");
        }
        assertEquals(row.probes() ? 1 : 0, calls.get(), "probe calls");
    }
}
