package dev.pullpath.dashboards;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The alert path as it runs in a cluster, every piece real except the cluster: {@code pullpath run} (in-process)
 * probing a registry whose port is closed, Debian's Prometheus scraping it (with the {@code node} label a PodMonitor
 * adds) and evaluating the project's rule file, Debian's Alertmanager routing to a webhook in this test. Only the
 * rules' {@code for:} durations are shortened, in a copy, so the test takes seconds instead of 30 minutes.
 */
class AlertPathTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path RULES = DashboardFiles.RULES;
    private static final Pattern FOR = Pattern.compile("(?m)^(\\s+for: )\\S+$");
    private static final Duration NOTIFICATION_TIMEOUT = Duration.ofSeconds(40);

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    @DisplayName("registry port closed → Alertmanager's webhook gets PullpathNodeFailing firewall/connect_refused with "
            + "its hint and runbook link; registry back → the resolved notification")
    void nodeAlertFiresAndResolvesThroughAlertmanager() throws Exception {
        PrometheusServer.assumeAvailable();
        AlertmanagerServer.assumeAvailable();
        long t0 = System.nanoTime();

        String rules = Files.readString(RULES);
        Matcher forLines = FOR.matcher(rules);
        assertTrue(forLines.find(), "the rule file has for: durations to shorten");
        Path shortRules = Files.writeString(dir.resolve("pullpath-rules.yaml"), forLines.replaceAll("$11s"));

        BlockingQueue<JsonNode> notifications = new LinkedBlockingQueue<>();
        HttpServer webhook = HttpServer.create(new InetSocketAddress(Loopback.IPV4, 0), 0);
        webhook.createContext("/alerts", exchange -> {
            try (exchange) {
                byte[] body = exchange.getRequestBody().readNBytes(1 << 20);
                notifications.add(JSON.readTree(body));
                exchange.sendResponseHeaders(200, -1);
            }
        });
        webhook.start();

        TestPki.Ca ca = TestPki.newCa("CN=pullpath alert path CA");
        ca.writePem(dir.resolve("ca.pem"));
        int registryPort = TcpPeers.closedPort();
        Files.writeString(dir.resolve("hosts"), "127.0.0.1 registry.test\n");
        Path config = Files.writeString(dir.resolve("config.yaml"), "listen: 127.0.0.1:0\nnode: node-a\n"
                + "interval: 1s\nregistryInterval: 10s\ntimeout: 1s\n"
                + "resolvers: [\"127.0.0.1:" + TcpPeers.closedPort() + "\"]\nhostsFile: " + dir.resolve("hosts") + "\n"
                + "caFiles: [\"" + dir.resolve("ca.pem") + "\"]\ncontainerdCertsDir: " + dir.resolve("none") + "\n"
                + "targets:\n  - name: reg\n    url: https://registry.test:" + registryPort + "\n");
        ConfigLoader loader = new ConfigLoader(Map.<String, String>of()::get);
        RegistryResponder registry = null;
        try (Agent agent = Agent.start(loader.load(config, true), loader);
             AlertmanagerServer alertmanager = AlertmanagerServer.start(URI.create("http://127.0.0.1:"
                     + webhook.getAddress().getPort() + "/alerts"));
             PrometheusServer prometheus = PrometheusServer.start(agent.address().getPort(), "/metrics",
                     Duration.ofSeconds(1), new PrometheusServer.Alerting(shortRules, alertmanager.port(),
                             Map.of("node", "node-a")))) {
            JsonNode firing = awaitAlert(notifications, alertmanager, prometheus, "firing");
            long firingMs = (System.nanoTime() - t0) / 1_000_000;
            JsonNode labels = firing.path("labels");
            assertEquals("warning", labels.path("severity").asText(), firing::toString);
            assertEquals("firewall", labels.path("category").asText(), firing::toString);
            assertEquals("connect_refused", labels.path("reason").asText(), firing::toString);
            assertEquals("reg", labels.path("target").asText(), firing::toString);
            assertEquals("node-a", labels.path("node").asText(), firing::toString);
            JsonNode annotations = firing.path("annotations");
            assertEquals("check egress rules for the port and that the host is the right endpoint",
                    annotations.path("hint").asText(), "the reason's own hint, templated by Prometheus: " + firing);
            assertEquals("https://github.com/pullpath/pullpath/blob/main/docs/runbook.md#firewall",
                    annotations.path("runbook_url").asText(), firing::toString);
            assertEquals("node-a cannot reach reg: firewall/connect_refused", annotations.path("summary").asText(),
                    firing::toString);
            assertTrue(annotations.path("description").asText().contains("for 30 minutes"), firing::toString);

            // The fault removed: a registry now answers on the port that was closed.
            TestPki.Issued identity = ca.issueFor("registry.test");
            registry = new RegistryResponder(Loopback.address(registryPort), identity.key(), identity.chainArray())
                    .hostForRealm("registry.test");
            long healedAt = System.nanoTime();
            JsonNode resolved = awaitAlert(notifications, alertmanager, prometheus, "resolved");
            long resolvedMs = (System.nanoTime() - healedAt) / 1_000_000;
            assertEquals(labels, resolved.path("labels"), "the same alert resolves");
            assertTrue(!resolved.path("endsAt").asText().startsWith("0001"), resolved::toString);
            System.out.printf("alert path: start->firing webhook %d ms, healed->resolved webhook %d ms%n",
                    firingMs, resolvedMs);
        } finally {
            if (registry != null) {
                registry.close();
            }
            webhook.stop(0);
        }
    }

    /**
     * Waits for a webhook notification carrying PullpathNodeFailing in {@code status}; other alerts of the same
     * fault (the fleet alert: one node of one is 100 %) arrive too and are skipped.
     */
    private static JsonNode awaitAlert(BlockingQueue<JsonNode> notifications, AlertmanagerServer alertmanager,
                                       PrometheusServer prometheus, String status) throws InterruptedException {
        Predicate<JsonNode> wanted = a -> "PullpathNodeFailing".equals(a.path("labels").path("alertname").asText())
                && status.equals(a.path("status").asText());
        List<String> seen = new ArrayList<>();
        long deadline = System.nanoTime() + NOTIFICATION_TIMEOUT.toNanos();
        while (System.nanoTime() - deadline < 0) {
            JsonNode n = notifications.poll(Math.max(1, (deadline - System.nanoTime()) / 1_000_000),
                    TimeUnit.MILLISECONDS);
            if (n == null) {
                break;
            }
            for (JsonNode alert : n.path("alerts")) {
                seen.add(alert.path("labels").path("alertname").asText() + "=" + alert.path("status").asText());
                if (wanted.test(alert)) {
                    assertEquals("test-webhook", n.path("receiver").asText());
                    return alert;
                }
            }
        }
        return fail("no " + status + " PullpathNodeFailing at the webhook within " + NOTIFICATION_TIMEOUT
                + "; seen " + seen + "; Prometheus alerts: " + prometheus.query("ALERTS")
                + "\nalertmanager log:\n" + alertmanager.logTail());
    }
}
