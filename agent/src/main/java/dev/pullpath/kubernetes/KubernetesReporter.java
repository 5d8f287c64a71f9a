package dev.pullpath.kubernetes;

import dev.pullpath.config.AgentConfig;
import dev.pullpath.config.KubernetesOptions;
import dev.pullpath.config.TargetConfig;
import dev.pullpath.diagnosis.Reason;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.probe.PathProber;
import dev.pullpath.schedule.StatusBoard;
import dev.pullpath.schedule.TargetStatus;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.NodeConditionBuilder;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
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
 */
public final class KubernetesReporter implements StatusBoard.Listener, AutoCloseable {
    public static final String CONDITION = "ImagePullPath";
    static final String COMPONENT = "pullpath";
    static final int MAX_QUEUED = 64;
    private static final Logger LOG = LoggerFactory.getLogger(KubernetesReporter.class);
    private static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
    private static final Duration MAX_BACKOFF = Duration.ofMinutes(1);
    /** Kubernetes' EventCorrelator keeps repeats for 10 minutes; an older repeat starts a new Event. */
    private static final Duration AGGREGATION_WINDOW = Duration.ofMinutes(10);

    private final KubernetesClient client;
    private final String node;
    private final KubernetesOptions options;
    private final Clock clock;
    private final Duration eventSpacing;
    private final ApiHealth health;
    private final ScheduledExecutorService worker;
    private final PodDiagnoser pods;

    private final Map<String, TargetStatus> statuses = new ConcurrentHashMap<>();
    // Worker-thread state below, guarded by this.
    private Condition posted;
    private boolean conditionDirty;
    private final Map<String, Event> nodeEvents = new LinkedHashMap<>();
    private final Map<String, Instant> lastNodeEvent = new HashMap<>();
    private final Deque<Event> podEvents = new ArrayDeque<>();
    private final Map<String, Aggregate> aggregates = new LinkedHashMap<>();
    private Duration backoff = Duration.ZERO;
    private Instant retryAt = Instant.MIN;
    private ScheduledFuture<?> wake;
    private final AtomicLong sequence = new AtomicLong();
    private volatile boolean closed;

    /** What was last patched, so a repeat waits for the heartbeat. */
    record Condition(String status, String reason, String message, Instant transition) {
    }

    /** An Event already created, with how often it has been seen. */
    private record Aggregate(String namespace, String name, int count, Instant first, Instant last) {
    }

    /**
     * @param eventSpacing the least time between two Events about one target (a flapping target gives one Event
     *                     per spacing, with its latest state, instead of a storm)
     */
    KubernetesReporter(KubernetesClient client, String node, KubernetesOptions options, Supplier<PathProber> prober,
                       Supplier<AgentConfig> config, PrometheusRegistry registry, Clock clock, Duration eventSpacing) {
        this.client = client;
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
        this.pods = new PodDiagnoser(client, node, options, prober, config, registry, clock, health, this::postPodEvent);
    }

    /**
     * The daemon's reporter: the in-cluster configuration (the projected ServiceAccount token, re-read by the client
     * when it rotates), started. Called only with {@code kubernetes.enabled}: until then no fabric8 class is loaded.
     */
    public static KubernetesReporter start(AgentConfig config, StatusBoard board, Supplier<PathProber> prober,
                                           Supplier<AgentConfig> current, PrometheusRegistry registry) {
        KubernetesClient client = client(Config.autoConfigure(null));
        KubernetesReporter reporter = new KubernetesReporter(client, config.node(), config.kubernetes(), prober,
                current, registry, Clock.systemUTC(), Duration.ofMinutes(1));
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
            Condition next = condition(posted);
            if (posted == null || !next.status().equals(posted.status()) || !next.reason().equals(posted.reason())
                    || !next.message().equals(posted.message())) {
                conditionDirty = true;
            }
            // A first probe that finds the path working is no news; everything else is a change worth an Event.
            if (changed && !(before == null && now.outcome() == Reason.OK)) {
                nodeEvents.put(target.name(), nodeEvent(target.name(), previous, current));
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
    synchronized Condition condition(Condition before) {
        List<TargetStatus> all = new ArrayList<>(statuses.values());
        all.sort(Comparator.comparing((TargetStatus s) -> s.report().ok()).thenComparing(TargetStatus::since)
                .thenComparing(s -> s.config().name()));
        List<TargetStatus> failing = all.stream().filter(s -> !s.report().ok()).toList();
        String status;
        String reason;
        StringBuilder message = new StringBuilder();
        if (failing.isEmpty()) {
            status = "True";
            reason = "RegistriesReachable";
            message.append("pullpath: the pull path of every registry target works from this node (")
                    .append(all.size()).append(all.size() == 1 ? " target)" : " targets)");
            for (TargetStatus s : all) {
                if (s.report().outcome() != Reason.OK) {
                    message.append("; warning: ").append(s.config().name()).append(": ").append(s.report().category())
                            .append("/").append(s.report().reason()).append(": ").append(s.report().summary());
                }
            }
        } else {
            status = "False";
            reason = Wording.reason(failing.get(0).report());
            for (TargetStatus s : failing) {
                TargetReport r = s.report();
                message.append(message.length() == 0 ? "" : "; ").append(s.config().name()).append(": ")
                        .append(r.category()).append("/").append(r.reason()).append(" at ").append(Wording.hop(r))
                        .append(": ").append(r.summary()).append(" (since ").append(s.since()
                                .truncatedTo(ChronoUnit.SECONDS)).append(")");
            }
            message.append(". ").append(failing.get(0).report().hint());
        }
        Instant transition = before != null && before.status().equals(status) ? before.transition()
                : clock.instant().truncatedTo(ChronoUnit.SECONDS);
        return new Condition(status, reason, Wording.bounded(message.toString()), transition);
    }

    private Event nodeEvent(String target, TargetStatus previous, TargetStatus current) {
        TargetReport r = current.report();
        Instant now = clock.instant();
        ObjectReference nodeRef = new ObjectReferenceBuilder().withKind("Node").withName(node)
                // The kubelet's node reference: the name as UID, which `kubectl describe node` searches too.
                .withUid(node).build();
        String type;
        String reason;
        String message;
        if (r.outcome() == Reason.OK) {
            type = "Normal";
            reason = "PullPathRecovered";
            TargetReport was = previous.report();
            // No time in the text: a flapping target's recoveries must be one aggregated Event (the correlator keys
            // on the message); the Warning before it carries when the failure began.
            message = "pullpath on " + node + ": " + target + " recovered, its pull path works (it was "
                    + was.category() + "/" + was.reason() + ")";
        } else {
            type = "Warning";
            reason = Wording.reason(r);
            message = Wording.diagnosis(node, r);
        }
        return event("default", nodeRef, type, reason, Wording.bounded(message), now);
    }

    Event event(String namespace, ObjectReference about, String type, String reason, String message, Instant at) {
        String ts = at.truncatedTo(ChronoUnit.SECONDS).toString();
        // As the kubelet names its Events: the object's name and a unique suffix.
        String name = about.getName() + "." + Long.toHexString(at.toEpochMilli()) + Long.toHexString(
                sequence.incrementAndGet());
        return new EventBuilder().withNewMetadata().withNamespace(namespace).withName(name).endMetadata()
                .withInvolvedObject(about).withType(type).withReason(reason).withMessage(message)
                .withNewSource().withComponent(COMPONENT).withHost(node).endSource()
                .withReportingComponent(COMPONENT).withReportingInstance(node)
                .withFirstTimestamp(ts).withLastTimestamp(ts).withCount(1).build();
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
            Condition next;
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
                    patchCondition(next);
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
                boolean sent = post(e);
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

    /**
     * Puts the condition into the node's status. A JSON patch that tests the resourceVersion it read and sets the
     * whole list: the kubelet's conditions are carried over as read, and a kubelet update in between fails the test
     * (422/409) and is retried on the next attempt, instead of being overwritten. Needs get on nodes and patch on
     * nodes/status.
     */
    private void patchCondition(Condition c) {
        io.fabric8.kubernetes.api.model.Node n = client.nodes().withName(node).get();
        if (n == null) {
            throw new KubernetesClientException("node " + node + " not found (is NODE_NAME the node's name?)", 404,
                    null);
        }
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        List<NodeCondition> conditions = new ArrayList<>();
        if (n.getStatus() != null && n.getStatus().getConditions() != null) {
            n.getStatus().getConditions().stream().filter(x -> !CONDITION.equals(x.getType())).forEach(conditions::add);
        }
        conditions.add(new NodeConditionBuilder().withType(CONDITION).withStatus(c.status()).withReason(c.reason())
                .withMessage(c.message()).withLastHeartbeatTime(now.toString())
                .withLastTransitionTime(c.transition().toString()).build());
        List<Map<String, Object>> ops = List.of(
                Map.of("op", "test", "path", "/metadata/resourceVersion", "value",
                        n.getMetadata().getResourceVersion()),
                Map.of("op", "add", "path", "/status/conditions", "value", conditions));
        client.nodes().withName(node).subresource("status")
                .patch(PatchContext.of(PatchType.JSON), Serialization.asJson(ops));
    }

    /**
     * Creates the Event, or counts a repeat of one created within the aggregation window as Kubernetes' own
     * correlator does (same object, reason and message: count + 1, new lastTimestamp).
     *
     * @return true once the Event is out, or refused for good (then dropped, not retried)
     */
    private boolean post(Event e) {
        ObjectReference o = e.getInvolvedObject();
        String key = String.join("\u0000", e.getMetadata().getNamespace(), o.getKind(), o.getName(),
                Objects.toString(o.getFieldPath(), ""), e.getReason(), e.getMessage());
        Instant now = clock.instant();
        Aggregate seen;
        synchronized (this) {
            seen = aggregates.get(key);
            aggregates.values().removeIf(a -> Duration.between(a.last(), now).compareTo(AGGREGATION_WINDOW) > 0);
        }
        try {
            if (seen != null && Duration.between(seen.last(), now).compareTo(AGGREGATION_WINDOW) <= 0) {
                int count = seen.count() + 1;
                String patch = "{\"count\":" + count + ",\"lastTimestamp\":\""
                        + now.truncatedTo(ChronoUnit.SECONDS) + "\"}";
                try {
                    client.v1().events().inNamespace(seen.namespace()).withName(seen.name())
                            .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
                    remember(key, new Aggregate(seen.namespace(), seen.name(), count, seen.first(), now));
                    return true;
                } catch (KubernetesClientException gone) {
                    if (gone.getCode() != 404) {
                        throw gone;
                    }
                    // The API server's event TTL removed it: start a new one.
                }
            }
            client.v1().events().inNamespace(e.getMetadata().getNamespace()).resource(e).create();
            remember(key, new Aggregate(e.getMetadata().getNamespace(), e.getMetadata().getName(), 1, now, now));
            return true;
        } catch (KubernetesClientException k) {
            if (k.getCode() == 400 || k.getCode() == 404 || k.getCode() == 409 || k.getCode() == 422) {
                // The object's namespace is gone, or the Event is invalid: retrying will not help.
                LOG.warn("Kubernetes API refused {} Event on {} {}: {} {}", e.getReason(), o.getKind(), o.getName(),
                        k.getCode(), k.getStatus() == null ? "" : k.getStatus().getMessage());
                return true;
            }
            throw k;
        }
    }

    private synchronized void remember(String key, Aggregate a) {
        aggregates.remove(key);
        aggregates.put(key, a);
        while (aggregates.size() > 512) {
            aggregates.remove(aggregates.keySet().iterator().next());
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
        client.close();
    }
}
