package dev.pullpath.schedule;

import dev.pullpath.config.ConfigLoader;
import dev.pullpath.diagnosis.Reason;
import dev.pullpath.diagnosis.TargetReport;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;

/**
 * This node's share of the fleet's registry budget for one registry host, as pod diagnoses draw on it. The node
 * sends that registry at most one check per interval I ({@link FleetCadence}); a pod diagnosis that wants the
 * registry hops now <em>borrows</em> the next scheduled one: it runs them at once, and the scheduler skips its next
 * due check of that registry ({@link #repay()}, {@link RegistryCadence#skipped}), so the node's long-run rate is
 * what the budget gives it. At most one borrow per I, and none while a borrowed check is still owed: a bad rollout
 * failing on every node costs each node one check now, not one per failing image (about ten requests each).
 *
 * <p>A registry no target of this node checks has no scheduled check to skip: its borrows are spaced by the I a
 * target of it would have (the default registryInterval, one walk's requests), which bounds them the same way.
 *
 * <p>A registry the node's last check found rate limiting (429) lends nothing until its backoff ends: the
 * scheduler's backoff holds whoever wants the registry, as it does for {@code /probe}.
 */
public final class RegistryAllowance {
    /** Requests of one pod diagnosis's walk with an image and no stored login (see {@link RequestsPerCheck}). */
    static final int WALK = RequestsPerCheck.VERSION_CHECK + RequestsPerCheck.MANIFEST + RequestsPerCheck.LAYER;

    private Instant borrowedAt;
    /** A check borrowed and not yet skipped by the scheduler. */
    private boolean owed;

    /**
     * What a pod diagnosis may do about a registry's hops now.
     *
     * @param granted    whether it runs them (it borrowed this node's next check of the registry)
     * @param pace       granted: the least time between its requests, the pace of the check it replaces
     * @param spentUntil refused: when the allowance comes back
     * @param lastCheck  the scheduler's last check of the registry that reached it (the most recent of its targets),
     *                   or null: quoted, never taken as the diagnosis's own
     */
    public record Grant(boolean granted, Duration pace, Instant spentUntil, TargetReport lastCheck) {
        /** A fleet of one shares no budget: every diagnosis walks the whole path, as before the budget reached it. */
        static final Grant ALONE = new Grant(true, Duration.ZERO, null, null);
    }

    /** One target of this registry as the scheduler has it: its schedule and its last check that reached it. */
    record Scheduled(RegistrySchedule schedule, TargetReport lastFull) {
    }

    /**
     * A borrow at {@code now} of the registry whose targets on this node are {@code scheduled} (none: it has no
     * target here), with the {@code fleet}'s cadence.
     */
    synchronized Grant borrow(Instant now, FleetCadence fleet, List<Scheduled> scheduled) {
        Duration interval = scheduled.stream().map(s -> s.schedule().interval()).max(Comparator.naturalOrder())
                .orElseGet(() -> fleet.interval(ConfigLoader.DEFAULT_REGISTRY_INTERVAL, WALK));
        Instant nextCheck = scheduled.stream().map(s -> s.schedule().nextCheckAt()).min(Comparator.naturalOrder())
                .orElse(null);
        TargetReport last = scheduled.stream().map(Scheduled::lastFull).filter(r -> r != null)
                .max(Comparator.comparing(TargetReport::checkedAt)).orElse(null);
        Instant until = borrowedAt == null ? Instant.MIN : borrowedAt.plus(interval);
        if (nextCheck != null && (owed || last != null && last.outcome() == Reason.REGISTRY_RATE_LIMITED)
                && nextCheck.isAfter(until)) {
            until = nextCheck; // the owed check is skipped then; a 429's backoff ends then
        }
        if (now.isBefore(until)) {
            return new Grant(false, Duration.ZERO, until, last);
        }
        borrowedAt = now;
        owed = nextCheck != null;
        int requests = scheduled.stream().mapToInt(s -> s.schedule().requestsPerCheck()).max().orElse(WALK);
        return new Grant(true, fleet.requestPace(Math.max(requests, WALK)), null, last);
    }

    /** Called when one of the registry's checks is due: true (once per borrow) when it is to be skipped. */
    synchronized boolean repay() {
        boolean skip = owed;
        owed = false;
        return skip;
    }
}
