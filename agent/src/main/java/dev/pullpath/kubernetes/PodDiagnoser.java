package dev.pullpath.kubernetes;

import dev.pullpath.config.AgentConfig;
import dev.pullpath.config.KubernetesOptions;
import dev.pullpath.config.ProbeOptions;
import dev.pullpath.config.Target;
import dev.pullpath.credentials.CredentialStores;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.probe.Deadlines;
import dev.pullpath.probe.Depth;
import dev.pullpath.probe.PathProber;
import dev.pullpath.schedule.RegistryAllowance;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pull that failed: watches the pods of this node only ({@code spec.nodeName} field selector, so the cache
 * holds this node's pods, not the cluster's), and when a container waits in {@code ErrImagePull} or
 * {@code ImagePullBackOff}, walks the whole pull path of its image from this node (the node's stored logins and
 * containerd's hosts.toml route, as the prober always does) and puts the diagnosis on the pod as an Event.
 *
 * <p>Budget: one probe per image per {@code diagnosisSpacing} on this node (other pods of the same image get the
 * same diagnosis), at most {@code maxConcurrentDiagnoses} at once; a pull failure seen while all are busy is
 * picked up again by the informer's resync. The informer's handlers only decide and start a probe; they never wait.
 * The registry hops are within the fleet's registry budget: a diagnosis runs them when it can borrow this node's
 * next check of that registry ({@link RegistryAllowance}), else it walks the hops that do not touch the registry's
 * API (DNS, proxy, TCP, TLS) and its Event says the registry hops were not re-run, until when, and what the node's
 * last check of the registry said.
 */
final class PodDiagnoser implements AutoCloseable {
    static final Set<String> PULL_FAILURES = Set.of("ErrImagePull", "ImagePullBackOff");
    private static final Logger LOG = LoggerFactory.getLogger(PodDiagnoser.class);
    private static final Duration RESYNC = Duration.ofMinutes(1);

    private final KubernetesClient client;
    private final String node;
    private final KubernetesOptions options;
    private final Supplier<PathProber> prober;
    private final Supplier<AgentConfig> config;
    /** The scheduler's {@code borrowRegistryCheck}: whether a diagnosis may run a registry's hops now. */
    private final Function<Target, RegistryAllowance.Grant> registryChecks;
    private final Clock clock;
    private final ApiHealth health;
    private final ReporterEvents events;
    private final Consumer<Event> post;
    private final Counter diagnoses;
    private final AtomicInteger inFlight = new AtomicInteger();
    /** Per image: when it was last probed, and the diagnosis (pending while the probe runs). */
    private final Map<ImageKey, Probed> images = new ConcurrentHashMap<>();
    /** Per pod and image: when its Event was posted. */
    private final Map<PodImageKey, Instant> told = new ConcurrentHashMap<>();
    private volatile SharedIndexInformer<Pod> informer;
    private volatile boolean closed;

    /**
     * {@code freshUntil}: the diagnosisSpacing after the probe, or sooner for a diagnosis without registry hops,
     * which is walked again once the allowance is back.
     */
    private record Probed(Instant freshUntil, CompletableFuture<Diagnosed> report) {
    }

    /** One image as one pod names it. */
    private record PodImageKey(String namespace, String pod, String image) {
        static PodImageKey of(Pod pod, String image) {
            return new PodImageKey(pod.getMetadata().getNamespace(), pod.getMetadata().getName(), image);
        }

        boolean isOf(Pod p) {
            return namespace.equals(p.getMetadata().getNamespace()) && pod.equals(p.getMetadata().getName());
        }

        @Override
        public String toString() {
            return namespace + "/" + pod + " " + image;
        }
    }

    /** Pods of one image share a diagnosis only when they name the same secrets: the logins differ otherwise. */
    private record ImageKey(String image, List<String> secrets) {
        @Override
        public String toString() {
            return secrets.isEmpty() ? image : image + " " + secrets;
        }
    }

    /** A probe's report, what was read of the pod's imagePullSecrets for it, and whether it ran the registry hops. */
    private record Diagnosed(TargetReport report, PullSecrets.Found secrets, RegistryAllowance.Grant grant) {
    }

    /** Reads imagePullSecrets (blocking API calls) off the informer's and the prober's threads. */
    private final java.util.concurrent.ExecutorService secretReader;

    PodDiagnoser(KubernetesClient client, String node, KubernetesOptions options, Supplier<PathProber> prober,
                 Supplier<AgentConfig> config, Function<Target, RegistryAllowance.Grant> registryChecks,
                 PrometheusRegistry registry, Clock clock, ApiHealth health, ReporterEvents events,
                 Consumer<Event> post) {
        this.client = client;
        this.node = node;
        this.options = options;
        this.prober = prober;
        this.config = config;
        this.registryChecks = registryChecks;
        this.clock = clock;
        this.health = health;
        this.events = events;
        this.post = post;
        this.secretReader = options.readPullSecrets() ? java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "pullpath-pull-secrets");
            t.setDaemon(true);
            return t;
        }) : null;
        this.diagnoses = Counter.builder().withoutExemplars().name("pullpath_kubernetes_pod_diagnoses_total")
                .help("Image pull failures of pods on this node seen by the agent, by what came of them: probed (a "
                        + "new probe of the image's whole pull path), budget (a new probe without the registry hops: "
                        + "this node's share of fleet.registryBudget was spent), reused (an image probed within "
                        + "diagnosisSpacing), "
                        + "busy (maxConcurrentDiagnoses reached; retried at the next resync), invalid (an image "
                        + "reference that does not parse)")
                .labelNames("result").register(registry);
    }

    /** Starts the watch without waiting for it: an unreachable API at start is retried by the informer. */
    void start() {
        SharedIndexInformer<Pod> i = client.pods().inAnyNamespace().withField("spec.nodeName", node)
                .runnableInformer(RESYNC.toMillis());
        i.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Pod pod) {
                seen(pod);
            }

            @Override
            public void onUpdate(Pod before, Pod pod) {
                seen(pod);
            }

            @Override
            public void onDelete(Pod pod, boolean unknownFinalState) {
                told.keySet().removeIf(k -> k.isOf(pod));
            }
        });
        i.exceptionHandler((started, error) -> {
            health.watch(ApiState.of(error), error);
            return !closed; // keep retrying, with the informer's own backoff
        });
        informer = i;
        i.start().whenComplete((ok, error) -> {
            if (error == null) {
                health.watch(ApiState.OK, null);
            }
        });
    }

    /** Every few seconds: a watch that closed and has not come back shows in the state. */
    void checkWatch() {
        SharedIndexInformer<Pod> i = informer;
        if (i != null && !closed && i.hasSynced()) {
            if (i.isWatching()) {
                health.watch(ApiState.OK, null);
            } else {
                health.watchClosed(); // unless the informer already said why (unreachable, forbidden, ...)
            }
        }
    }

    private void seen(Pod pod) {
        // The field selector keeps other nodes' pods away; a pod not (or no longer) on this node is not ours.
        if (closed || pod.getStatus() == null || pod.getSpec() == null || !node.equals(pod.getSpec().getNodeName())) {
            return;
        }
        List<ContainerStatus> all = new ArrayList<>();
        if (pod.getStatus().getInitContainerStatuses() != null) {
            all.addAll(pod.getStatus().getInitContainerStatuses());
        }
        if (pod.getStatus().getContainerStatuses() != null) {
            all.addAll(pod.getStatus().getContainerStatuses());
        }
        for (ContainerStatus s : all) {
            if (s.getState() == null || s.getState().getWaiting() == null
                    || !PULL_FAILURES.contains(s.getState().getWaiting().getReason())) {
                continue;
            }
            String image = specImage(pod, s);
            if (image != null) {
                diagnose(pod, s.getName(), image, s.getState().getWaiting().getReason());
            }
        }
    }

    /** The image as the pod spec names it (the status may show a resolved one). */
    private static String specImage(Pod pod, ContainerStatus s) {
        List<Container> containers = new ArrayList<>(pod.getSpec().getContainers());
        if (pod.getSpec().getInitContainers() != null) {
            containers.addAll(pod.getSpec().getInitContainers());
        }
        return containers.stream().filter(c -> c.getName().equals(s.getName())).map(Container::getImage)
                .findFirst().orElse(s.getImage());
    }

    private void diagnose(Pod pod, String container, String imageText, String waiting) {
        Instant now = clock.instant();
        PodImageKey podKey = PodImageKey.of(pod, imageText);
        Instant last = told.get(podKey);
        if (last != null && Duration.between(last, now).compareTo(options.diagnosisSpacing()) < 0) {
            return; // this pod already has its diagnosis; the next one after the spacing
        }
        PodImage image;
        try {
            image = PodImage.parse(imageText);
        } catch (RuntimeException e) {
            if (told.putIfAbsent(podKey, now) == null) {
                diagnoses.labelValues("invalid").inc();
                LOG.debug("pod {}: image '{}' does not parse: {}", podKey, imageText, e.getMessage());
            }
            return;
        }
        List<String> secrets = options.readPullSecrets() ? PullSecrets.names(pod) : List.of();
        ImageKey imageKey = new ImageKey(image.toString(), List.copyOf(secrets));
        Probed probed = images.get(imageKey);
        boolean fresh = probed != null && now.isBefore(probed.freshUntil());
        if (!fresh) {
            if (inFlight.incrementAndGet() > options.maxConcurrentDiagnoses()) {
                inFlight.decrementAndGet();
                diagnoses.labelValues("busy").inc();
                return;
            }
            Target target = image.target(config.get().probe().containerdCertsDir());
            RegistryAllowance.Grant grant = registryChecks.apply(target);
            Instant freshUntil = now.plus(options.diagnosisSpacing());
            if (!grant.granted() && grant.spentUntil().isBefore(freshUntil)) {
                freshUntil = grant.spentUntil();
            }
            probed = new Probed(freshUntil, probe(image, target, secrets, grant));
            images.put(imageKey, probed);
            probed.report().whenComplete((r, e) -> inFlight.decrementAndGet());
            diagnoses.labelValues(grant.granted() ? "probed" : "budget").inc();
            purge(now);
        } else {
            diagnoses.labelValues("reused").inc();
        }
        told.put(podKey, now);
        ObjectReference ref = new ObjectReferenceBuilder().withApiVersion("v1").withKind("Pod")
                .withNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName())
                .withUid(pod.getMetadata().getUid()).withFieldPath(fieldPath(pod, container)).build();
        probed.report().whenComplete((diagnosed, error) -> {
            if (closed || diagnosed == null) {
                if (error != null) {
                    LOG.warn("diagnosis of {} for pod {} failed: {}", imageKey, podKey,
                            error.toString());
                }
                return;
            }
            post.accept(event(ref, image, waiting, diagnosed));
        });
    }

    /**
     * Granted, the whole walk, paced as the scheduled check it replaces; else the hops that do not touch the
     * registry's API, which find where most pull failures are (DNS, a firewall, a proxy, TLS interception).
     */
    private CompletableFuture<Diagnosed> probe(PodImage image, Target target, List<String> secrets,
                                               RegistryAllowance.Grant grant) {
        ProbeOptions probeOptions = grant.granted() ? config.get().probe().withRegistryPace(grant.pace())
                : config.get().probe();
        Depth depth = grant.granted() ? Depth.REGISTRY : Depth.TLS;
        Duration bound = PathProber.maxBound(probeOptions);
        CompletableFuture<PullSecrets.Found> read = secrets.isEmpty()
                ? CompletableFuture.completedFuture(PullSecrets.Found.NONE)
                : CompletableFuture.supplyAsync(() -> PullSecrets.read(client, secrets, image.toString(),
                        target.authority()), secretReader);
        return Deadlines.within(read.thenCompose(found -> {
            PathProber p = prober.get();
            CredentialStores node = p.credentialStores(probeOptions.credentials());
            CredentialStores logins = found.credentials().isEmpty() ? node : node.plus(found.credentials());
            return p.probe(target, probeOptions, depth, image.image(), logins)
                    .thenApply(report -> new Diagnosed(report, found, grant));
        }), bound.toMillis() + API_READ_BOUND.toMillis(), "the diagnosis");
    }

    /** The most the secrets' reads add to a diagnosis (the client's own request timeout is 10 s per secret). */
    private static final Duration API_READ_BOUND = Duration.ofSeconds(30);

    private Event event(ObjectReference ref, PodImage image, String waiting, Diagnosed diagnosed) {
        TargetReport report = diagnosed.report();
        String secretsNote = diagnosed.secrets().sentence(options.readPullSecrets());
        String type;
        String reason;
        String message;
        if (report.ok() && !diagnosed.grant().granted()) {
            // The hops that ran work; the registry's own answer is the kubelet's Failed event until the allowance
            // is back. A failure of those hops is the diagnosis as it stands below: a whole walk stops there too.
            type = "Normal";
            reason = Wording.BUDGET_SPENT;
            message = Wording.budgeted(node, report, diagnosed.grant()) + " (image " + image + ") " + secretsNote
                    + " The kubelet's Failed event has the registry's own answer.";
        } else if (report.ok()) {
            type = "Normal";
            reason = "PullPathReachable";
            message = "pullpath on " + node + ": the pull path of " + image + " works from this node ("
                    + String.join(", ", report.phases().stream().map(p -> p.phase().label()).distinct().toList())
                    + " ok at " + Wording.host(report) + "), yet the pod is in " + waiting + ". "
                    + secretsNote + " Check the pod's imagePullSecrets and the kubelet's log.";
        } else {
            type = "Warning";
            reason = Wording.reason(report);
            message = Wording.diagnosis(node, report) + " (image " + image + ") " + secretsNote;
        }
        return events.event(ref.getNamespace(), ref, type, reason, Wording.bounded(message));
    }

    private static String fieldPath(Pod pod, String container) {
        boolean init = pod.getSpec().getInitContainers() != null && pod.getSpec().getInitContainers().stream()
                .anyMatch(c -> c.getName().equals(container));
        return (init ? "spec.initContainers{" : "spec.containers{") + container + "}";
    }

    /** Bounded memory: a diagnosis no longer fresh, and a pod told longer ago than the spacing, are forgotten. */
    private void purge(Instant now) {
        if (images.size() > 256) {
            images.values().removeIf(p -> p.report().isDone() && !now.isBefore(p.freshUntil()));
        }
        if (told.size() > 1024) {
            told.values().removeIf(t -> Duration.between(t, now).compareTo(options.diagnosisSpacing()) >= 0);
        }
    }

    @Override
    public void close() {
        closed = true;
        if (secretReader != null) {
            secretReader.shutdownNow();
        }
        SharedIndexInformer<Pod> i = informer;
        if (i != null) {
            i.close();
        }
    }
}
