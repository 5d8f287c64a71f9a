package dev.pullpath.dashboards;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.pullpath.Agent;
import dev.pullpath.config.ConfigLoader;
import dev.pullpath.testing.AlertmanagerServer;
import dev.pullpath.testing.Loopback;
import dev.pullpath.testing.PrometheusServer;
import dev.pullpath.testing.RegistryResponder;
import dev.pullpath.testing.TcpPeers;
import dev.pullpath.testing.TestPki;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The alert path as it runs in a cluster, every piece real except the cluster: {@code pullpath run} (in-process)
 * probing a registry whose port is closed and one that answers 429, Debian's Prometheus scraping it (with the
 * {@code node} label a PodMonitor adds) and evaluating the project's rule file, Debian's Alertmanager routing to a
 * webhook in this test. Only the rules' {@code for:} durations are shortened, in a copy, so the test takes seconds
 * instead of 30 minutes.
 */
class AlertPathTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path RULES = DashboardFiles.RULES;
    private static final Pattern FOR = Pattern.compile("(?m)^(\\s+for: )\\S+$");
    private static final Duration NOTIFICATION_TIMEOUT = Duration.ofSeconds(40);

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 150, unit = TimeUnit.SECONDS)
    @DisplayName("registry port closed, another registry answering 429 → Alertmanager's webhook gets PullpathNodeFailing "
            + "firewall/connect_refused and PullpathRegistryRateLimited, each with its hint and runbook link; both "
            + "registries healthy again → the resolved notifications")
    void alertsFireAndResolveThroughAlertmanager() throws Exception {
        PrometheusServer.assumeAvailable();
        AlertmanagerServer.assumeAvailable();
        long t0 = System.nanoTime();

        String rules = Files.readString(RULES);
        Matcher forLines = FOR.matcher(rules);
        assertTrue(forLines.find(), "the rule file has for: durations to shorten");
        Path shortRules = Files.writeString(dir.resolve("pullpath-rules.yaml"), forLines.replaceAll("$11s"));

        List<JsonNode> received = java.util.Collections.synchronizedList(new ArrayList<>());
        HttpServer webhook = HttpServer.create(new InetSocketAddress(Loopback.IPV4, 0), 0);
        webhook.createContext("/alerts", exchange -> {
            try (exchange) {
                JsonNode notification = JSON.readTree(exchange.getRequestBody().readNBytes(1 << 20));
                for (JsonNode alert : notification.path("alerts")) {
                    received.add(((com.fasterxml.jackson.databind.node.ObjectNode) alert.deepCopy())
                            .put("receiver", notification.path("receiver").asText()));
                }
                exchange.sendResponseHeaders(200, -1);
            }
        });
        webhook.start();

        TestPki.Ca ca = TestPki.newCa("CN=pullpath alert path CA");
        ca.writePem(dir.resolve("ca.pem"));
        int closedPort = TcpPeers.closedPort();
        Files.writeString(dir.resolve("hosts"), "127.0.0.1 registry.test limited.test\n");
        RegistryResponder healed = null;
        try (RegistryResponder limited = new RegistryResponder(ca.issueFor("limited.test"))
                .hostForRealm("limited.test").mode(RegistryResponder.Mode.status(429))) {
            Path config = Files.writeString(dir.resolve("config.yaml"), "listen: 127.0.0.1:0\nnode: node-a\n"
                    + "interval: 1s\nregistryInterval: 10s\ntimeout: 1s\nfleet: {registryBudget: 100}\n"
                    + "resolvers: [\"127.0.0.1:" + TcpPeers.closedPort() + "\"]\nhostsFile: " + dir.resolve("hosts")
                    + "\ncaFiles: [\"" + dir.resolve("ca.pem") + "\"]\ncontainerdCertsDir: " + dir.resolve("none")
                    + "\ntargets:\n  - name: reg\n    url: https://registry.test:" + closedPort + "\n"
                    + "  - name: limited\n    url: https://limited.test:" + limited.port() + "\n");
            ConfigLoader loader = new ConfigLoader(Map.<String, String>of()::get);
            try (Agent agent = Agent.start(loader.load(config, true), loader);
                 AlertmanagerServer alertmanager = AlertmanagerServer.start(URI.create("http://127.0.0.1:"
                         + webhook.getAddress().getPort() + "/alerts"));
                 PrometheusServer prometheus = PrometheusServer.start(agent.address().getPort(), "/metrics",
                         Duration.ofSeconds(1), new PrometheusServer.Alerting(shortRules, alertmanager.port(),
                                 Map.of("node", "node-a")))) {
                Await await = new Await(received, alertmanager, prometheus);
                JsonNode failing = await.alert("PullpathNodeFailing", "firing");
                long failingMs = (System.nanoTime() - t0) / 1_000_000;
                JsonNode labels = failing.path("labels");
                assertEquals("test-webhook", failing.path("receiver").asText());
                assertEquals("warning", labels.path("severity").asText(), failing::toString);
                assertEquals("firewall", labels.path("category").asText(), failing::toString);
                assertEquals("connect_refused", labels.path("reason").asText(), failing::toString);
                assertEquals("reg", labels.path("target").asText(), failing::toString);
                assertEquals("node-a", labels.path("node").asText(), failing::toString);
                JsonNode annotations = failing.path("annotations");
                assertEquals("check egress rules for the port and that the host is the right endpoint",
                        annotations.path("hint").asText(), "the reason's own hint, templated by Prometheus: " + failing);
                assertEquals("https://github.com/pullpath/pullpath/blob/main/docs/runbook.md#firewall",
                        annotations.path("runbook_url").asText(), failing::toString);
                assertEquals("node-a cannot reach reg: firewall/connect_refused",
                        annotations.path("summary").asText(), failing::toString);
                assertTrue(annotations.path("description").asText().contains("for 30 minutes"), failing::toString);

                // Per target, not per node (nodes behind one NAT share the quota): no node or reason label.
                JsonNode rateLimited = await.alert("PullpathRegistryRateLimited", "firing");
                long rateLimitedMs = (System.nanoTime() - t0) / 1_000_000;
                JsonNode rlLabels = rateLimited.path("labels");
                assertEquals("limited", rlLabels.path("target").asText(), rateLimited::toString);
                assertEquals("warning", rlLabels.path("severity").asText(), rateLimited::toString);
                assertTrue(rlLabels.path("node").isMissingNode() && rlLabels.path("reason").isMissingNode(),
                        rateLimited::toString);
                assertEquals("every node behind one NAT shares the quota: authenticate, cache, spread pulls",
                        rateLimited.path("annotations").path("hint").asText(), rateLimited::toString);
                assertEquals("https://github.com/pullpath/pullpath/blob/main/docs/runbook.md#registry",
                        rateLimited.path("annotations").path("runbook_url").asText(), rateLimited::toString);
                assertEquals("limited rate-limits 1 node(s)", rateLimited.path("annotations").path("summary").asText(),
                        rateLimited::toString);

                // The faults removed: a registry now answers on the port that was closed, the other stops limiting.
                TestPki.Issued identity = ca.issueFor("registry.test");
                healed = new RegistryResponder(Loopback.address(closedPort), identity.key(), identity.chainArray())
                        .hostForRealm("registry.test");
                limited.mode(RegistryResponder.Mode.BEARER);
                long healedAt = System.nanoTime();
                JsonNode resolved = await.alert("PullpathNodeFailing", "resolved");
                long resolvedMs = (System.nanoTime() - healedAt) / 1_000_000;
                assertEquals(labels, resolved.path("labels"), "the same alert resolves");
                assertFalse(resolved.path("endsAt").asText().startsWith("0001"), resolved::toString);
                // The scheduler backs off a 429 (twice the registry interval, jittered): up to 20 s to notice.
                JsonNode rlResolved = await.alert("PullpathRegistryRateLimited", "resolved");
                long rlResolvedMs = (System.nanoTime() - healedAt) / 1_000_000;
                assertEquals(rlLabels, rlResolved.path("labels"), "the same alert resolves");
                System.out.printf("alert path: start->firing webhook %d ms (rate limit %d ms), healed->resolved "
                        + "webhook %d ms (rate limit %d ms)%n", failingMs, rateLimitedMs, resolvedMs, rlResolvedMs);
            }
        } finally {
            if (healed != null) {
                healed.close();
            }
            webhook.stop(0);
        }
    }

    /** Waits for alerts at the webhook; every alert received is kept, so none is lost between two waits. */
    private record Await(List<JsonNode> received, AlertmanagerServer alertmanager, PrometheusServer prometheus) {
        JsonNode alert(String alertname, String status) throws InterruptedException {
            long deadline = System.nanoTime() + NOTIFICATION_TIMEOUT.toNanos();
            while (true) {
                synchronized (received) {
                    for (JsonNode a : received) {
                        if (alertname.equals(a.path("labels").path("alertname").asText())
                                && status.equals(a.path("status").asText())) {
                            return a;
                        }
                    }
                }
                if (System.nanoTime() - deadline >= 0) {
                    break;
                }
                Thread.sleep(100);
            }
            List<String> seen = new ArrayList<>();
            synchronized (received) {
                received.forEach(a -> seen.add(a.path("labels").path("alertname").asText() + "="
                        + a.path("status").asText()));
            }
            return fail("no " + status + " " + alertname + " at the webhook within " + NOTIFICATION_TIMEOUT
                    + "; seen " + seen + "; Prometheus alerts: " + prometheus.query("ALERTS")
                    + "\nalertmanager log:\n" + alertmanager.logTail());
        }
    }
}
