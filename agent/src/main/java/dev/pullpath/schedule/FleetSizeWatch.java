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

    public FleetSizeWatch(FleetCadence cadence, List<Source> sources, Duration refresh, Clock clock,
                          RandomGenerator random) {
        this.cadence = cadence;
        this.sources = List.copyOf(sources);
        this.refresh = refresh;
        this.clock = clock;
        this.random = random;
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

    /** Asks the sources once; the first that answers sets the size. */
    void refreshNow() {
        StringBuilder problems = new StringBuilder();
        for (Source s : sources) {
            try {
                Members m = s.members();
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

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
