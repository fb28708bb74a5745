package io.github.mseal4j.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class ErrnoTest {

    @ParameterizedTest
    @CsvSource({"1, EPERM", "4, EINTR", "12, ENOMEM", "14, EFAULT", "17, EEXIST", "22, EINVAL", "38, ENOSYS",
        "95, EOPNOTSUPP", "0, errno 0", "-3, errno -3", "200, errno 200", "36, ENAMETOOLONG"})
    void namesAreTheLinuxSymbols(int errno, String name) {
        assertEquals(name, Errno.name(errno));
    }

    record Remedy(String operation, int errno, String mentions) {
    }

    static Stream<Remedy> remedies() {
        return Stream.of(
            new Remedy("mseal", Errno.ENOSYS, "6.10"),
            new Remedy("mseal", Errno.EPERM, "seccomp"),
            new Remedy("mseal", Errno.ENOMEM, "vm.max_map_count (" + Errno.maxMapCount() + " mappings)"),
            new Remedy("mseal", Errno.ENOMEM, "partly sealed"),
            new Remedy("mmap", Errno.ENOMEM, "vm.max_map_count"),
            new Remedy("mprotect", Errno.EPERM, "sealed"),
            new Remedy("munmap", Errno.EPERM, "until the process exits"),
            new Remedy("mprotect", Errno.ENOMEM, "not mapped"),
            new Remedy("mprotect", Errno.ENOMEM, "vm.overcommit_memory"),
            new Remedy("mprotect", Errno.ENOMEM, "CommitLimit"),
            new Remedy("mmap", Errno.ENOMEM, "CommitLimit"),
            new Remedy("munmap", Errno.ENOMEM, "split"),
            new Remedy("mseal", Errno.EINVAL, "report"),
            new Remedy("mremap", Errno.EFAULT, "VMA boundary"),
            new Remedy("ftruncate", Errno.EFBIG, "RLIMIT_FSIZE (ulimit -f, now "));
    }

    /** As the library prints a call that maps or makes private memory writable. */
    private static final String PRIVATE_WRITABLE = "PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS";

    @ParameterizedTest
    @MethodSource("remedies")
    void remediesSayWhatToDo(Remedy remedy) {
        // 64 TiB: more than RAM and swap, so the commit limit may refuse it under any overcommit mode but 1.
        String text = Errno.remedy(remedy.operation(), remedy.errno(), 1L << 46, PRIVATE_WRITABLE);
        assertTrue(text.contains(remedy.mentions()), "'" + text + "' mentions '" + remedy.mentions() + "'");
    }

    @Test
    void theHeuristicOvercommitModeIsNotBlamedForAMappingSmallerThanMemory() {
        assumeTrue(Errno.overcommitMode().equals("0"), "vm.overcommit_memory=" + Errno.overcommitMode());
        for (String operation : new String[] {"mmap", "mprotect"}) {
            String text = Errno.remedy(operation, Errno.ENOMEM, 2L << 20, PRIVATE_WRITABLE);
            assertTrue(!text.contains("commit limit") && text.contains("vm.max_map_count"), text);
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {"mmap; PROT_READ|PROT_WRITE, MAP_SHARED, memfd", "mmap; PROT_NONE, MAP_PRIVATE|"
        + "MAP_ANONYMOUS|MAP_NORESERVE", "mprotect; PROT_READ", "mprotect; PROT_READ|PROT_WRITE of a MAP_SHARED memfd mapping"})
    void theCommitLimitIsNamedOnlyForMemoryItCharges(String operation, String arguments) {
        String text = Errno.remedy(operation, Errno.ENOMEM, 4096, arguments);
        assertTrue(!text.contains("commit limit") && text.contains("vm.max_map_count"), text);
    }

    @ParameterizedTest
    @CsvSource({"0, 0x0", "4096, 0x1000", "140737488351232, 0x7ffffffff000", "-1, 0xffffffffffffffff"})
    void addressesPrintInHex(long address, String text) {
        assertEquals(text, Errno.hex(address));
    }

    @Test
    void theMapCountLimitIsTheSysctlsWholeValue() throws java.io.IOException {
        Process process = new ProcessBuilder("cat", "/proc/sys/vm/max_map_count").start();
        String byCat = new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII)
            .strip();
        assertEquals(byCat, Errno.maxMapCount());
        assertTrue(Long.parseLong(Errno.maxMapCount()) >= 1000, Errno.maxMapCount());
    }

    @ParameterizedTest
    @CsvSource({"mprotect, 2", "munmap, 3"})
    void unknownCombinationsHaveNoRemedy(String operation, int errno) {
        assertEquals("", Errno.remedy(operation, errno, 4096, ""));
    }

    /**
     * EPERM from mmap, madvise and fcntl names only the causes that can apply to that call on that memory: a
     * mapping the kernel places itself never meets a seal; a mapping over memory may; a read-only map of a
     * write-sealed memfd is refused by some kernels through a read-write descriptor, by none through a read-only one.
     */
    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
        "mmap; 1; PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS; refused a new mapping; the range is sealed",
        "mmap; 1; PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED|MAP_NORESERVE; the range is sealed; Linux before 6.7",
        "mmap; 1; PROT_READ, MAP_SHARED|MAP_FIXED, memfd opened read-write; Linux before 6.7 and 6.12.0 to 6.12.8;"
            + " the range is sealed",
        "mmap; 1; PROT_READ, MAP_SHARED|MAP_FIXED, memfd opened read-only; refused the call: every kernel; 6.12",
        "madvise; 1; MADV_DONTFORK; on sealed read-only private memory; the range is sealed",
        "fcntl; 16; memfd 5, F_ADD_SEALS, F_SEAL_WRITE; vmsplice; a bug",
        "fcntl; 16; memfd 5, F_ADD_SEALS, F_SEAL_WRITE; a shared read-write mapping; a bug",
        "open; 2; \"/proc/self/fd/5\", O_RDONLY|O_CLOEXEC|O_NOCTTY; /proc is not mounted; sealed"})
    void refusalsNameTheCausesThatApplyToThatCall(String operation, int errno, String arguments, String names,
                                                    String notNames) {
        String text = Errno.remedy(operation, errno, 4096, arguments);
        assertTrue(text.contains(names) && !text.contains(notNames), "'" + text + "' names '" + names + "', not '"
            + notNames + "'");
    }
}
