package io.github.mseal4j.example;

import io.github.mseal4j.MappedRegion;
import io.github.mseal4j.SealedArena;
import io.github.mseal4j.SealedMap;
import java.io.IOException;
import java.io.StringReader;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * An application's configuration, sealed at startup: nothing in the process can change it afterwards.
 *
 * <ul>
 *   <li>the properties text, as it was read, in a {@link MappedRegion} sealed read-only;</li>
 *   <li>the settings parsed from it, in a {@link SealedMap};</li>
 *   <li>the allow-list of hosts named by {@code allowed.hosts}, in a second {@link SealedMap};</li>
 *   <li>the API key, in a {@link SealedArena}: writable while it is copied in, then sealed.</li>
 * </ul>
 *
 * <p>Sealed memory is never freed, so an application seals things like these once, at startup.
 */
public final class SealedConfig {
    private final MappedRegion textRegion;
    private final MemorySegment text;
    private final SealedMap settings;
    private final SealedMap allowList;
    private final SealedArena secrets;
    private final MemorySegment apiKey;

    private SealedConfig(MappedRegion textRegion, MemorySegment text, SealedMap settings, SealedMap allowList,
                         SealedArena secrets, MemorySegment apiKey) {
        this.textRegion = textRegion;
        this.text = text;
        this.settings = settings;
        this.allowList = allowList;
        this.secrets = secrets;
        this.apiKey = apiKey;
    }

    /**
     * Seals {@code propertiesText} and what is derived from it, and {@code apiKey}.
     *
     * @param propertiesText the configuration, in {@link Properties} format
     * @param apiKey the secret; the caller should clear its copy afterwards
     * @return the sealed configuration
     * @throws UnsupportedOperationException if mseal is not available here (see {@code Mseal.support()})
     */
    public static SealedConfig seal(String propertiesText, byte[] apiKey) {
        // 1. The text itself: one private mapping, written once, then read-only and sealed. The read-only view
        //    stays valid after close(): sealed memory is never unmapped.
        byte[] bytes = propertiesText.getBytes(StandardCharsets.UTF_8);
        MemorySegment text;
        MappedRegion region;
        try (MappedRegion r = MappedRegion.allocate(bytes.length + 1)) { // + 1: the NUL that ends the string
            r.segment().setString(0, propertiesText);
            text = r.sealReadOnly();
            region = r;
        }

        // 2. The settings, parsed from the sealed text (not from the caller's string, which may have changed).
        Map<String, String> parsed = parse(text.getString(0));
        SealedMap settings = SealedMap.copyOf(parsed);

        // 3. The allow-list: one entry per host.
        SealedMap.Builder hosts = SealedMap.builder();
        for (String host : parsed.getOrDefault("allowed.hosts", "").split(",")) {
            if (!host.isBlank()) {
                hosts.put(host.strip(), "allow");
            }
        }
        SealedMap allowList = hosts.build();

        // 4. The secret: copied into the arena, then the arena is sealed, and only the sealed view is kept.
        SealedArena secrets = SealedArena.create();
        MemorySegment building = secrets.allocateFrom(ValueLayout.JAVA_BYTE, apiKey);
        secrets.seal();
        MemorySegment key = secrets.sealedView(building);
        return new SealedConfig(region, text, settings, allowList, secrets, key);
    }

    private static Map<String, String> parse(String propertiesText) {
        Properties properties = new Properties();
        try {
            properties.load(new StringReader(propertiesText));
        } catch (IOException e) {
            throw new IllegalArgumentException("not a properties text", e);
        }
        Map<String, String> map = new LinkedHashMap<>();
        properties.stringPropertyNames().stream().sorted().forEach(name -> map.put(name, properties.getProperty(name)));
        return map;
    }

    /**
     * The configuration text, read back from the sealed memory.
     *
     * @return the text
     */
    public String text() {
        return text.getString(0);
    }

    /**
     * The sealed, read-only memory holding the text (NUL-terminated UTF-8).
     *
     * @return a read-only segment, valid for the life of the process
     */
    public MemorySegment textSegment() {
        return text;
    }

    /**
     * A setting.
     *
     * @param name the property name
     * @return its value, or null
     */
    public String setting(String name) {
        return settings.get(name);
    }

    /**
     * The number of settings.
     *
     * @return the count
     */
    public int settingCount() {
        return settings.size();
    }

    /**
     * Whether {@code host} is on the allow-list.
     *
     * @param host a host name
     * @return true when allowed
     */
    public boolean isAllowed(String host) {
        return allowList.get(host) != null;
    }

    /**
     * The number of hosts on the allow-list.
     *
     * @return the count
     */
    public int allowedHostCount() {
        return allowList.size();
    }

    /**
     * The API key, as a read-only view of sealed memory.
     *
     * @return a read-only segment
     */
    public MemorySegment apiKey() {
        return apiKey;
    }

    /**
     * Whether the kernel reports the text and the secret sealed (it reads {@code /proc/self/smaps}).
     *
     * @return true when both are sealed
     */
    public boolean isSealed() {
        return textRegion.isSealed() && secrets.isSealed();
    }

    @Override
    public String toString() {
        return "SealedConfig[" + settings.size() + " settings, " + allowList.size() + " allowed hosts, a "
            + apiKey.byteSize() + "-byte key]";
    }

    /**
     * Whether {@code candidate} equals the API key, in time independent of where they differ.
     *
     * @param candidate the bytes to compare
     * @return true when equal
     */
    public boolean apiKeyEquals(byte[] candidate) {
        byte[] key = apiKey.toArray(ValueLayout.JAVA_BYTE);
        try {
            return MessageDigest.isEqual(key, candidate);
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }
}
