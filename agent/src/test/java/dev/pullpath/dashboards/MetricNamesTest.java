package dev.pullpath.dashboards;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pullpath.Agent;
import dev.pullpath.config.ConfigLoader;
import dev.pullpath.testing.LoopbackLab;
import dev.pullpath.testing.RegistryResponder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every metric name the dashboard and both alert files select is in a real scrape of the agent, run in-process
 * against loopback peers as AgentEndToEndTest runs it: one healthy target with a stored ECR login and one refused,
 * so the conditional series (TLS and credential expiry, DNS answers, failure counters) exist too.
 */
class MetricNamesTest {
    @TempDir
    Path dir;

    @Test
    @DisplayName("dashboard, Prometheus rules and Grafana alerts select only metrics a real /metrics scrape has")
    void everyMetricNameIsExported() throws Exception {
        Map<String, String> usedBy = usedMetricNames();
        assertTrue(usedBy.keySet().containsAll(Set.of("pullpath_probe_status", "pullpath_probe_duration_seconds_bucket",
                "pullpath_agent_info")), "the extraction finds names: " + usedBy.keySet());
        Set<String> exported = scrapeSampleNames();
        Map<String, String> missing = new TreeMap<>(usedBy);
        missing.keySet().removeAll(exported);
        assertEquals(Map.of(), missing, "selected but not exported (metric -> first user)");
        // And the other way: every pullpath_ metric the agent exports has its row in docs/metrics.md.
        Set<String> documented = new TreeSet<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^\\| `([a-z_:][a-z0-9_:]*)`",
                java.util.regex.Pattern.MULTILINE).matcher(DashboardFiles.read(DashboardFiles.ROOT.resolve(
                "docs/metrics.md")));
        while (m.find()) {
            documented.add(m.group(1));
        }
        Set<String> undocumented = new TreeSet<>();
        for (String name : exported) {
            String family = name.replaceAll("_(bucket|sum|count|created)$", "");
            if (name.startsWith("pullpath_") && !documented.contains(family) && !documented.contains(name)) {
                undocumented.add(name);
            }
        }
        assertTrue(documented.contains("pullpath_probe_status"), "docs/metrics.md table parsed: " + documented);
        assertEquals(Set.of(), undocumented, "exported but not in docs/metrics.md");
    }

    private static Map<String, String> usedMetricNames() {
        Map<String, String> used = new TreeMap<>();
        DashboardFiles.dashboardQueries(DashboardFiles.json(DashboardFiles.DASHBOARD)).forEach((where, q) ->
                DashboardFiles.metricNames(DashboardFiles.promql(q)).forEach(n -> used.putIfAbsent(n, "dashboard " + where)));
        DashboardFiles.prometheusAlerts().forEach((alert, rule) ->
                DashboardFiles.metricNames(rule.path("expr").asText()).forEach(n -> used.putIfAbsent(n, "rule " + alert)));
        for (JsonNode group : DashboardFiles.yaml(DashboardFiles.GRAFANA_ALERTING).path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                String expr = rule.path("data").get(0).path("model").path("expr").asText();
                DashboardFiles.metricNames(expr).forEach(n -> used.putIfAbsent(n, "grafana " + rule.path("title").asText()));
            }
        }
        return used;
    }

    /** Sample names of the exposition: a histogram's _bucket, _sum and _count appear as they are selected. */
    private Set<String> scrapeSampleNames() throws Exception {
        try (LoopbackLab lab = LoopbackLab.in(dir, "CN=pullpath dashboards CA")) {
            RegistryResponder registry = lab.registry();
            Path config = Files.writeString(dir.resolve("config.yaml"),
                    "listen: 127.0.0.1:0\nnode: node-a\nzone: zone-1\ninterval: 1s\nregistryInterval: 10s\ntimeout: 1s\nfleet: {registryBudget: 100}\n"
                    + lab.configYaml()
                    // A stored ECR login for the healthy target, so the credential expiry series exists too.
                    + "credentials:\n  dockerConfig: " + dockerConfigWithEcrLogin(registry.port()) + "\n"
                    + "targets:\n  - name: reg\n    url: https://registry.test:" + registry.port() + "\n"
                    // Port 1 on loopback refuses: a failure diagnosis, so the failure counter has a series.
                    + "  - name: refused\n    url: https://registry.test:1\n");
            ConfigLoader loader = new ConfigLoader(Map.<String, String>of()::get);
            try (Agent agent = Agent.start(loader.load(config, true), loader)) {
                return awaitSampleNames(agent);
            }
        }
    }

    /** Docker's config.json holding an ECR-style login (AWS:<base64 JSON with an expiration>) for the registry. */
    private Path dockerConfigWithEcrLogin(int port) throws Exception {
        String password = java.util.Base64.getEncoder().encodeToString(("{\"payload\":\"x\",\"expiration\":"
                + (Instant.now().getEpochSecond() + 43_200) + "}").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        String auth = java.util.Base64.getEncoder().encodeToString(("AWS:" + password)
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return Files.writeString(dir.resolve("docker.json"), "{\"auths\":{\"registry.test:" + port
                + "\":{\"auth\":\"" + auth + "\"}}}");
    }

    private static Set<String> awaitSampleNames(Agent agent) throws Exception {
        HttpClient http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).build();
        HttpRequest get = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.address().getPort() + "/metrics"))
                .timeout(Duration.ofSeconds(10)).build();
        Instant until = Instant.now().plusSeconds(30);
        while (true) {
            Set<String> names = new TreeSet<>();
            http.send(get, HttpResponse.BodyHandlers.ofString()).body().lines()
                    .filter(l -> !l.isEmpty() && !l.startsWith("#"))
                    .forEach(l -> names.add(l.split("[{ ]", 2)[0]));
            // Ready: both targets probed, including the registry hops and the refused target's failure.
            if (agent.ready() && names.contains("pullpath_probe_failures_total")
                    && names.contains("pullpath_credential_expiry_timestamp_seconds")
                    && names.contains("pullpath_tls_cert_not_after_seconds") || Instant.now().isAfter(until)) {
                return names;
            }
            Thread.sleep(200);
        }
    }
}
