package dev.pullpath.credentials;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Answers kept as the kubelet keeps them (cacheKeyType, cacheDuration, else the provider's
 * defaultCacheDuration): a daemon probing every few minutes must not call the provider, and through it the
 * cloud's token API, more often than the kubelet does. Failures are not kept, as the kubelet does not keep them.
 */
final class ProviderCache {
    private static final int MAX_CACHED = 256;
    private static final List<String> KEY_TYPES = List.of("Image", "Registry", "Global");

    private final Map<Key, Cached> cache = new ConcurrentHashMap<>();

    /** The kubelet's cache key: the image for cacheKeyType Image, the registry for Registry, nothing for Global. */
    private record Key(String provider, String keyType, String key) {
        static Key of(String provider, String keyType, String image, String registry) {
            return new Key(provider, keyType, switch (keyType) {
                case "Image" -> image;
                case "Registry" -> registry;
                default -> "";
            });
        }
    }

    private record Cached(long expiresAtNanos, List<Credential> credentials) {
    }

    /** The answer kept for this provider and image under any key type, or null. */
    List<Credential> get(String provider, String image, String registry, long nowNanos) {
        for (String keyType : KEY_TYPES) {
            Cached hit = cache.get(Key.of(provider, keyType, image, registry));
            if (hit != null && hit.expiresAtNanos() - nowNanos > 0) {
                return hit.credentials();
            }
        }
        return null;
    }

    /** Keeps a usable answer ({@code keyType} set) for {@code keep}, when that is positive and there is room. */
    void put(String provider, String keyType, String image, String registry, Duration keep, long nowNanos,
            List<Credential> credentials) {
        if (keyType != null && keep != null && !keep.isZero() && !keep.isNegative()) {
            cache.values().removeIf(c -> c.expiresAtNanos() - nowNanos <= 0);
            if (cache.size() < MAX_CACHED) {
                cache.put(Key.of(provider, keyType, image, registry),
                        new Cached(nowNanos + keep.toNanos(), credentials));
            }
        }
    }
}
