package io.github.mseal4j.testing;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;

/** Test helper (not API): the C library functions the test helpers call that the library itself does not. */
@SuppressWarnings("restricted") // test code of its own; the library's single native seam is internal.LibC
final class Downcalls {
    private Downcalls() {
    }

    /** A downcall handle for {@code symbol} of the C library. */
    static MethodHandle of(String symbol, FunctionDescriptor descriptor, Linker.Option... options) {
        Linker linker = Linker.nativeLinker();
        return linker.downcallHandle(linker.defaultLookup().find(symbol).orElseThrow(), descriptor, options);
    }
}
