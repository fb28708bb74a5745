package io.github.mseal4j;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CapabilityTest {
    @Test
    void probe() {
        System.out.println("module: " + Mseal.class.getModule() + " native=" + Mseal.class.getModule().isNativeAccessEnabled());
        System.out.println(Mseal.support());
        assertTrue(Mseal.isSupported());
    }
}
