package dev.pullpath.schedule;

import dev.pullpath.config.TargetConfig;
import dev.pullpath.diagnosis.Reason;
import dev.pullpath.diagnosis.TargetReport;
import java.time.Duration;
import java.time.Instant;
import java.util.random.RandomGenerator;

/**
 * When a target's registry hops ({@code /v2/}, the token, the logins) run next: every registry interval ±10 %, and
 * while the registry answers 429, an exponential backoff with jitter, up to an hour, never sooner than its
 * Retry-After. Those hops are the only ones that count against the registry's limits, which every node behind a
 * NAT address shares with the kubelet's own pulls. One per target, used under its job's lock.
 */
final class RegistryCadence {
    static final Duration MAX_BACKOFF = Duration.ofHours(1);

    private final TargetConfig target;
    private final RandomGenerator random;
    private Instant dueAt;
    private int rateLimitStreak;

    RegistryCadence(TargetConfig target, Instant firstDueAt, RandomGenerator random) {
        this.target = target;
        this.random = random;
        this.dueAt = firstDueAt;
    }

    /** The same state for the target's edited configuration (its interval may have changed, its backoff stands). */
    RegistryCadence forTarget(TargetConfig edited) {
        RegistryCadence next = new RegistryCadence(edited, dueAt, random);
        next.rateLimitStreak = rateLimitStreak;
        return next;
    }

    boolean due(Instant now) {
        return !now.isBefore(dueAt);
    }

    /** A probe reached the registry: its answer sets when the next one may. */
    void checked(TargetReport full, Instant now) {
        dueAt = now.plus(nextDelay(full));
    }

    private Duration nextDelay(TargetReport full) {
        if (full.outcome() != Reason.REGISTRY_RATE_LIMITED) {
            rateLimitStreak = 0;
            return scaled(target.registryInterval(), 0.9 + 0.2 * random.nextDouble());
        }
        rateLimitStreak = Math.min(rateLimitStreak + 1, 16);
        Duration ri = target.registryInterval();
        Duration cap = ri.compareTo(MAX_BACKOFF) > 0 ? ri : MAX_BACKOFF;
        Duration backoff = ri.multipliedBy(1L << Math.min(rateLimitStreak, 10));
        if (backoff.compareTo(cap) > 0) {
            backoff = cap;
        }
        // Jitter over the upper half, so that nodes limited together do not come back together; never sooner
        // than the normal registry interval.
        Duration delay = scaled(backoff, 0.5 + 0.5 * random.nextDouble());
        if (delay.compareTo(ri) < 0) {
            delay = ri;
        }
        Duration retryAfter = retryAfter(full);
        return retryAfter != null && retryAfter.compareTo(delay) > 0 ? retryAfter : delay;
    }

    private static Duration scaled(Duration d, double f) {
        return Duration.ofNanos((long) (d.toNanos() * f));
    }

    /** Retry-After in seconds from the rate-limited response's evidence, bounded by the maximum backoff. */
    static Duration retryAfter(TargetReport full) {
        if (full.evidence() == null || full.evidence().http() == null || full.evidence().http().headers() == null) {
            return null;
        }
        String value = full.evidence().http().headers().get("retry-after");
        if (value == null) {
            return null;
        }
        try {
            long seconds = Long.parseLong(value.trim());
            return seconds <= 0 ? null : Duration.ofSeconds(Math.min(seconds, MAX_BACKOFF.toSeconds()));
        } catch (NumberFormatException e) {
            return null; // an HTTP-date: the exponential backoff already waits long enough
        }
    }
}
