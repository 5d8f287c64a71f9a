package dev.pullpath.schedule;

import dev.pullpath.diagnosis.Reason;
import dev.pullpath.diagnosis.TargetReport;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

/**
 * When a target's registry hops ({@code /v2/}, the token, the logins, the manifest and the layer) run next. Those
 * hops are the only ones that count against the registry's limits, which every node behind a NAT address shares
 * with the kubelet's own pulls. The interval is the fleet's ({@link FleetCadence}: it grows with the fleet):
 * <ul>
 *   <li>the first check lands at a random point of the whole interval, so a fleet that starts together (a node
 *       group replaced, a cluster restored) spreads its first checks as evenly as its later ones;
 *   <li>then every interval ±10 %;
 *   <li>while the registry answers 429, an exponential backoff with jitter, up to an hour (or the interval, when
 *       longer), never sooner than its Retry-After;
 *   <li>when the interval changes (the fleet grew or shrank, the budget was edited), the time left to wait is
 *       scaled by new / old: a node's place in its cycle is kept, so a change that reaches every node at once
 *       neither makes them check together nor leaves a gap.
 * </ul>
 * Once the node knows its rank in the fleet ({@link FleetCadence#slotAtOrAfter}), every check lands on the node's
 * slot instead: the first slot at or after start, then the first slot half an interval or more after the last check
 * (its own next one, one interval on), and after a 429 the first slot at or after the backoff's end and its
 * Retry-After. Start, reload and recovery then all land on slot instants, one node per slot: no burst by
 * construction. Until the rank is known the random cadence above holds, and its backoff and phase are kept.
 * One per target, used under its job's lock.
 */
final class RegistryCadence {
    static final Duration MAX_BACKOFF = Duration.ofHours(1);

    /** This node's slots at an interval: null while the rank is unknown. */
    interface Slots {
        Slots NONE = (t, interval) -> null;

        Instant atOrAfter(Instant t, Duration interval);
    }

    private final Supplier<Duration> interval;
    private final RandomGenerator random;
    private Instant dueAt;
    /** The interval {@link #dueAt} was set with: a different one now rescales the wait. */
    private Duration basis;
    /** A 429's Retry-After: no rescaling brings the next check before it. */
    private Instant notBefore = Instant.MIN;
    private int rateLimitStreak;
    private boolean checkedOnce;
    private Slots slots = Slots.NONE;
    /** With slots: no check before this (start, half an interval after the last check, or a backoff's end). */
    private Instant floor;
    /** When the last check reached the registry, null before the first. */
    private Instant lastCheckAt;
    /** Before the first check, while a rank is expected: no random check before this. */
    private Instant randomNotBefore = Instant.MIN;
    /** Whether the slots were in force at the last {@link #dueAt}: the first time they are, no slot in the past. */
    private boolean wasSlotted;

    private RegistryCadence(Supplier<Duration> interval, RandomGenerator random, Instant dueAt, Duration basis) {
        this.interval = interval;
        this.random = random;
        this.dueAt = dueAt;
        this.basis = basis;
        this.floor = dueAt;
    }

    /**
     * The same cadence on {@code next}'s slots once the rank is known. {@code rankWithin}: how soon a rank is
     * expected (a member list is a source), or null: a random first check is held until then, so that a fleet
     * starting together sends none at random instants in the minutes before its slots are known.
     */
    RegistryCadence slotted(Slots next, Instant now, Duration rankWithin) {
        this.slots = next;
        if (!checkedOnce) {
            floor = now;
            randomNotBefore = rankWithin == null ? Instant.MIN : now.plus(rankWithin);
        }
        return this;
    }

    /** Whether the next check is on this node's slot (the rank is known) rather than at a random instant. */
    boolean onSlots() {
        return slots.atOrAfter(Instant.EPOCH, interval.get()) != null;
    }

    /** A target's cadence from {@code now}: its first check at a random point of its whole interval. */
    static RegistryCadence starting(Supplier<Duration> interval, Instant now, RandomGenerator random) {
        return starting(interval, now, random, interval.get());
    }

    /** ... of {@code window} instead, when shorter (a fleet of one: nobody to burst with). */
    static RegistryCadence starting(Supplier<Duration> interval, Instant now, RandomGenerator random,
                                    Duration window) {
        Duration basis = interval.get();
        Duration first = window.compareTo(basis) < 0 ? window : basis;
        return new RegistryCadence(interval, random, now.plus(scaled(first, random.nextDouble())), basis);
    }

    /** The same state, phase and backoff for the target's edited configuration (whose interval may differ). */
    RegistryCadence forTarget(Supplier<Duration> edited) {
        RegistryCadence next = new RegistryCadence(edited, random, dueAt, basis);
        next.notBefore = notBefore;
        next.rateLimitStreak = rateLimitStreak;
        next.checkedOnce = checkedOnce;
        next.slots = slots;
        next.floor = floor;
        next.lastCheckAt = lastCheckAt;
        next.randomNotBefore = randomNotBefore;
        next.wasSlotted = wasSlotted;
        return next;
    }

    boolean due(Instant now) {
        return !now.isBefore(dueAt(now));
    }

    /** When the next check is due, with the interval in force now. */
    Instant dueAt(Instant now) {
        Duration current = interval.get();
        Instant slot = slots.atOrAfter(floor.isBefore(notBefore) ? notBefore : floor, current);
        if (slot != null && !wasSlotted) {
            // The rank just came: the slots since the floor (start, or half an interval after the last check)
            // went by unseen; taken now, every node that learnt its rank in the same refresh would check at once.
            wasSlotted = true;
            if (floor.isBefore(now)) {
                floor = now;
                slot = slots.atOrAfter(floor.isBefore(notBefore) ? notBefore : floor, current);
            }
        }
        if (slot != null) {
            return slot;
        }
        if (!current.equals(basis)) {
            if (dueAt.isAfter(now) && !basis.isZero()) {
                double ratio = (double) current.toNanos() / basis.toNanos();
                dueAt = now.plus(scaled(Duration.between(now, dueAt), ratio));
                if (dueAt.isBefore(notBefore)) {
                    dueAt = notBefore;
                }
            }
            basis = current;
        }
        return dueAt.isBefore(randomNotBefore) ? randomNotBefore : dueAt;
    }

    /** The interval in force now. */
    Duration interval() {
        return interval.get();
    }

    /** Whether a check has reached the registry yet: until then, the status says when the first will. */
    boolean checkedOnce() {
        return checkedOnce;
    }

    /** When the last check reached the registry (its answer came), null before the first. */
    Instant lastCheckAt() {
        return lastCheckAt;
    }

    /** A probe reached the registry: its answer sets when the next one may. */
    void checked(TargetReport full, Instant now) {
        checkedOnce = true;
        lastCheckAt = now;
        basis = interval.get();
        Duration delay = nextDelay(full, basis);
        dueAt = now.plus(delay);
        Duration retryAfter = full.outcome() == Reason.REGISTRY_RATE_LIMITED ? retryAfter(full) : null;
        notBefore = retryAfter == null ? Instant.MIN : now.plus(retryAfter);
        // With slots, half an interval skips the slot just used and lands on the next (one interval after it),
        // and a backoff ends on a slot, never off one.
        floor = full.outcome() == Reason.REGISTRY_RATE_LIMITED ? dueAt : now.plus(basis.dividedBy(2));
    }

    /**
     * A pod diagnosis already ran this due check's registry hops ({@link RegistryAllowance}): the due instant is
     * consumed as a check's would be, the next one a jittered interval on; the last answer (its 429 backoff, its
     * Retry-After) and whether a check of this target's own reached the registry stand.
     */
    void skipped(Instant now) {
        basis = interval.get();
        dueAt = now.plus(scaled(basis, 0.9 + 0.2 * random.nextDouble()));
        if (dueAt.isBefore(notBefore)) {
            dueAt = notBefore;
        }
        // On slots, as after a check: the slot just consumed is passed over and the next one is this node's.
        floor = now.plus(basis.dividedBy(2));
    }

    private Duration nextDelay(TargetReport full, Duration ri) {
        if (full.outcome() != Reason.REGISTRY_RATE_LIMITED) {
            rateLimitStreak = 0;
            return scaled(ri, 0.9 + 0.2 * random.nextDouble());
        }
        rateLimitStreak = Math.min(rateLimitStreak + 1, 16);
        Duration cap = ri.compareTo(MAX_BACKOFF) > 0 ? ri : MAX_BACKOFF;
        Duration backoff = ri.multipliedBy(1L << Math.min(rateLimitStreak, 10));
        if (backoff.compareTo(cap) > 0) {
            backoff = cap;
        }
        // Jitter over the upper half, so that nodes limited together do not come back together; never sooner
        // than the normal registry interval.
        Duration delay = scaled(backoff, 0.5 + 0.5 * random.nextDouble());
        if (delay.compareTo(ri) < 0) {
            delay = scaled(ri, 1 + 0.1 * random.nextDouble());
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
