package io.github.mseal4j.example;

import io.github.mseal4j.Mseal;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Seals a sample configuration and shows that it is sealed. Exit status: 0 sealed, 2 sealing is not available
 * here (the reason is printed).
 */
public final class Main {
    /** The configuration this example seals. */
    static final String SAMPLE = """
        server.port=8443
        tls.protocols=TLSv1.3
        allowed.hosts=api.example.com, cdn.example.com
        """;

    private Main() {
    }

    /**
     * Runs the example.
     *
     * @param args ignored
     */
    public static void main(String[] args) {
        System.exit(run(System.out));
    }

    static int run(PrintStream out) {
        if (!Mseal.isSupported()) {
            out.println("mseal is not available here: " + Mseal.support().reason());
            return 2;
        }
        byte[] key = "example-api-key-0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
        SealedConfig config = SealedConfig.seal(SAMPLE, key);
        Arrays.fill(key, (byte) 0); // keep only the sealed copy
        out.println(config + ", page size " + Mseal.pageSize());
        out.println("server.port = " + config.setting("server.port"));
        out.println("api.example.com allowed: " + config.isAllowed("api.example.com"));
        out.println("evil.example.com allowed: " + config.isAllowed("evil.example.com"));
        out.println("sealed: " + config.isSealed());
        return config.isSealed() ? 0 : 1;
    }
}
