package dev.pullpath.schedule;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the fleet size in force current, and this node's rank when a source lists the members: asks its sources in
 * order (the headless Service's EndpointSlices, the DaemonSet, then the Service's DNS)
 * every {@code refresh} ±10 %, the first answer wins. A source that stops answering leaves the last size it gave in
 * force (a fleet does not shrink because the API server is away), and the configured size holds until a source has
 * answered once. Every node asks: the jitter keeps a fleet's questions apart.
 */
public final class FleetSizeWatch implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FleetSizeWatch.class);
    /** The first question comes within this of start: the size is known long before the first registry check. */
    private static final Duration FIRST_WITHIN = Duration.ofSeconds(10);

    /** One way to count the fleet. */
    public interface Source {
        /** {@link FleetSize#KUBERNETES} or {@link FleetSize#DNS}. */
        String name();

        /** The number of agents, or empty when the source has no answer (it says why in the log). */
        OptionalInt count() throws Exception;

        /**
         * The number of agents and this node's rank among them, for a source that lists the members (one question
         * answers both); by default the count alone, no rank.
         */
        default Members members() throws Exception {
            OptionalInt n = count();
            return n.isPresent() ? new Members(n.getAsInt(), null) : null;
        }

        /** Whether {@link #members} can give this node's rank (it lists the members). */
        default boolean ranks() {
            return false;
        }
    }

    /** A source's answer: the count, and this node's rank among them when the source knows it (else null). */
    public record Members(int count, FleetRank rank) {
    }

    private final FleetCadence cadence;
    private final List<Source> sources;
    private final Duration refresh;
    private final Clock clock;
    private final RandomGenerator random;
    private final ScheduledExecutorService worker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "pullpath-fleet-size");
        t.setDaemon(true);
        return t;
    });
    private String lastProblem;
    /** The member count the last listing gave, applied or not. */
    private int lastListed = -1;

    public FleetSizeWatch(FleetCadence cadence, List<Source> sources, Duration refresh, Clock clock,
                          RandomGenerator random) {
        this.cadence = cadence;
        this.sources = List.copyOf(sources);
        this.refresh = refresh;
        this.clock = clock;
        this.random = random;
        if (this.sources.stream().anyMatch(Source::ranks)) {
            // Two agreeing lists (see settling), each within a refresh (+10 %), the first within 10 s.
            cadence.rankWithin(FIRST_WITHIN.plus(refresh.multipliedBy(22).dividedBy(10)));
        }
    }

    public FleetSizeWatch start() {
        schedule((long) (FIRST_WITHIN.toMillis() * random.nextDouble()));
        return this;
    }

    private void schedule(long delayMillis) {
        try {
            worker.schedule(() -> {
                refreshNow();
                schedule((long) (refresh.toMillis() * (0.9 + 0.2 * random.nextDouble())));
            }, delayMillis, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // closed: no more questions
        }
    }

    /** Asks the sources once; the first that answers sets the size (public: the fleet simulation's clock calls it). */
    public void refreshNow() {
        StringBuilder problems = new StringBuilder();
        for (Source s : sources) {
            try {
                Members m = s.members();
                if (m != null && m.count() > 0 && m.rank() != null && settling(m)) {
                    return; // a list still growing (a rollout) or churning: the last one in force holds
                }
                if (m != null && m.count() > 0) {
                    FleetSize before = cadence.size();
                    cadence.size(new FleetSize(m.count(), s.name(), clock.instant()));
                    if (before.nodes() != m.count() || !before.source().equals(s.name())) {
                        LOG.info("fleet size {} from {} (was {} from {}): each node's registry interval follows",
                                m.count(), s.name(), before.nodes(), before.source());
                    }
                    // A source without this node (not listed yet, or no rank at all) leaves the last rank: slots
                    // known once stay, as the size does; a node never seen keeps the random cadence.
                    if (m.rank() != null) {
                        FleetRank was = cadence.rank();
                        cadence.rank(m.rank());
                        if (was == null) {
                            LOG.info("registry checks on slots: rank {} of {} from {}", m.rank().rank(),
                                    m.rank().members(), m.rank().source());
                        }
                    }
                    lastProblem = null;
                    return;
                }
                problems.append(problems.length() == 0 ? "" : "; ").append(s.name()).append(": no answer");
            } catch (Exception e) {
                problems.append(problems.length() == 0 ? "" : "; ").append(s.name()).append(": ").append(e);
            }
        }
        String problem = problems.toString();
        if (!problem.equals(lastProblem) && !sources.isEmpty()) {
            LOG.warn("fleet size not discovered ({}); keeping {} from {}", problem, cadence.size().nodes(),
                    cadence.size().source());
        }
        lastProblem = problem;
    }

    /**
     * Whether a member list must wait: one is applied (size and rank) only when the previous list gave the same
     * count. A DaemonSet rolling out lists 50 members, then 120, then 300: a node that took its rank among 50
     * would check on the grid of 50 while its neighbours check on the grid of 300, in bursts. Two lists a refresh
     * apart agreeing is a fleet that has settled; until then the last size and rank in force hold (at start: the
     * configured size and the random cadence, whose first check is anywhere in the whole interval).
     */
    private boolean settling(Members m) {
        boolean settled = m.count() == lastListed;
        lastListed = m.count();
        return !settled;
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
