package dev.pullpath.kubernetes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.pullpath.config.AgentConfig;
import dev.pullpath.config.KubernetesOptions;
import dev.pullpath.config.ProbeOptions;
import dev.pullpath.config.Target;
import dev.pullpath.config.TargetConfig;
import dev.pullpath.config.TargetKind;
import dev.pullpath.probe.PathProber;
import dev.pullpath.schedule.ProbeScheduler;
import dev.pullpath.schedule.StatusBoard;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import dev.pullpath.testing.Counters;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * What an SRE sees in {@code kubectl describe node} and {@code describe pod}, produced by the real scheduler,
 * prober and fabric8 client against fabric8's mock API server (CRUD mode) on loopback; the registries are loopback
 * sockets, open (a working path) or closed (connection refused: a blocked host).
 */
class KubeReporterTest {
    private static final String NODE = "node-a";

    @TempDir
    Path dir;
    private KubeApiServer api;
    private KubernetesClient kubectl;
    private PathProber prober;
    private StatusBoard board;
    private ProbeScheduler scheduler;
    private PrometheusRegistry metrics;
    private KubernetesReporter reporter;
    private ServerSocket registry;
    private int registryPort;
    private volatile AgentConfig config;
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();

    @BeforeEach
    void start() throws IOException {
        api = new KubeApiServer();
        kubectl = api.kubectl();
        kubectl.nodes().resource(new NodeBuilder().withNewMetadata().withName(NODE).endMetadata()
                .withNewStatus().addNewCondition().withType("Ready").withStatus("True").withReason("KubeletReady")
                .endCondition().endStatus().build()).create();
        registry = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        registryPort = registry.getLocalPort();
        ProbeOptions probe = new ProbeOptions(Duration.ofSeconds(1), 4, List.of(), dir.resolve("resolv.conf"),
                dir.resolve("hosts"), List.of(), 64 * 1024);
        Target t = Target.parse("127.0.0.1:" + registryPort);
        config = new AgentConfig("test", new InetSocketAddress("127.0.0.1", 0), NODE, "", 4, false, true, probe,
                List.of(new TargetConfig("registry", new Target("registry", t.host(), t.port()), TargetKind.TCP,
                        Duration.ofMillis(200), Duration.ofSeconds(30), Duration.ofSeconds(1), Map.of())), null);
        prober = new PathProber(probe, 1, null);
        board = new StatusBoard(Clock.systemUTC());
        scheduler = new ProbeScheduler(prober, board, Clock.systemUTC(), RandomGenerator.getDefault());
        metrics = new PrometheusRegistry();
        Logger health = (Logger) LoggerFactory.getLogger(ApiHealth.class);
        log.start();
        health.addAppender(log);
        reporter = new KubernetesReporter(api.agentClient(), NODE, new KubernetesOptions(true, Duration.ofSeconds(10),
                Duration.ofMinutes(10), 2, false), () -> prober, () -> config, scheduler::borrowRegistryCheck, metrics,
                Clock.systemUTC(),
                Duration.ofMillis(500));
        board.listen(reporter);
        reporter.start();
    }

    @AfterEach
    void stop() throws IOException {
        ((Logger) LoggerFactory.getLogger(ApiHealth.class)).detachAppender(log);
        reporter.close();
        scheduler.close();
        prober.close();
        kubectl.close();
        api.close();
        if (!registry.isClosed()) {
            registry.close();
        }
    }

    @Test
    @DisplayName("node condition: True while the path works, False FirewallConnectRefused when the registry is "
            + "blocked, True again; the kubelet's conditions stay; a Warning and a Normal Event on the node")
    void nodeConditionFollowsTheTargets() throws Exception {
        scheduler.apply(config);
        NodeCondition up = awaitCondition("True");
        assertEquals("RegistriesReachable", up.getReason());
        assertTrue(up.getMessage().contains("(1 target)"), up.getMessage());
        assertTrue(up.getLastHeartbeatTime() != null && up.getLastTransitionTime() != null, up.toString());

        registry.close();
        NodeCondition down = awaitCondition("False");
        assertEquals("FirewallConnectRefused", down.getReason());
        assertTrue(down.getMessage().startsWith("registry: firewall/connect_refused at connect: "), down.getMessage());
        assertTrue(condition("Ready") != null, "the kubelet's Ready condition survives the patch: "
                + kubectl.nodes().withName(NODE).get().getStatus().getConditions());

        registry = new ServerSocket(registryPort, 50, InetAddress.getLoopbackAddress());
        NodeCondition again = awaitCondition("True");
        assertEquals("RegistriesReachable", again.getReason());

        await(() -> nodeEvents().size() >= 2, "a Warning and a Normal Event on the node: " + nodeEvents());
        Event warning = nodeEvents().stream().filter(e -> e.getType().equals("Warning")).findFirst().orElseThrow();
        assertEquals("FirewallConnectRefused", warning.getReason());
        assertTrue(warning.getMessage().startsWith("pullpath on node-a: firewall/connect_refused at connect registry: "),
                warning.getMessage());
        assertEquals("pullpath", warning.getSource().getComponent());
        Event normal = nodeEvents().stream().filter(e -> e.getType().equals("Normal")).findFirst().orElseThrow();
        assertEquals("PullPathRecovered", normal.getReason());
        assertTrue(normal.getMessage().contains("it was firewall/connect_refused"), normal.getMessage());
    }

    @Test
    @DisplayName("a flapping target gives a few aggregated Events, not one per change")
    void flappingIsRateLimitedAndAggregated() throws Exception {
        scheduler.apply(config);
        awaitCondition("True");
        Instant until = Instant.now().plusSeconds(4);
        int changes = 0;
        while (Instant.now().isBefore(until)) {
            registry.close();
            Thread.sleep(300);
            registry = new ServerSocket(registryPort, 50, InetAddress.getLoopbackAddress());
            Thread.sleep(300);
            changes += 2;
        }
        Thread.sleep(1_500);
        List<Event> events = nodeEvents();
        int posted = events.stream().mapToInt(Event::getCount).sum();
        // 500 ms spacing over ~5.5 s: at most about 11 posts, against ~13 state changes, and the same two Events
        // counted up rather than one object per change.
        assertTrue(posted >= 2 && posted <= 12, "posted " + posted + " for " + changes + " changes: " + events);
        assertTrue(events.size() <= 3, "repeats are aggregated into their first Event: " + events);
    }

    @Test
    @DisplayName("a pod in ImagePullBackOff for an image on a blocked registry gets the diagnosis as an Event; a "
            + "second pod of the image reuses it; a pod of another node gets nothing")
    void failedPullGetsItsDiagnosis() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        String image = "127.0.0.1:" + closed + "/team/app:1.2";
        kubectl.pods().inNamespace("team").resource(pullingPod("app-1", NODE, image)).create();
        kubectl.pods().inNamespace("team").resource(pullingPod("elsewhere", "node-b", image)).create();

        await(() -> podEvents("app-1").size() == 1, new Object() {
            @Override
            public String toString() {
                return "an Event on the pod; listed " + kubectl.pods().inAnyNamespace().withField("spec.nodeName",
                        NODE).list().getItems().size() + "; probed " + counter("pullpath_kubernetes_pod_diagnoses_total", "probed")
                        + ", busy " + counter("pullpath_kubernetes_pod_diagnoses_total", "busy") + ", invalid " + counter(
                        "pullpath_kubernetes_pod_diagnoses_total", "invalid") + ", reused " + counter(
                        "pullpath_kubernetes_pod_diagnoses_total", "reused");
            }
        });
        Event e = podEvents("app-1").get(0);
        assertEquals("Warning", e.getType());
        assertEquals("FirewallConnectRefused", e.getReason());
        assertEquals("spec.containers{app}", e.getInvolvedObject().getFieldPath());
        assertTrue(e.getMessage().startsWith("pullpath on node-a: firewall/connect_refused at connect 127.0.0.1:"
                + closed + ": "), e.getMessage());
        assertTrue(e.getMessage().contains("(image 127.0.0.1:" + closed + "/team/app:1.2)"), e.getMessage());
        assertTrue(e.getMessage().endsWith(PullSecrets.NOT_READ), e.getMessage());

        kubectl.pods().inNamespace("team").resource(pullingPod("app-2", NODE, image)).create();
        await(() -> podEvents("app-2").size() == 1, "the second pod gets the diagnosis too");
        assertEquals(e.getMessage(), podEvents("app-2").get(0).getMessage());
        assertEquals(1.0, counter("pullpath_kubernetes_pod_diagnoses_total", "probed"), "one probe of the image");
        assertEquals(1.0, counter("pullpath_kubernetes_pod_diagnoses_total", "reused"));
        Thread.sleep(1_000);
        assertEquals(0, podEvents("elsewhere").size(), "the agent diagnoses its own node's pods only");
        assertTrue(api.requests().stream().filter(r -> r.startsWith("GET /api/v1/pods?"))
                .allMatch(r -> r.contains("fieldSelector=spec.nodeName%3Dnode-a")), "list and watch select by node, "
                + "no cluster-wide cache: " + api.requests());
    }

    @Test
    @DisplayName("API server stopped mid-run: probes go on, state unreachable in the metric and one log line; "
            + "restarted: the condition catches up")
    void apiServerRestart() throws Exception {
        scheduler.apply(config);
        awaitCondition("True");
        api.stop();
        registry.close(); // a change while the API is away
        await(() -> "unreachable".equals(apiState()) || "slow".equals(apiState()),
                "api state: " + apiState());
        long probes = board.get("registry").probes();
        Thread.sleep(1_500);
        assertTrue(board.get("registry").probes() > probes + 3, "probes go on while the API is away");
        assertEquals("firewall", board.get("registry").report().category());
        api.restart();
        NodeCondition down = awaitCondition("False");
        assertEquals("FirewallConnectRefused", down.getReason());
        await(() -> "ok".equals(apiState()), "api state back to ok: " + apiState());
        long warnings = log.list.stream().filter(l -> l.getFormattedMessage().startsWith("Kubernetes API ")
                && !l.getFormattedMessage().contains("reachable again")).count();
        assertTrue(warnings >= 1 && warnings <= 2, "one line per change of state, not per retry: " + lines());
    }

    @Test
    @DisplayName("RBAC denied (403): metric forbidden, one log line, probes go on; allowed again: posted")
    void forbidden() throws Exception {
        api.forbid(true);
        probesGoOnWhileTheApiIs("forbidden", Duration.ofSeconds(3), 5);
        List<String> forbidden = lines().stream().filter(l -> l.contains("forbidden")).toList();
        assertEquals(1, forbidden.size(), "one line per change of state: " + lines());
        assertTrue(forbidden.get(0).contains("403"), forbidden.get(0));
        // Backoff: 1 s doubling, so a handful of attempts in 3 s, not one per probe.
        long patches = api.requests().stream().filter(r -> r.startsWith("PATCH /api/v1/nodes/node-a/status")).count();
        assertTrue(patches <= 4, "retried with backoff: " + patches + " patches");
        api.forbid(false);
        awaitCondition("True");
        await(() -> "ok".equals(apiState()), "api state: " + apiState());
    }

    @Test
    @DisplayName("token refused (401): metric unauthorized, one log line, probes go on; accepted again: posted")
    void tokenRefused() throws Exception {
        api.rejectToken(true);
        probesGoOnWhileTheApiIs("unauthorized", Duration.ofSeconds(2), 3);
        List<String> refused = lines().stream().filter(l -> l.startsWith("Kubernetes API unauthorized")).toList();
        assertEquals(1, refused.size(), "one line per change of state: " + lines());
        api.rejectToken(false);
        awaitCondition("True");
        await(() -> "ok".equals(apiState()), "api state: " + apiState());
    }

    @Test
    @DisplayName("API server slower than the client waits (10 s): metric slow, probes go on at their pace; "
            + "fast again: the condition is posted")
    void apiServerSlow() throws Exception {
        api.slow(Duration.ofSeconds(12));
        scheduler.apply(config);
        await(() -> board.get("registry") != null, "a first probe");
        long probes = board.get("registry").probes();
        await(() -> "slow".equals(apiState()), "api state: " + apiState(), Duration.ofSeconds(30));
        // At 200 ms a probe, a probe that waited on the API (10 s per request) would show here.
        assertTrue(board.get("registry").probes() > probes + 10, "probes never wait for the API: "
                + board.get("registry").probes() + " probes, " + probes + " at the start");
        api.slow(Duration.ZERO);
        await(() -> condition(KubernetesReporter.CONDITION) != null, "the condition, once the API answers in time",
                Duration.ofSeconds(60));
        await(() -> "ok".equals(apiState()), "api state: " + apiState(), Duration.ofSeconds(30));
    }

    // ---------------------------------------------------------------------------------------------------------

    /** Starts the schedule with the API in {@code state} and checks the probes keep their pace meanwhile. */
    private void probesGoOnWhileTheApiIs(String state, Duration watched, int moreProbes) throws Exception {
        scheduler.apply(config);
        await(() -> board.get("registry") != null, "a first probe");
        await(() -> state.equals(apiState()), "api state: " + apiState());
        long probes = board.get("registry").probes();
        Thread.sleep(watched.toMillis());
        assertTrue(board.get("registry").probes() > probes + moreProbes, "probes go on");
    }

    private static Pod pullingPod(String name, String node, String image) {
        return new PodBuilder().withNewMetadata().withName(name).withNamespace("team").withUid("uid-" + name)
                .endMetadata().withNewSpec().withNodeName(node).addNewContainer().withName("app").withImage(image)
                .endContainer().endSpec().withNewStatus().withPhase("Pending").addNewContainerStatus().withName("app")
                .withImage(image).withReady(false).withRestartCount(0).withNewState().withNewWaiting()
                .withReason("ImagePullBackOff").withMessage("Back-off pulling image \"" + image + "\"")
                .endWaiting().endState().endContainerStatus().endStatus().build();
    }

    private NodeCondition condition(String type) {
        var node = kubectl.nodes().withName(NODE).get();
        if (node == null || node.getStatus() == null || node.getStatus().getConditions() == null) {
            return null;
        }
        return node.getStatus().getConditions().stream().filter(c -> c.getType().equals(type)).findFirst()
                .orElse(null);
    }

    private NodeCondition awaitCondition(String status) throws InterruptedException {
        await(() -> {
            NodeCondition c = condition(KubernetesReporter.CONDITION);
            return c != null && c.getStatus().equals(status);
        }, "condition " + KubernetesReporter.CONDITION + " " + status + "; it is " + condition(
                KubernetesReporter.CONDITION));
        return condition(KubernetesReporter.CONDITION);
    }

    private List<Event> nodeEvents() {
        return kubectl.v1().events().inNamespace("default").list().getItems().stream()
                .filter(e -> e.getInvolvedObject().getKind().equals("Node")
                        && e.getInvolvedObject().getName().equals(NODE)).toList();
    }

    private List<Event> podEvents(String pod) {
        return kubectl.v1().events().inNamespace("team").list().getItems().stream()
                .filter(e -> e.getInvolvedObject().getName().equals(pod)).toList();
    }

    private String apiState() {
        for (MetricSnapshot m : metrics.scrape()) {
            if (m.getMetadata().getName().equals("pullpath_kubernetes_api_state")) {
                for (GaugeSnapshot.GaugeDataPointSnapshot p : ((GaugeSnapshot) m).getDataPoints()) {
                    if (p.getValue() == 1) {
                        return p.getLabels().get("state");
                    }
                }
            }
        }
        return null;
    }

    private double counter(String name, String result) {
        return Counters.value(metrics, name, result);
    }

    private List<String> lines() {
        return log.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    }

    private static void await(BooleanSupplier condition, Object what) throws InterruptedException {
        await(condition, what, Duration.ofSeconds(20));
    }

    private static void await(BooleanSupplier condition, Object what, Duration within) throws InterruptedException {
        Instant until = Instant.now().plus(within);
        while (!condition.getAsBoolean()) {
            if (Instant.now().isAfter(until)) {
                throw new AssertionError("within " + within.toSeconds() + " s: " + what); // the state it ended in
            }
            Thread.sleep(100);
        }
    }
}
