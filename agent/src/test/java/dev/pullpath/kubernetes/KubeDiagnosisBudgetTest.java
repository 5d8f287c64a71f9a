package dev.pullpath.kubernetes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pullpath.config.AgentConfig;
import dev.pullpath.config.FleetOptions;
import dev.pullpath.config.KubernetesOptions;
import dev.pullpath.config.ProbeOptions;
import dev.pullpath.config.Target;
import dev.pullpath.config.TargetConfig;
import dev.pullpath.config.TargetKind;
import dev.pullpath.probe.PathProber;
import dev.pullpath.schedule.FleetCadence;
import dev.pullpath.schedule.FleetSize;
import dev.pullpath.schedule.ProbeScheduler;
import dev.pullpath.schedule.Prober;
import dev.pullpath.schedule.RegistrySchedule;
import dev.pullpath.schedule.SchedulerTimer;
import dev.pullpath.schedule.StatusBoard;
import dev.pullpath.testing.Counters;
import dev.pullpath.testing.LoopbackLab;
import dev.pullpath.testing.RegistryResponder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.random.RandomGenerator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bad rollout on a node of a fleet: pods of images the registry does not have fail to pull, and their diagnoses
 * stay within the node's share of the fleet's registry budget. The real scheduler checks the registry (a loopback
 * registry with token auth, which counts every request) for its configured target, {@code team/base:1}; the pods'
 * images, {@code team/app:1.2} and {@code team/web:2.0}, are not there (the registry answers 404); the
 * API server is fabric8's mock. Every request the registry receives is counted: each walk begins with an anonymous
 * {@code GET /v2/}, and names its image in its manifest requests.
 */
class KubeDiagnosisBudgetTest {
    private static final String NODE = "node-a";
    private static final String METRIC = "pullpath_kubernetes_pod_diagnoses_total";
    private static final Pattern SPENT_UNTIL = Pattern.compile("is spent until (\\S+?);");

    @TempDir
    Path dir;
    private KubeApiServer api;
    private KubernetesClient kubectl;
    private LoopbackLab lab;
    private RegistryResponder registry;
    private PathProber prober;
    private StatusBoard board;
    private ProbeScheduler scheduler;
    private PrometheusRegistry metrics;
    private KubernetesReporter reporter;

    /**
     * The node, one of {@code fleetSize} under {@code budget} requests/s: its configured target's registry interval
     * is I = 1.1 × fleetSize × 10 requests / budget. Every random draw is 1 %: the first registry check 1 % into I.
     */
    private void start(int fleetSize, double budget) throws Exception {
        api = new KubeApiServer();
        kubectl = api.kubectl();
        kubectl.nodes().resource(new NodeBuilder().withNewMetadata().withName(NODE).endMetadata().build()).create();
        lab = LoopbackLab.byAddress(dir, "CN=pullpath diagnosis budget test CA");
        registry = lab.registry().alpn(List.of("http/1.1")).manifest("team/base:1");
        ProbeOptions probe = lab.probeOptions(Duration.ofSeconds(2), 4);
        Target t = lab.registryByAddress();
        AgentConfig config = new AgentConfig("test", new InetSocketAddress("127.0.0.1", 0), NODE, "", 4, false, true,
                probe, List.of(new TargetConfig("reg", new Target("reg", t.host(), t.port()), TargetKind.REGISTRY,
                        Duration.ofMillis(200), Duration.ofSeconds(1), Duration.ofSeconds(2), Map.of(), null,
                        "team/base:1")), null, Duration.ofSeconds(5), KubernetesOptions.DISABLED,
                new FleetOptions(budget, fleetSize, null, null, null, null, FleetOptions.DEFAULT_REFRESH));
        prober = new PathProber(probe, 1, null); // no token cache: every walk sends all its requests
        board = new StatusBoard(Clock.systemUTC());
        RandomGenerator early = () -> (long) (0.01 * (1L << 53)) << 11;
        scheduler = new ProbeScheduler(Prober.of(prober), board, Clock.systemUTC(), early,
                SchedulerTimer.system("test-scheduler"), new FleetCadence(budget,
                FleetSize.configured(fleetSize, Instant.now())));
        metrics = new PrometheusRegistry();
        reporter = new KubernetesReporter(api.agentClient(), NODE, new KubernetesOptions(true, Duration.ofSeconds(10),
                Duration.ofMinutes(10), 2, false), () -> prober, () -> config, scheduler::borrowRegistryCheck,
                metrics, Clock.systemUTC(), Duration.ofMillis(500));
        reporter.start();
        scheduler.apply(config);
        await(() -> schedule().checked(), "the scheduler's first registry check", Duration.ofSeconds(20));
    }

    @AfterEach
    void stop() {
        if (reporter != null) {
            reporter.close();
            scheduler.close();
            prober.close();
            lab.close();
            kubectl.close();
            api.close();
        }
    }

    @Test
    @DisplayName("a node of 3, budget 0.5 req/s, I = 66 s: the first failing pod on the node borrows its registry check → the "
            + "whole walk, and the Event has the registry's reason (registry/not_found)")
    void firstFailingPodGetsTheWholeWalk() throws Exception {
        start(3, 0.5);
        assertEquals(Duration.ofSeconds(66), schedule().interval(), "I = 1.1 × 3 nodes × 10 requests / 0.5 req/s");

        Event e = awaitEvent(pullingPod("app-1", image("team/app:1.2")));
        assertEquals("Warning", e.getType(), e.getMessage());
        assertEquals("RegistryNotFound", e.getReason(), e.getMessage());
        assertTrue(e.getMessage().startsWith("pullpath on node-a: registry/not_found at manifest "),
                e.getMessage());
        assertEquals(1, walksOf("team/app"), "the diagnosis walked to the manifest: " + registry.requests());
        assertEquals(1.0, counter("probed"));
        assertEquals(0.0, counter("budget"));
    }

    @Test
    @DisplayName("the pod's image is on the registry but its blobs redirect to a layer host that refuses → the Event "
            + "names the layer hop and that host (firewall/connect_refused), not the registry, which answered")
    void blockedLayerHostIsNamedOnThePod() throws Exception {
        start(3, 0.5);
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        registry.manifest("team/app:1.2").blobRedirect("https://127.0.0.1:" + closed + "/layers");

        Event e = awaitEvent(pullingPod("app-1", image("team/app:1.2")));
        assertEquals("Warning", e.getType(), e.getMessage());
        assertEquals("FirewallConnectRefused", e.getReason(), e.getMessage());
        assertTrue(e.getMessage().startsWith("pullpath on node-a: firewall/connect_refused at layer 127.0.0.1:"
                + closed), e.getMessage());
        assertTrue(registry.requests().stream().anyMatch(r -> r.pathAndQuery().contains("/team/app/blobs/")),
                "the registry answered the blob with its redirect: " + registry.requests());
    }

    @Test
    @DisplayName("a second failing image on the node within I → DNS, TCP and TLS only, not one request to the "
            + "registry; the Event says the budget is spent until when and quotes the node's last check; budget 1")
    void secondImageWithinTheIntervalRunsTheCheapHopsOnly() throws Exception {
        start(3, 0.5);
        Instant lastCheck = ownCheck();
        Instant before = Instant.now();
        awaitEvent(pullingPod("app-1", image("team/app:1.2")));
        int requests = registry.requests().size();

        Event e = awaitEvent(pullingPod("web-1", image("team/web:2.0")));
        assertEquals("Normal", e.getType(), e.getMessage());
        assertEquals("RegistryBudgetSpent", e.getReason(), e.getMessage());
        String host = "127.0.0.1:" + registry.port();
        assertTrue(e.getMessage().startsWith("pullpath on node-a: dns, connect, tls ok at " + host + "; registry hops not "
                + "re-run: this node's share of the fleet's registry budget (fleet.registryBudget) is spent until "),
                e.getMessage());
        assertTrue(e.getMessage().contains("; the last registry check of " + host + " at "
                + lastCheck.truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + " said ok. (image " + image(
                "team/web:2.0") + ")"), e.getMessage());
        assertTrue(!e.getMessage().contains("manifest ok") && !e.getMessage().contains("token"),
                "never ok for hops that did not run: " + e.getMessage());
        Instant spentUntil = spentUntil(e);
        assertTrue(!spentUntil.isBefore(before.plusSeconds(66).minusSeconds(1))
                        && !spentUntil.isAfter(Instant.now().plusSeconds(66)),
                "spent until the first diagnosis's borrow + I (66 s): " + spentUntil);

        List<RegistryResponder.RecordedRequest> since = registry.requests().subList(requests,
                registry.requests().size());
        assertTrue(since.stream().noneMatch(r -> r.pathAndQuery().contains("web")), "not one request of the second "
                + "diagnosis reached the registry: " + since);
        assertEquals(1.0, counter("probed"));
        assertEquals(1.0, counter("budget"));
    }

    @Test
    @DisplayName("a diagnosis borrowed the node's check (I = 3 s): the scheduler's next registry check is skipped, "
            + "once (its own checks 2 I apart instead of I); the target keeps its own last check, and the one after "
            + "the skip runs")
    void borrowedCheckIsSkippedOnce() throws Exception {
        start(2, 22.0 / 3);
        assertEquals(Duration.ofSeconds(3), schedule().interval(), "I = 1.1 × 2 nodes × 10 requests / 7.33 req/s");

        awaitEvent(pullingPod("app-1", image("team/app:1.2")));
        assertEquals(1, walksOf("team/app"), "the diagnosis ran the registry hops: " + registry.requests());
        // Measured from the target's last check before the borrow, whenever the informer delivered the pod (a cold
        // JVM's first informer takes seconds, in which the scheduler checks as usual): every draw is 1 %, so its
        // checks are 0.902 I = 2.7 s apart, and 5.4 s around a skipped one.
        Instant before = ownCheck();
        long checks = walksOf("team/base");
        await(() -> ownCheck().isAfter(before), "the target's next check that runs", Duration.ofSeconds(15));
        Duration gap = Duration.between(before, ownCheck());
        assertTrue(gap.compareTo(Duration.ofMillis(4_500)) > 0, "the check due 2.7 s after the one at " + before
                + " was skipped: the next ran " + gap.toMillis() + " ms after it");
        assertEquals(checks + 1, walksOf("team/base"), "one walk of its own image, the check after the skip: "
                + registry.requests());
        assertTrue(board.get("reg").report().ok(), "the target's status is its own check of team/base:1, not the "
                + "diagnosis's registry/not_found of another image: " + board.get("reg").report());

        Instant after = ownCheck();
        await(() -> ownCheck().isAfter(after), "the check after that, not skipped", Duration.ofSeconds(10));
        Duration next = Duration.between(after, ownCheck());
        assertTrue(next.compareTo(Duration.ofMillis(4_500)) < 0, "skipped once only: " + next.toMillis() + " ms");
        assertEquals(1, walksOf("team/app"));
    }

    @Test
    @DisplayName("a fleet of one (fleet.size 1, as without a fleet: section): two failing images on one registry, both walked whole; "
            + "nothing borrowed, the scheduler's checks go on at their own interval")
    void fleetOfOneIsUnchanged() throws Exception {
        // A budget of 100 req/s, as the daemon tests have, so the scheduler's checks are seen within seconds (the
        // default 0.1 gives a node alone 110 s); a fleet of one lends nothing whatever its budget.
        start(1, 100);
        assertEquals(Duration.ofSeconds(1), schedule().interval(), "a node alone: the target's registryInterval");

        Event app = awaitEvent(pullingPod("app-1", image("team/app:1.2")));
        Event web = awaitEvent(pullingPod("web-1", image("team/web:2.0")));
        assertEquals("RegistryNotFound", app.getReason(), app.getMessage());
        assertEquals("RegistryNotFound", web.getReason(), web.getMessage());
        assertEquals(1, walksOf("team/app"));
        assertEquals(1, walksOf("team/web"));
        assertEquals(2.0, counter("probed"));
        assertEquals(0.0, counter("budget"));

        long checks = walksOf("team/base");
        Thread.sleep(3_000);
        long more = walksOf("team/base") - checks;
        assertTrue(more >= 2 && more <= 4, "about one check per 0.9-1.1 s, none skipped: " + more + " in 3 s");
    }

    // ---------------------------------------------------------------------------------------------------------

    /** When the target's last registry check ran: its own report right after it, else the one its status carries. */
    private Instant ownCheck() {
        var r = board.get("reg").report();
        return r.registryCheckedAt() != null ? r.registryCheckedAt() : r.checkedAt();
    }

    private RegistrySchedule schedule() {
        return scheduler.registrySchedule("reg");
    }

    private String image(String repoAndTag) {
        return "127.0.0.1:" + registry.port() + "/" + repoAndTag;
    }

    /** Walks of {@code repo}'s image: one anonymous manifest HEAD each (it is answered 401, then asked with a token). */
    private long walksOf(String repo) {
        return registry.requests().stream().filter(r -> r.method().equals("HEAD") && !r.authorizationPresent()
                && r.pathAndQuery().startsWith("/v2/" + repo + "/manifests/")).count();
    }

    private Event awaitEvent(Pod pod) throws InterruptedException {
        kubectl.pods().inNamespace("team").resource(pod).create();
        String name = pod.getMetadata().getName();
        await(() -> !podEvents(name).isEmpty(), "an Event on pod " + name, Duration.ofSeconds(20));
        return podEvents(name).get(0);
    }

    private List<Event> podEvents(String pod) {
        return kubectl.v1().events().inNamespace("team").list().getItems().stream()
                .filter(e -> e.getInvolvedObject().getName().equals(pod)).toList();
    }

    private static Pod pullingPod(String name, String image) {
        return new PodBuilder().withNewMetadata().withName(name).withNamespace("team").withUid("uid-" + name)
                .endMetadata().withNewSpec().withNodeName(NODE).addNewContainer().withName("app").withImage(image)
                .endContainer().endSpec().withNewStatus().withPhase("Pending").addNewContainerStatus().withName("app")
                .withImage(image).withReady(false).withRestartCount(0).withNewState().withNewWaiting()
                .withReason("ErrImagePull").endWaiting().endState().endContainerStatus().endStatus().build();
    }

    private static Instant spentUntil(Event e) {
        Matcher m = SPENT_UNTIL.matcher(e.getMessage());
        assertTrue(m.find(), e.getMessage());
        return Instant.parse(m.group(1));
    }

    private double counter(String result) {
        return Counters.value(metrics, METRIC, result);
    }

    private static void await(BooleanSupplier condition, String what, Duration within) throws InterruptedException {
        Instant until = Instant.now().plus(within);
        while (!condition.getAsBoolean()) {
            if (Instant.now().isAfter(until)) {
                throw new AssertionError("within " + within.toSeconds() + " s: " + what);
            }
            Thread.sleep(50);
        }
    }
}
