package dev.pullpath.probe;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Anonymous registry tokens, kept until shortly before they expire so that a node does not ask the token realm
 * on every probe. Keyed by realm, service and scope, as the token protocol scopes them; held in memory only.
 */
public final class TokenCache {
    /** The distribution spec's default when a token response carries no expires_in. */
    static final Duration DEFAULT_LIFETIME = Duration.ofSeconds(60);
    private static final Duration SAFETY_MARGIN = Duration.ofSeconds(10);
    private static final int MAX_ENTRIES = 256;

    private record Entry(String token, Instant expires) {
    }

    /** What a token is scoped to, as the token protocol scopes it; service and scope may be absent (null). */
    record Key(String realm, String service, String scope) {
    }

    private final Map<Key, Entry> entries = new ConcurrentHashMap<>();
    private final Clock clock;

    public TokenCache(Clock clock) {
        this.clock = clock;
    }

    /** The cached token for this key and its remaining lifetime, or null. */
    Cached get(Key key) {
        Entry e = entries.get(key);
        if (e == null) {
            return null;
        }
        Instant now = clock.instant();
        if (!now.isBefore(e.expires.minus(SAFETY_MARGIN))) {
            entries.remove(key, e);
            return null;
        }
        return new Cached(e.token, Duration.between(now, e.expires).toSeconds());
    }

    void put(Key key, String token, Long expiresInSeconds) {
        Duration lifetime = expiresInSeconds == null || expiresInSeconds <= 0 ? DEFAULT_LIFETIME
                : Duration.ofSeconds(Math.min(expiresInSeconds, Duration.ofDays(1).toSeconds()));
        if (entries.size() >= MAX_ENTRIES) {
            entries.clear(); // a bound, not a policy: realms per agent are a handful
        }
        entries.put(key, new Entry(token, clock.instant().plus(lifetime)));
    }

    void invalidate(Key key) {
        entries.remove(key);
    }

    record Cached(String token, long remainingSeconds) {
    }
}
