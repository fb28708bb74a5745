package io.github.mseal4j;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * {@link SealedMap#asMap()}: a {@code Map<String, String>} that decodes on access and answers look-ups from the
 * sealed table; {@code equals} and {@code hashCode} are {@link AbstractMap}'s, so it equals any map with the same
 * entries. Made unmodifiable by its caller.
 */
final class SealedMapView extends AbstractMap<String, String> {
    private final SealedMap map;

    SealedMapView(SealedMap map) {
        this.map = map;
    }

    @Override
    public int size() {
        return map.size();
    }

    @Override
    public boolean containsKey(Object key) {
        return key instanceof String text && map.containsKey(text);
    }

    @Override
    public String get(Object key) {
        return key instanceof String text ? map.get(text) : null;
    }

    @Override
    public String getOrDefault(Object key, String defaultValue) {
        return key instanceof String text ? map.getOrDefault(text, defaultValue) : defaultValue;
    }

    @Override
    public Set<Entry<String, String>> entrySet() {
        return new AbstractSet<>() {
            @Override
            public int size() {
                return map.size();
            }

            @Override
            public boolean contains(Object o) {
                return o instanceof Map.Entry<?, ?> e && e.getKey() instanceof String key
                    && e.getValue() instanceof String value && value.equals(map.get(key));
            }

            @Override
            public Iterator<Entry<String, String>> iterator() {
                return map.entries();
            }
        };
    }
}
