package io.github.mseal4j.testing;

import io.github.mseal4j.Mseal;
import net.jqwik.api.lifecycle.LifecycleContext;
import net.jqwik.api.lifecycle.SkipExecutionHook;

/**
 * Skips a jqwik container where mseal is not available, printing why. On Linux 6.10+ x86_64 and aarch64
 * the capability test fails instead, so a host that should seal cannot quietly skip.
 */
public final class RequiresMseal implements SkipExecutionHook {
    @Override
    public SkipResult shouldBeSkipped(LifecycleContext context) {
        if (Mseal.isSupported()) {
            return SkipResult.doNotSkip();
        }
        String reason = "mseal is not available here: " + Mseal.support().reason();
        System.out.println("SKIPPED " + context.label() + ": " + reason);
        return SkipResult.skip(reason);
    }
}
