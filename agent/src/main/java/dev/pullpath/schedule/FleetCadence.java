package dev.pullpath.schedule;

import dev.pullpath.config.FleetOptions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * The fleet-wide registry budget and the fleet size in force, from which every agent derives the same registry
 * cadence: a node checks a registry every {@code max(registryInterval, fleetSize × requestsPerCheck / budget)}
 * (jittered, with {@link #HEADROOM}), so that N nodes together send the registry at most {@code budget} requests
 * per second, whatever N. Every node
 * behind a NAT gateway shares its address, and the registry's anonymous limit with the kubelet's real pulls
 * (public.ecr.aws: about one request per second per address): the monitor must stay a small part of it.
 *
 * <p>The budget comes from the configuration ({@code fleet.registryBudget}), the size from discovery
 * ({@code FleetSizeWatch}); both may change at any time, and each target's next check is rescaled to the new cadence
 * (see {@link RegistryCadence}) rather than recomputed, so a change reaching every node at once synchronises none.
 */
public final class FleetCadence {
    /** The longest interval the cadence ever derives (ten years): "not in this process's lifetime". */
    static final Duration LONGEST = Duration.ofDays(3650);
    /**
     * The derived interval is this much longer than the budget's exact share, so the fleet aims at about 90 % of
     * it: the ±10 % jitter, the randomness of a few thousand independent nodes, and a fleet that grew since the
     * last size refresh all stay under the budget rather than around it.
     */
    static final double HEADROOM = 1.1;

    private volatile double budget;
    private volatile FleetSize size;
    /** This node's rank among the fleet's members, null until a source that knows it answered (then kept). */
    private volatile FleetRank rank;

    /** The window the fleet's requests are held to twice the budget over. */
    static final Duration WINDOW = Duration.ofSeconds(10);

    public FleetCadence(double budget, FleetSize size) {
        this.budget = budget;
        this.size = size;
    }

    /** One agent alone with the default budget: the cadence of a node outside any fleet, or of a test. */
    public static FleetCadence standalone(Clock clock) {
        return new FleetCadence(FleetOptions.DEFAULT_BUDGET, FleetSize.configured(1, clock.instant()));
    }

    public double budget() {
        return budget;
    }

    public void budget(double requestsPerSecond) {
        if (!(requestsPerSecond > 0)) {
            throw new IllegalArgumentException("a budget is a positive rate: " + requestsPerSecond);
        }
        this.budget = requestsPerSecond;
    }

    public FleetSize size() {
        return size;
    }

    public void size(FleetSize next) {
        this.size = next;
    }

    /** How soon a rank is expected (a member list is among the size's sources), or null. */
    private volatile Duration rankWithin;

    public Duration rankWithin() {
        return rankWithin;
    }

    public void rankWithin(Duration within) {
        this.rankWithin = within;
    }

    public FleetRank rank() {
        return rank;
    }

    public void rank(FleetRank next) {
        FleetRank was = rank;
        if (next != null && (was == null || was.rank() != next.rank())) {
            rankMovedAt = next.at();
        }
        this.rank = next;
    }

    /** When this node's rank last changed (null: never known); its new slot waits until the fleet has followed. */
    private volatile Instant rankMovedAt;

    /**
     * The first instant at or after {@code t} of this node's slot for {@code registry} at {@code interval}, or null
     * while the rank is unknown (then the cadence is random). Slots are on the wall clock every node shares (NTP):
     * {@code (t − epoch) mod I = (rank + ½) × w + offset}, {@code w = I / sizeStep(members)} (the members rounded
     * up as the interval's size is), where {@code offset}, a fraction of one slot's width derived from the
     * registry's name, keeps one node's checks of two registries apart.
     * Every node derives the same {@code I} from the same size, budget and requests per check, so rank r's slot is
     * {@code w} after rank r − 1's: at the default budget and 10 requests per check, 110 s, whatever the
     * fleet's size.
     */
    public Instant slotAtOrAfter(Instant t, Duration interval, String registry) {
        FleetRank r = rank;
        long i = interval.toMillis();
        if (r == null || i <= 0) {
            return null;
        }
        // A moved rank: the nodes that have not refreshed yet still check on their old slots, one of which may be
        // this node's new one. Until they all have (rankWithin: two lists a refresh apart), no check on the new
        // slot; nodes whose rank did not move keep theirs, which no stale node holds.
        Instant moved = rankMovedAt;
        Duration hold = rankWithin;
        if (moved != null && hold != null && t.isBefore(moved.plus(hold))) {
            t = moved.plus(hold);
        }
        return Instant.ofEpochMilli(slot(t.toEpochMilli(), i, r, registry));
    }

    /** When the fleet's slot before this node's one at {@code slot} is (rank r − 1's, or the last rank's). */
    public Instant previousSlot(Instant slot, Duration interval) {
        FleetRank r = rank;
        return r == null ? null : slot.minusMillis(width(interval.toMillis(), r.members()));
    }

    static long slot(long atOrAfterMillis, long intervalMillis, FleetRank r, String registry) {
        // The width divides the interval by the members rounded up as the interval's size is (sizeStep): a node
        // joining or leaving then moves no slot but those of the ranks after it, by one width; dividing by the
        // exact count moved every rank's slot by up to a width, so nodes that had refreshed and nodes that had not
        // met on the same instants (three checks in one second at 5,000 nodes). The slots past the last rank stay
        // empty: at most 6 % of the interval.
        long width = width(intervalMillis, r.members());
        long offset = (long) (width * ((registry.hashCode() & 0xffff) / 65536.0 * 0.5));
        long phase = (r.rank() * width) + width / 2 + offset;
        long k = Math.floorDiv(atOrAfterMillis - phase + intervalMillis - 1, intervalMillis);
        return k * intervalMillis + phase;
    }

    /** One slot's width: the interval divided by the members rounded up as the interval's size is. */
    private static long width(long intervalMillis, int members) {
        return intervalMillis / sizeStep(members);
    }

    /**
     * The least time between two requests of one check (version check, token, logins, manifest, layer, the layer
     * host): none for a fleet of one or a budget that a whole check fits in (its requests at most twice the budget
     * over {@link #WINDOW}); else the window divided by the requests twice the budget allows in it, with
     * {@link #HEADROOM}: 5.5 s at 0.1 requests/s, so one check puts at most two requests in any 10 s. Slots are
     * {@code HEADROOM × requests / budget} wide, so a check paced so (its requests over about half its slot) ends
     * before the next node's begins. The check takes longer; its phases' times and deadlines are unchanged.
     */
    public Duration requestPace(int requestsPerCheck) {
        double allowed = 2 * budget * WINDOW.toSeconds();
        if (size.nodes() <= 1 || requestsPerCheck <= allowed) {
            return Duration.ZERO;
        }
        long perWindow = Math.max(1, (long) Math.floor(allowed + 1e-9));
        return Duration.ofMillis(Math.round(HEADROOM * WINDOW.toMillis() / perWindow));
    }

    /**
     * {@code nodes} rounded up to a multiple of 1/16 of its highest power of two (5,000 → 5,120; 100 → 100; up to
     * 6 % more): the slots are {@code (t − epoch) mod I}, and {@code epoch} is decades of intervals ago, so an
     * interval one node longer would move every slot by thousands of slot widths. A node joining or leaving (a
     * few % churn) then leaves {@code I} as it is on every node, refreshed or not, and only moves the ranks after
     * it by one slot; only a fleet crossing a step (growing or shrinking ~6 %) moves the slots, once.
     */
    static int sizeStep(int nodes) {
        int step = Math.max(1, Integer.highestOneBit(nodes) / 16);
        return (int) Math.min(Integer.MAX_VALUE, ((long) nodes + step - 1) / step * step);
    }

    /**
     * The per-node interval of a registry whose checks by one node send {@code requestsPerCheck} requests in all
     * (every target of that registry together), never shorter than the target's own {@code registryInterval}.
     */
    public Duration interval(Duration registryInterval, int requestsPerCheck) {
        double seconds = HEADROOM * sizeStep(size.nodes()) * requestsPerCheck / budget;
        Duration derived = Duration.ofMillis((long) Math.min(seconds * 1000, LONGEST.toMillis()));
        return derived.compareTo(registryInterval) > 0 ? derived : registryInterval;
    }
}
