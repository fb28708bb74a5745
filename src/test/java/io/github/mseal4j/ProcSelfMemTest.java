package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mseal4j.testing.ProcMem;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * What sealing does not stop, measured: the process can write into its own sealed read-only memory through
 * {@code /proc/self/mem} (the kernel's FOLL_FORCE), unless the kernel was booted with
 * {@code proc_mem.force_override=never}. The threat model (docs/threat-model.md) states this result.
 */
class ProcSelfMemTest {

    @Test
    void aWriteThroughProcSelfMemReachesSealedReadOnlyMemoryOnADefaultKernel() throws IOException {
        assumeTrue(Mseal.isSupported(), Mseal.support().reason());
        String cmdline = Files.readString(Path.of("/proc/cmdline"));
        MappedRegion region = MappedRegion.allocate(Mseal.pageSize());
        region.segment().setString(0, "allow: api.example.com");
        MemorySegment sealed = region.sealReadOnly();
        byte[] forged = "allow: evil.example.org".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

        if (cmdline.contains("proc_mem.force_override=never")) {
            assertThrows(UncheckedIOException.class, () -> ProcMem.write(region.address(), forged));
            assertEquals("allow: api.example.com", sealed.getString(0));
            System.out.println("measured: /proc/self/mem writes are refused here (proc_mem.force_override=never)");
        } else {
            ProcMem.write(region.address(), forged);
            assertArrayEquals(forged, sealed.asSlice(0, forged.length).toArray(ValueLayout.JAVA_BYTE),
                "the write reached the sealed read-only page");
            System.out.println("measured: a write through /proc/self/mem changed sealed read-only memory on Linux "
                + System.getProperty("os.version") + " (boot options: " + cmdline.strip() + ")");
        }
    }
}
