package dev.pullpath.kubernetes;

import dev.pullpath.config.AgentConfig;
import dev.pullpath.config.KubernetesOptions;
import dev.pullpath.config.TargetConfig;
import dev.pullpath.diagnosis.Reason;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.config.Target;
import dev.pullpath.probe.PathProber;
import dev.pullpath.schedule.RegistryAllowance;
import dev.pullpath.schedule.StatusBoard;
import dev.pullpath.schedule.TargetStatus;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * pullpath in {@code kubectl describe}: the {@code ImagePullPath} condition of the agent's own node, an Event on
 * the node for each change of a target's state, and (through {@link PodDiagnoser}) a diagnosis on each pod of the
 * node whose image pull fails.
 *
 * <p>Nothing here runs on a probe's thread or an event loop for longer than a map update: the status board's
 * listener records the new state and wakes one worker thread, which alone talks to the API. When the API is
 * unreachable, slow or refuses, the worker backs off (1 s doubling to 1 min) and what it had to say waits in
 * bounded places: one condition (the latest wins), one pending Event per target, at most {@value #MAX_QUEUED}
 * pod Events.
 *
 * <p>This class is the worker and its queues; what it sends is made elsewhere: the condition by
 * {@link PullPathCondition}, the Events by {@link ReporterEvents}, their aggregation by {@link EventCorrelator}, the
 * pod diagnoses by {@link PodDiagnoser}, and the API's state is {@link ApiHealth}'s.
 */
public final class KubernetesReporter implements StatusBoard.Listener, AutoCloseable {
    public static final String CONDITION = PullPathCondition.TYPE;
    static final int MAX_QUEUED = 64;
    private static final Logger LOG = LoggerFactory.getLogger(KubernetesReporter.class);
    private static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
    private static final Duration MAX_BACKOFF = Duration.ofMinutes(1);

    private final KubernetesClient client;
    private final Runnable release;
    private final String node;
    private final KubernetesOptions options;
    private final Clock clock;
    private final Duration eventSpacing;
    private final ApiHealth health;
    private final ScheduledExecutorService worker;
    private final PodDiagnoser pods;
    private final ReporterEvents events;
    private final EventCorrelator correlator;

    private final Map<String, TargetStatus> statuses = new ConcurrentHashMap<>();
    // Worker-thread state below, guarded by this.
    private PullPathCondition posted;
    private boolean conditionDirty;
    private final Map<String, Event> nodeEvents = new LinkedHashMap<>();
    private final Map<String, Instant> lastNodeEvent = new HashMap<>();
    private final Deque<Event> podEvents = new ArrayDeque<>();
    private Duration backoff = Duration.ZERO;
    private Instant retryAt = Instant.MIN;
    private ScheduledFuture<?> wake;
    private volatile boolean closed;

    /**
     * @param eventSpacing the least time between two Events about one target (a flapping target gives one Event
     *                     per spacing, with its latest state, instead of a storm)
     */
    KubernetesReporter(KubernetesClient client, String node, KubernetesOptions options, Supplier<PathProber> prober,
                       Supplier<AgentConfig> config, Function<Target, RegistryAllowance.Grant> registryChecks,
                       PrometheusRegistry registry, Clock clock, Duration eventSpacing) {
        this(client, client::close, node, options, prober, config, registryChecks, registry, clock, eventSpacing);
    }

    /** ... with {@code release} run when it is closed, instead of closing the client it does not own. */
    private KubernetesReporter(KubernetesClient client, Runnable release, String node, KubernetesOptions options,
                               Supplier<PathProber> prober, Supplier<AgentConfig> config,
                               Function<Target, RegistryAllowance.Grant> registryChecks, PrometheusRegistry registry,
                               Clock clock, Duration eventSpacing) {
        this.client = client;
        this.release = release;
        this.node = node;
        this.options = options;
        this.clock = clock;
        this.eventSpacing = eventSpacing;
        this.health = new ApiHealth(registry);
        this.worker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pullpath-kubernetes");
            t.setDaemon(true);
            return t;
        });
        this.events = new ReporterEvents(node, clock);
        this.correlator = new EventCorrelator(client, clock);
        this.pods = new PodDiagnoser(client, node, options, prober, config, registryChecks, registry, clock, health,
                events, this::postPodEvent);
    }

    /**
     * The daemon's reporter on the agent's shared client (the in-cluster configuration, the projected ServiceAccount
     * token, re-read by the client when it rotates), started. Called only with {@code kubernetes.enabled}: until then no fabric8 class is loaded.
     * {@code registryChecks} is the scheduler's {@code borrowRegistryCheck}: pod diagnoses run a registry's hops
     * within this node's share of the fleet's budget.
     */
    public static KubernetesReporter start(ApiClient api, AgentConfig config, StatusBoard board,
                                           Supplier<PathProber> prober, Supplier<AgentConfig> current,
                                           Function<Target, RegistryAllowance.Grant> registryChecks,
                                           PrometheusRegistry registry) {
        KubernetesClient client = api.acquire();
        KubernetesReporter reporter = new KubernetesReporter(client, api::release, config.node(), config.kubernetes(),
                prober, current, registryChecks, registry, Clock.systemUTC(), Duration.ofMinutes(1));
        board.listen(reporter);
        reporter.start();
        LOG.info("Kubernetes: condition {} on node {} (heartbeat {}), Events, and diagnoses of failed pulls of "
                + "pods on it, via {}", CONDITION, config.node(), config.kubernetes().heartbeat(),
                client.getConfiguration().getMasterUrl());
        return reporter;
    }

    /**
     * The client with bounds: a request that takes more than 10 s is the API server being slow, and fabric8's own
     * retries are off (the worker's backoff decides when to try again, so an unreachable API costs one attempt).
     */
    static KubernetesClient client(Config base) {
        Config config = new ConfigBuilder(base).withConnectionTimeout(5_000).withRequestTimeout(10_000)
                // fabric8 7.3 re-establishes a dropped watch by itself, silently (the informer still says it is
                // watching): an API server that went away shows through the requests (status patches, at least
                // every heartbeat), not through the watch.
                .withRequestRetryBackoffLimit(0).withWatchReconnectInterval(1_000).withWatchReconnectLimit(-1)
                .build();
        return new KubernetesClientBuilder().withConfig(config).build();
    }

    void start() {
        pods.start();
        long heartbeat = options.heartbeat().toMillis();
        worker.scheduleWithFixedDelay(() -> {
            synchronized (this) {
                conditionDirty = posted != null || !statuses.isEmpty();
            }
            flush();
        }, heartbeat, heartbeat, TimeUnit.MILLISECONDS);
        worker.scheduleWithFixedDelay(pods::checkWatch, 5, 5, TimeUnit.SECONDS);
    }

    public ApiState apiState() {
        return health.state();
    }

    // ---------------------------------------------------------------------------------------------------------
    // The status board's side: called on the scheduler's threads, never waits for the API.

    @Override
    public void onProbe(TargetConfig target, TargetReport probed, TargetStatus previous, TargetStatus current) {
        statuses.put(target.name(), current);
        TargetReport now = current.report();
        TargetReport before = previous == null ? null : previous.report();
        boolean changed = before == null || !before.category().equals(now.category())
                || !before.reason().equals(now.reason());
        synchronized (this) {
            if (condition(posted).differsFrom(posted)) {
                conditionDirty = true;
            }
            // A first probe that finds the path working is no news; everything else is a change worth an Event.
            if (changed && !(before == null && now.outcome() == Reason.OK)) {
                nodeEvents.put(target.name(), events.nodeEvent(target.name(), previous, current));
            }
        }
        wake(Duration.ZERO);
    }

    @Override
    public void onRemoved(String target) {
        statuses.remove(target);
        synchronized (this) {
            nodeEvents.remove(target);
            conditionDirty = true;
        }
        wake(Duration.ZERO);
    }

    /** The node condition for the current statuses: True while every target's path works. */
    synchronized PullPathCondition condition(PullPathCondition before) {
        return PullPathCondition.of(statuses.values(), before, clock.instant());
    }

    /** From the pod diagnoser's threads. The oldest is dropped when the queue is full. */
    private void postPodEvent(Event e) {
        synchronized (this) {
            if (podEvents.size() >= MAX_QUEUED) {
                Event dropped = podEvents.removeFirst();
                LOG.debug("pod Event queue full, dropped {}", dropped.getMessage());
            }
            podEvents.addLast(e);
        }
        wake(Duration.ZERO);
    }

    // ---------------------------------------------------------------------------------------------------------
    // The worker: the only thread that sends to the API.

    private synchronized void wake(Duration after) {
        if (closed) {
            return;
        }
        Instant at = clock.instant().plus(after);
        if (at.isBefore(retryAt)) {
            at = retryAt;
        }
        long delay = Math.max(0, Duration.between(clock.instant(), at).toMillis());
        if (wake != null && !wake.isDone() && wake.getDelay(TimeUnit.MILLISECONDS) <= delay) {
            return;
        }
        if (wake != null) {
            wake.cancel(false);
        }
        wake = worker.schedule(this::flush, delay, TimeUnit.MILLISECONDS);
    }

    private void flush() {
        if (closed) {
            return;
        }
        String what = "patch of node " + node + " status";
        try {
            PullPathCondition next;
            synchronized (this) {
                if (clock.instant().isBefore(retryAt)) {
                    wake(Duration.ZERO);
                    return;
                }
                next = conditionDirty && !statuses.isEmpty() ? condition(posted) : null;
            }
            KubernetesClientException conditionRefused = null;
            if (next != null) {
                try {
                    next.patchInto(client, node, clock.instant());
                    synchronized (this) {
                        posted = next;
                        conditionDirty = false;
                    }
                } catch (KubernetesClientException k) {
                    if (ApiState.of(k) != ApiState.REJECTED) {
                        throw k;
                    }
                    // A conflict with the kubelet, or a node that is not there: the Events still go out, the
                    // condition is tried again with the backoff.
                    conditionRefused = k;
                }
            }
            Duration earliest = null;
            while (true) {
                Event e;
                String target = null;
                synchronized (this) {
                    e = podEvents.peekFirst();
                    if (e == null) {
                        Instant now = clock.instant();
                        for (Map.Entry<String, Event> p : nodeEvents.entrySet()) {
                            Instant last = lastNodeEvent.get(p.getKey());
                            Instant due = last == null ? now : last.plus(eventSpacing);
                            if (!due.isAfter(now)) {
                                target = p.getKey();
                                e = p.getValue();
                                break;
                            }
                            Duration wait = Duration.between(now, due);
                            earliest = earliest == null || wait.compareTo(earliest) < 0 ? wait : earliest;
                        }
                    }
                }
                if (e == null) {
                    break;
                }
                what = "Event " + e.getReason() + " on " + e.getInvolvedObject().getKind().toLowerCase() + " "
                        + e.getInvolvedObject().getName();
                boolean sent = correlator.post(e);
                synchronized (this) {
                    if (target == null) {
                        podEvents.remove(e);
                    } else {
                        nodeEvents.remove(target, e);
                        lastNodeEvent.put(target, clock.instant());
                    }
                }
                if (!sent) {
                    break;
                }
            }
            if (conditionRefused != null) {
                what = "patch of node " + node + " status";
                throw conditionRefused;
            }
            synchronized (this) {
                backoff = Duration.ZERO;
                retryAt = Instant.MIN;
            }
            health.request(ApiState.OK, what, null);
            if (earliest != null) {
                wake(earliest);
            }
        } catch (RuntimeException e) {
            ApiState state = ApiState.of(e);
            health.request(state, what, e);
            synchronized (this) {
                backoff = backoff.isZero() ? FIRST_BACKOFF : min(backoff.multipliedBy(2), MAX_BACKOFF);
                retryAt = clock.instant().plus(backoff);
            }
            wake(Duration.ZERO);
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    @Override
    public void close() {
        closed = true;
        pods.close();
        worker.shutdownNow();
        try {
            worker.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        release.run();
    }
}
