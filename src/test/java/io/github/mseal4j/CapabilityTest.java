package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.mseal4j.testing.Kernel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * What this host must be able to do. On 64-bit x86 or ARM Linux 6.10+, sealing must work: a silent fallback
 * to "unsupported" fails the build instead of skipping every sealing test.
 */
class CapabilityTest {

    @Test
    void theTestJvmGrantsNativeAccessToTheModule() {
        Module module = Mseal.class.getModule();
        assertTrue(module.isNamed(), "the tests run on the module path, as " + module);
        assertTrue(module.isNativeAccessEnabled(),
            "surefire must start the tests with --enable-native-access=io.github.mseal4j; " + Mseal.support().reason());
    }

    @Test
    void sealingIsAvailableOnLinux610OrNewerOn64BitX86AndArm() {
        System.out.println("mseal support here: " + Mseal.support());
        assumeTrue(Kernel.atLeast(6, 10) && Kernel.isMainstreamArchitecture(),
            "not Linux 6.10+ on x86_64 or aarch64 (" + System.getProperty("os.name") + " "
                + System.getProperty("os.version") + ", " + System.getProperty("os.arch") + "): " + Mseal.support().reason());
        assertTrue(Mseal.isSupported(), Mseal.support().reason());
        assertEquals(SealSupport.Status.AVAILABLE, Mseal.support().status());
    }

    @Test
    void theProbeRunsOnce() {
        assertSame(Mseal.support(), Mseal.support());
    }

    @Test
    void thePageSizeIsTheKernels() throws IOException {
        // Every mapping's KernelPageSize line in smaps states the base page size in kB.
        String line = Files.readAllLines(Path.of("/proc/self/smaps")).stream()
            .filter(l -> l.startsWith("KernelPageSize:")).findFirst().orElseThrow();
        long kernelPageSize = Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        assertEquals(kernelPageSize, Mseal.pageSize());
        assertEquals(1, Long.bitCount(Mseal.pageSize()), "a power of two");
    }
}
