package dev.pullpath.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pullpath.Agent;
import dev.pullpath.config.ConfigLoader;
import dev.pullpath.testing.LoopbackLab;
import dev.pullpath.testing.PrometheusServer;
import dev.pullpath.testing.Promtool;
import dev.pullpath.testing.RegistryResponder;
import dev.pullpath.testing.TestPki;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code pullpath run} in-process against loopback peers, scraped by a real Prometheus and by promtool. */
class AgentEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path dir;
    private LoopbackLab lab;
    private TestPki.Ca ca;
    private RegistryResponder registry;
    private Agent agent;

    @BeforeEach
    void peers() throws Exception {
        lab = LoopbackLab.in(dir, "CN=pullpath e2e CA");
        ca = lab.ca();
        registry = lab.registry();
    }

    @AfterEach
    void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
        lab.close();
    }

    private String config(String targets) {
        return "listen: 127.0.0.1:0\nnode: node-a\nzone: zone-1\ninterval: 1s\nregistryInterval: 10s\ntimeout: 1s\nfleet: {registryBudget: 100}\n"
                + lab.configYaml()
                + "targets:\n" + targets;
    }

    private String registryTarget(String name) {
        return "  - name: " + name + "\n    url: https://" + lab.registryAuthority() + "\n";
    }

    private Agent start(Path file) {
        agent = Agent.start(new ConfigLoader(Map.<String, String>of()::get).load(file, true),
                new ConfigLoader(Map.<String, String>of()::get));
        return agent;
    }

    private HttpResponse<String> get(String pathAndQuery, String accept) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + agent.address().getPort()
                + pathAndQuery)).timeout(Duration.ofSeconds(20));
        if (accept != null) {
            b.header("Accept", accept);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private void awaitRegistryChecked() throws Exception {
        Instant until = Instant.now().plusSeconds(20);
        while (!get("/status", null).body().contains("\"phase\":\"token\"")) {
            assertTrue(Instant.now().isBefore(until), "no registry check within 20 s");
            Thread.sleep(100);
        }
    }

    private void awaitReady() throws Exception {
        Instant until = Instant.now().plusSeconds(20);
        while (!agent.ready()) {
            assertTrue(Instant.now().isBefore(until), "agent not ready within 20 s");
            Thread.sleep(50);
        }
    }

    @Test
    @DisplayName("registry breaks and recovers → Prometheus sees pullpath_probe_success and the status series flip")
    void prometheusSeesTheDiagnosisFlip() throws Exception {
        PrometheusServer.assumeAvailable();
        Path file = Files.writeString(dir.resolve("config.yaml"), config(registryTarget("reg")));
        start(file);
        try (PrometheusServer prometheus = PrometheusServer.start(agent.address().getPort())) {
            prometheus.awaitValue("pullpath_probe_success{target=\"reg\"}", v -> v == 1, Duration.ofSeconds(30));
            prometheus.awaitValue("pullpath_probe_status{target=\"reg\",category=\"none\",reason=\"ok\"}", v -> v == 1,
                    Duration.ofSeconds(10));

            Instant now = Instant.now();
            registry.identity(ca.issue("registry.test", List.of("registry.test"), List.of("127.0.0.1"),
                    now.minus(Duration.ofDays(3)), now.minus(Duration.ofDays(1))));
            prometheus.awaitValue("pullpath_probe_success{target=\"reg\"}", v -> v == 0, Duration.ofSeconds(20));
            prometheus.awaitValue("pullpath_probe_status{target=\"reg\",category=\"tls\","
                    + "reason=\"certificate_expired\"}", v -> v == 1, Duration.ofSeconds(10));
            prometheus.awaitValue("sum(pullpath_probe_failures_total{target=\"reg\",category=\"tls\"})",
                    v -> v >= 1, Duration.ofSeconds(10));

            registry.identity(ca.issueFor("registry.test", "127.0.0.1"));
            prometheus.awaitValue("pullpath_probe_success{target=\"reg\"}", v -> v == 1, Duration.ofSeconds(20));
            // The old status series is gone from the scrape, so Prometheus marks it stale: one series per target.
            prometheus.awaitValue("count(pullpath_probe_status{target=\"reg\"})", v -> v == 1, Duration.ofSeconds(20));
            prometheus.awaitValue("pullpath_agent_info{node=\"node-a\",zone=\"zone-1\"}", v -> v == 1,
                    Duration.ofSeconds(5));
        }
    }

    @Test
    @DisplayName("a real scrape passes promtool check metrics; OpenMetrics when asked; bounded series per target")
    void realScrapeIsLintCleanAndWithinTheSeriesBudget() throws Exception {
        Promtool.assumeAvailable();
        Path file = Files.writeString(dir.resolve("config.yaml"), config(registryTarget("reg")));
        start(file);
        awaitReady();
        Thread.sleep(1500); // a few probes, so every probe series exists
        HttpResponse<String> text = get("/metrics", null);
        assertEquals(200, text.statusCode());
        assertTrue(text.headers().firstValue("content-type").orElse("").startsWith("text/plain; version=0.0.4"));
        assertEquals(List.of(), Promtool.checkMetrics(text.body()), "promtool check metrics");
        long series = text.body().lines().filter(l -> l.startsWith("pullpath_") && l.contains("target=\"reg\""))
                .count();
        assertTrue(series > 20 && series <= 60, "pullpath_ series for one target: " + series);
        for (String name : List.of("pullpath_probe_success", "pullpath_probe_duration_seconds_bucket",
                "pullpath_probe_status", "pullpath_tls_cert_not_after_seconds", "pullpath_dns_answers",
                "pullpath_last_probe_timestamp_seconds", "pullpath_agent_info", "pullpath_config_reload_success",
                "jvm_memory_used_bytes", "process_resident_memory_bytes")) {
            assertTrue(text.body().contains("\n" + name), "missing " + name);
        }
        assertFalse(text.body().contains("127.0.0.1"), "no address in any label");

        HttpResponse<String> om = get("/metrics", "application/openmetrics-text;version=1.0.0,text/plain;q=0.5");
        assertTrue(om.headers().firstValue("content-type").orElse("").startsWith("application/openmetrics-text"));
        assertTrue(om.body().endsWith("# EOF\n"), "OpenMetrics ends with # EOF");
    }

    @Test
    @DisplayName("node credential sources in the config: an ECR login in the node's Docker config → its expiry on "
            + "/metrics, the stale login diagnosed, the secret nowhere in /metrics, /status or /")
    void nodeCredentialSourcesAndTheirExpiry() throws Exception {
        Promtool.assumeAvailable();
        registry.mode(RegistryResponder.Mode.STALE_CREDENTIAL_400);
        String secret = "daemon-s3cret-" + System.nanoTime();
        long expiry = Instant.now().getEpochSecond() - 600;
        String ecrPassword = java.util.Base64.getEncoder().encodeToString(("{\"payload\":\"" + secret
                + "\",\"expiration\":" + expiry + "}").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        String auth = java.util.Base64.getEncoder().encodeToString(("AWS:" + ecrPassword)
                .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Path docker = Files.writeString(dir.resolve("docker.json"), "{\"auths\":{\"registry.test:"
                + registry.port() + "\":{\"auth\":\"" + auth + "\"}}}");
        Path file = Files.writeString(dir.resolve("config.yaml"), config(registryTarget("reg"))
                + "credentials:\n  dockerConfig: " + docker + "\n  timeout: 5s\n"
                + "containerdCertsDir: " + dir.resolve("no-certs.d") + "\n");
        start(file);
        Instant until = Instant.now().plusSeconds(20);
        while (!get("/status", null).body().contains("credentials_expired")) {
            assertTrue(Instant.now().isBefore(until), "no auth/credentials_expired within 20 s: "
                    + get("/status", null).body());
            Thread.sleep(100);
        }
        String metrics = get("/metrics", null).body();
        String series = "pullpath_credential_expiry_timestamp_seconds{registry=\"registry.test:" + registry.port()
                + "\",source=\"docker\"}";
        assertTrue(metrics.lines().anyMatch(l -> l.startsWith(series) && Double.parseDouble(
                l.substring(l.lastIndexOf(' ') + 1)) == expiry), () -> series + " missing or wrong in\n" + metrics);
        assertTrue(metrics.contains("pullpath_probe_status{category=\"auth\",reason=\"credentials_expired\","
                + "target=\"reg\"} 1"), metrics);
        assertEquals(List.of(), Promtool.checkMetrics(metrics), "promtool check metrics");
        for (String path : List.of("/metrics", "/status", "/")) {
            String body = get(path, null).body();
            for (String leaked : List.of(secret, ecrPassword, auth)) {
                assertFalse(body.contains(leaked), path + " exposes a secret");
            }
        }
    }

    @Test
    @DisplayName("/probe: configured target answered with its metrics, unconfigured refused with 403")
    void probeEndpointOnlyProbesConfiguredTargets() throws Exception {
        Path file = Files.writeString(dir.resolve("config.yaml"), config(registryTarget("reg")));
        start(file);
        // The schedule's own first registry check lands anywhere in its first two intervals; it must not be
        // counted against the refused probes, so it is waited for (the next one is a registry interval away).
        awaitRegistryChecked();
        int before = registry.requests().size();
        HttpResponse<String> refused = get("/probe?target=169.254.169.254", null);
        assertEquals(403, refused.statusCode());
        assertTrue(refused.body().contains("not configured"), refused.body());
        assertEquals(403, get("/probe?target=registry.test:" + registry.port(), null).statusCode(),
                "a configured host under another name is still unconfigured");
        assertEquals(before, registry.requests().size(), "a refused probe sends nothing");

        HttpResponse<String> probe = get("/probe?target=reg", null);
        assertEquals(200, probe.statusCode(), probe.body());
        assertTrue(probe.body().contains("pullpath_probe_success 1"), probe.body());
        assertTrue(probe.body().contains("pullpath_probe_phase_duration_seconds{phase=\"tls\"}"), probe.body());
        HttpResponse<String> debug = get("/probe?target=reg&debug=true", null);
        assertTrue(debug.body().startsWith("target reg: ok"), debug.body());
        assertEquals(400, get("/probe", null).statusCode());

        // A caller in a loop neither reaches the registry nor multiplies handshakes.
        long v2 = registry.requests().stream().filter(r -> r.pathAndQuery().equals("/v2/")).count();
        int handshakes = registry.handshakes();
        for (int i = 0; i < 30; i++) {
            assertEquals(200, get("/probe?target=reg", null).statusCode());
        }
        long v2After = registry.requests().stream().filter(r -> r.pathAndQuery().equals("/v2/")).count();
        assertTrue(v2After - v2 <= 2, "registry requests caused by 30 /probe calls: " + (v2After - v2));
        assertTrue(registry.handshakes() - handshakes <= 10, "handshakes: " + (registry.handshakes() - handshakes));
    }

    @Test
    @DisplayName("/probe on a registry target is a blackbox http_2xx probe (TLS + GET /v2/, no token); onDemandSpacing 0s "
            + "runs every call; a rate-limited registry gets no /v2/ from /probe")
    void probeRunsTheVersionCheckUnlessRateLimited() throws Exception {
        Path file = Files.writeString(dir.resolve("config.yaml"), config(registryTarget("reg"))
                + "onDemandSpacing: 0s\n");
        start(file);
        awaitRegistryChecked();
        registry.clearRequests();
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> probe = get("/probe?target=reg", null);
            assertEquals(200, probe.statusCode(), probe.body());
            assertTrue(probe.body().contains("pullpath_probe_phase_duration_seconds{phase=\"http\"}"), probe.body());
            assertTrue(probe.body().contains("pullpath_probe_success 1"), probe.body());
        }
        long v2 = registry.requests().stream().filter(r -> r.pathAndQuery().equals("/v2/")).count();
        long tokens = registry.requests().stream().filter(r -> r.pathAndQuery().startsWith("/token")).count();
        assertTrue(v2 >= 5 && v2 <= 6, "one /v2/ per /probe (and at most one scheduled check): " + v2);
        assertTrue(tokens <= 1, "/probe never fetches a token: " + tokens);

        registry.mode(RegistryResponder.Mode.status(429));
        Instant until = Instant.now().plusSeconds(20);
        while (!get("/status", null).body().contains("rate_limited")) {
            assertTrue(Instant.now().isBefore(until), "no registry/rate_limited within 20 s");
            Thread.sleep(100);
        }
        registry.clearRequests();
        for (int i = 0; i < 5; i++) {
            assertEquals(200, get("/probe?target=reg", null).statusCode());
        }
        assertEquals(0, registry.requests().stream().filter(r -> r.pathAndQuery().equals("/v2/")).count(),
                "/probe must not add to a rate-limited registry's load");
    }

    @Test
    @DisplayName("every target failing, 50 concurrent scrapes from 5 sources, 4 waves → every scrape 200 with the "
            + "failure series, within 5 s")
    void metricsKeepAnsweringUnderConcurrentScrapesWhileEverythingFails() throws Exception {
        StringBuilder targets = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            targets.append("  - name: down").append(i).append("\n    url: https://registry.test:")
                    .append(dev.pullpath.testing.TcpPeers.closedPort()).append("\n");
        }
        start(Files.writeString(dir.resolve("config.yaml"), config(targets.toString())));
        awaitReady();
        int port = agent.address().getPort();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(50);
        try {
            for (int wave = 0; wave < 4; wave++) {
                List<java.util.concurrent.Future<String>> scrapes = new java.util.ArrayList<>();
                for (int i = 0; i < 50; i++) {
                    // Five sources, ten each: under the per-source connection cap, as several Prometheus servers are.
                    String source = "127.0.0." + (1 + i % 5);
                    scrapes.add(pool.submit(() -> rawGet(source, port, "/metrics")));
                }
                for (java.util.concurrent.Future<String> f : scrapes) {
                    String answer = f.get(5, java.util.concurrent.TimeUnit.SECONDS);
                    assertTrue(answer.startsWith("HTTP/1.1 200"), () -> answer.lines().findFirst().orElse(""));
                    assertTrue(answer.contains("pullpath_probe_status{category=\"firewall\""), "failure series");
                }
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(200, get("/healthz", null).statusCode(), "failing targets are not an unhealthy agent");
    }

    /** One HTTP/1.1 GET from a chosen loopback source address, the whole answer (Connection: close). */
    private static String rawGet(String source, int port, String path) throws Exception {
        try (java.net.Socket s = new java.net.Socket()) {
            s.bind(new java.net.InetSocketAddress(source, 0));
            s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 5_000);
            s.setSoTimeout(5_000);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: agent\r\nConnection: close\r\n\r\n")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readNBytes(4 << 20), java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    @Test
    @DisplayName("/status serves the diagnose --json objects; /, /healthz, /readyz answer; other paths 404")
    void statusPageAndHealth() throws Exception {
        Path file = Files.writeString(dir.resolve("config.yaml"), config(registryTarget("reg")));
        start(file);
        awaitReady();
        JsonNode status = JSON.readTree(get("/status", null).body());
        assertEquals(1, status.size());
        JsonNode reg = status.get(0);
        for (String field : List.of("target", "ok", "category", "reason", "summary", "hint", "phases", "addresses")) {
            assertTrue(reg.has(field), "missing " + field + " in " + reg);
        }
        assertEquals(200, get("/healthz", null).statusCode());
        assertEquals(200, get("/readyz", null).statusCode());
        HttpResponse<String> page = get("/", null);
        assertTrue(page.body().contains("data-target=\"reg\""), page.body());
        assertFalse(page.body().contains("<script"), "no script needed");
        assertEquals(404, get("/nope", null).statusCode());
    }

    @Test
    @DisplayName("ConfigMap-style symlink swap → new targets without restart; an invalid one is refused, old kept")
    void configReloadOnSymlinkSwap() throws Exception {
        // The layout kubelet gives a mounted ConfigMap: config.yaml -> ..data/config.yaml, ..data -> ..v1
        Path v1 = Files.createDirectory(dir.resolve("..v1"));
        Files.writeString(v1.resolve("config.yaml"), config(registryTarget("reg")));
        Path data = Files.createSymbolicLink(dir.resolve("..data"), v1.getFileName());
        Path file = Files.createSymbolicLink(dir.resolve("config.yaml"), Path.of("..data/config.yaml"));
        start(file);
        awaitReady();

        Path v2 = Files.createDirectory(dir.resolve("..v2"));
        Files.writeString(v2.resolve("config.yaml"), config(registryTarget("reg") + registryTarget("reg2")));
        swap(data, v2);
        awaitStatusSize(2);
        assertEquals(2, agent.config().targets().size());

        Path v3 = Files.createDirectory(dir.resolve("..v3"));
        Files.writeString(v3.resolve("config.yaml"), "targets:\n  - url: registry.test\n    intervall: 5s\n");
        swap(data, v3);
        Instant until = Instant.now().plusSeconds(15);
        while (!get("/metrics", null).body().contains("pullpath_config_reload_success 0.0")) {
            assertTrue(Instant.now().isBefore(until), "the invalid config was not noticed");
            Thread.sleep(200);
        }
        assertEquals(2, agent.config().targets().size(), "the running configuration stays");
        assertEquals(2, JSON.readTree(get("/status", null).body()).size());

        // An emptied file (a truncated write) is not a wish for the built-in defaults either.
        Path v4 = Files.createDirectory(dir.resolve("..v4"));
        Files.writeString(v4.resolve("config.yaml"), "");
        swap(data, v2);
        Thread.sleep(2_500);
        swap(data, v4);
        Thread.sleep(2_500);
        assertEquals(2, agent.config().targets().size(), "an empty file is refused");
    }

    private static void swap(Path link, Path target) throws Exception {
        Path tmp = link.resolveSibling("..data_tmp");
        Files.deleteIfExists(tmp);
        Files.createSymbolicLink(tmp, target.getFileName());
        Files.move(tmp, link, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private void awaitStatusSize(int n) throws Exception {
        Instant until = Instant.now().plusSeconds(15);
        while (JSON.readTree(get("/status", null).body()).size() != n) {
            assertTrue(Instant.now().isBefore(until), "status never showed " + n + " targets");
            Thread.sleep(200);
        }
    }
}
