package dev.pullpath.testing;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.DoublePredicate;

/**
 * A real Prometheus server (Debian's {@code prometheus} package) started for one test, scraping one target on
 * 127.0.0.1 and queried through its HTTP API.
 *
 * <p>Network containment: it listens on 127.0.0.1 only, its single static target is 127.0.0.1, redirects are not
 * followed, proxy variables are stripped from its environment, and the config has no remote read/write or service
 * discovery beyond {@code static_configs}; with {@link Alerting} its only Alertmanager is a 127.0.0.1 port too, so
 * nothing it does leaves the loopback interface.
 *
 * <p>Timing: {@code /-/ready} answers within a fraction of a second, but the first scrape only happens a few seconds
 * later, because Prometheus's discovery and scrape managers apply target updates on a fixed 5 s tick. Use
 * {@link #awaitValue} rather than asserting right after {@link #start}.
 */
public final class PrometheusServer implements AutoCloseable {
    public static final Path BINARY = Path.of("/usr/bin/prometheus");
    public static final String DEFAULT_METRICS_PATH = "/metrics";
    public static final Duration DEFAULT_SCRAPE_INTERVAL = Duration.ofSeconds(1);

    private static final Duration POLL_INTERVAL = Duration.ofMillis(250);
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
    /** Picking a free port and handing it to Prometheus races with other processes; retry that many times. */
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Proxy variables a Go HTTP client may honour; stripped so scrapes can only go straight to 127.0.0.1. */

    private final Path dir;
    private final Path logFile;
    // NO_PROXY: a JVM-wide proxy selector must not divert requests meant for 127.0.0.1.
    private final HttpClient http = HttpClient.newBuilder()
            .proxy(HttpClient.Builder.NO_PROXY)
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(2))
            .build();
    private final LoopbackDaemon daemon;

    private PrometheusServer(LoopbackDaemon daemon) {
        this.daemon = daemon;
        this.dir = daemon.dir();
        this.logFile = daemon.logFile();
    }

    /**
     * Skips the calling test when Prometheus is not installed; under {@code CI=true} that is a failure instead,
     * because CI must run these tests.
     */
    public static void assumeAvailable() {
        assumeInstalled(BINARY);
    }

    /** Shared with {@link Promtool}: both binaries come from the same Debian package. */
    static void assumeInstalled(Path binary) {
        LoopbackDaemon.assumeInstalled(binary, "prometheus");
    }

    /**
     * Rule evaluation and alert delivery for a test of the alert path: {@code ruleFile} loaded, evaluated every
     * scrape interval, alerts sent to the Alertmanager on {@code 127.0.0.1:alertmanagerPort}; {@code targetLabels}
     * are added to every scraped series, as a PodMonitor's relabelling adds {@code node}.
     */
    public record Alerting(Path ruleFile, int alertmanagerPort, java.util.Map<String, String> targetLabels) {
        public Alerting {
            if (alertmanagerPort < 1 || alertmanagerPort > 65535) {
                throw new IllegalArgumentException("alertmanager port out of range: " + alertmanagerPort);
            }
            targetLabels = new java.util.TreeMap<>(targetLabels);
        }
    }

    /** Starts Prometheus scraping {@code http://127.0.0.1:<targetPort>/metrics} every second. */
    public static PrometheusServer start(int targetPort) {
        return start(targetPort, DEFAULT_METRICS_PATH, DEFAULT_SCRAPE_INTERVAL);
    }

    /**
     * Starts Prometheus scraping {@code http://127.0.0.1:<targetPort><metricsPath>} every {@code scrapeInterval},
     * and returns once {@code /-/ready} answers 200.
     */
    public static PrometheusServer start(int targetPort, String metricsPath, Duration scrapeInterval) {
        return start(targetPort, metricsPath, scrapeInterval, null);
    }

    /**
     * As {@link #start(int, String, Duration)}, and with {@code alerting} (may be null) evaluating rules every scrape
     * interval and sending alerts to a loopback Alertmanager.
     */
    public static PrometheusServer start(int targetPort, String metricsPath, Duration scrapeInterval,
                                         Alerting alerting) {
        if (targetPort < 1 || targetPort > 65535) {
            throw new IllegalArgumentException("target port out of range: " + targetPort);
        }
        if (metricsPath == null || !metricsPath.startsWith("/")) {
            throw new IllegalArgumentException("metrics path must start with '/': " + metricsPath);
        }
        // Prometheus durations have millisecond resolution; anything shorter would be written as 0ms and rejected.
        if (scrapeInterval == null || scrapeInterval.toMillis() < 1) {
            throw new IllegalArgumentException("scrape interval must be at least 1ms: " + scrapeInterval);
        }
        PrometheusServer server = new PrometheusServer(new LoopbackDaemon("prometheus"));
        try {
            server.launch(server.writeConfig(targetPort, metricsPath, scrapeInterval, alerting));
            return server;
        } catch (IOException e) {
            UncheckedIOException failure = new UncheckedIOException("cannot start prometheus in " + server.dir, e);
            server.closeAfterFailedStart(failure);
            throw failure;
        } catch (RuntimeException | Error e) {
            server.closeAfterFailedStart(e);
            throw e;
        }
    }

    private void closeAfterFailedStart(Throwable cause) {
        try {
            close();
        } catch (RuntimeException suppressed) {
            cause.addSuppressed(suppressed);
        }
    }


    /** The port Prometheus listens on, on 127.0.0.1. */
    public int port() {
        return daemon.port();
    }

    /** The base URI of Prometheus's web endpoints, e.g. {@code http://127.0.0.1:41234/}. */
    public URI uri() {
        return URI.create("http://127.0.0.1:" + daemon.port() + "/");
    }

    /** Prometheus's combined stdout and stderr; deleted by {@link #close}. */
    public Path logFile() {
        return logFile;
    }

    /** Evaluates {@code promql} now and returns {@code data.result} (for a vector: an array of series). */
    public JsonNode query(String promql) {
        return api("api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8)).path("result");
    }

    /**
     * The value of {@code promql} now: empty when no series matches, the sample value when exactly one does.
     *
     * @throws IllegalStateException when several series match, or the result is not an instant vector or scalar
     */
    public Optional<Double> value(String promql) {
        return singleValue(promql, query(promql));
    }

    /**
     * Polls every 250 ms until {@code promql} yields exactly one series whose value satisfies {@code p}; fails the
     * test after {@code timeout} with the last result and the scrape target's health. A query Prometheus rejects
     * fails at once, since retrying cannot fix it.
     */
    public void awaitValue(String promql, DoublePredicate p, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last;
        while (true) {
            JsonNode result = query(promql);
            last = result.toString();
            try {
                Optional<Double> v = singleValue(promql, result);
                if (v.isPresent() && p.test(v.get())) {
                    return;
                }
            } catch (IllegalStateException e) {
                // Several series can be transient (an old series not yet marked stale), so keep polling.
                last = e.getMessage();
            }
            if (System.nanoTime() - deadline >= 0) {
                break;
            }
            sleep(POLL_INTERVAL);
        }
        fail("no single series of " + promql + " satisfied the predicate within " + timeout + "; last result: " + last
                + "; scrape targets: " + describeTargets());
    }

    /** {@code /api/v1/targets} data: {@code activeTargets} and {@code droppedTargets}. */
    public JsonNode targets() {
        return api("api/v1/targets");
    }

    /** Stops Prometheus (SIGTERM, then SIGKILL after 10 s) and deletes its temp dir. Idempotent. */
    @Override
    public void close() {
        daemon.close();
    }

    private Path writeConfig(int targetPort, String metricsPath, Duration scrapeInterval, Alerting alerting)
            throws IOException {
        String interval = scrapeInterval.toMillis() + "ms";
        // Prometheus rejects scrape_timeout > scrape_interval; its default timeout is 10s.
        String timeout = Math.min(scrapeInterval.toMillis(), 10_000) + "ms";
        // The path is written as a JSON string, which YAML reads as a double-quoted scalar: escaping for free.
        // Strings are written as JSON strings, which YAML reads as double-quoted scalars: escaping for free.
        String evaluation = alerting == null ? "1s" : interval;
        StringBuilder yaml = new StringBuilder("""
                # Written by dev.pullpath.testing.PrometheusServer. No remote_write/read or discovery other than
                # static_configs, and an Alertmanager only on 127.0.0.1: nothing here may reach beyond 127.0.0.1.
                global:
                  scrape_interval: %1$s
                  scrape_timeout: %2$s
                  evaluation_interval: %5$s
                scrape_configs:
                  - job_name: pullpath
                    scheme: http
                    metrics_path: %3$s
                    follow_redirects: false
                    static_configs:
                      - targets: ["127.0.0.1:%4$d"]
                """.formatted(interval, timeout, JSON.writeValueAsString(metricsPath), targetPort, evaluation));
        if (alerting != null) {
            yaml.append("        labels: ").append(JSON.writeValueAsString(alerting.targetLabels())).append('\n');
            yaml.append("rule_files: [").append(JSON.writeValueAsString(alerting.ruleFile().toAbsolutePath()
                    .toString())).append("]\n");
            yaml.append("""
                    alerting:
                      alertmanagers:
                        - scheme: http
                          follow_redirects: false
                          static_configs:
                            - targets: ["127.0.0.1:%d"]
                    """.formatted(alerting.alertmanagerPort()));
        }
        Path config = dir.resolve("prometheus.yml");
        Files.writeString(config, yaml.toString(), StandardCharsets.UTF_8);
        return config;
    }

    private void launch(Path config) throws IOException {
        Files.createDirectories(dir.resolve("data"));
        daemon.launch(port -> List.of(BINARY.toString(),
                // A firing alert is re-sent every minute by default; a test waits for seconds, not minutes.
                "--rules.alert.resend-delay=1s",
                "--config.file=" + config,
                "--storage.tsdb.path=" + dir.resolve("data"),
                "--storage.tsdb.retention.time=1h",
                "--web.listen-address=127.0.0.1:" + port,
                // Otherwise derived from os.Hostname(); keeps generated links on loopback too.
                "--web.external-url=http://127.0.0.1:" + port + "/",
                "--web.enable-lifecycle"), "/-/ready");
    }

    /** GETs an API path relative to {@link #uri()} and returns {@code data}, or throws with the body. */
    private JsonNode api(String path) {
        HttpRequest request = HttpRequest.newBuilder(uri().resolve(path)).timeout(REQUEST_TIMEOUT).build();
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("GET " + request.uri() + " failed; prometheus log tail:\n" + daemon.logTail(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted during GET " + request.uri(), e);
        }
        JsonNode body;
        try {
            body = JSON.readTree(response.body());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("GET " + request.uri() + " answered " + response.statusCode()
                    + " with non-JSON: " + response.body(), e);
        }
        if (!"success".equals(body.path("status").asText())) {
            throw new IllegalStateException("GET " + request.uri() + " answered " + response.statusCode() + ": "
                    + response.body());
        }
        return body.path("data");
    }

    private static Optional<Double> singleValue(String promql, JsonNode result) {
        if (!result.isArray()) {
            throw new IllegalStateException(promql + " returned no result array: " + result);
        }
        // A scalar result is [timestamp, "value"] itself rather than an array of series.
        if (result.size() == 2 && result.get(0).isNumber()) {
            return Optional.of(parseSample(result.get(1).asText()));
        }
        if (result.isEmpty()) {
            return Optional.empty();
        }
        if (result.size() > 1) {
            throw new IllegalStateException(promql + " matched " + result.size() + " series: " + result);
        }
        JsonNode sample = result.get(0).path("value");
        if (!sample.isArray() || sample.size() != 2) {
            throw new IllegalStateException(promql + " is not an instant vector: " + result);
        }
        return Optional.of(parseSample(sample.get(1).asText()));
    }

    /** Prometheus writes special values Go-style ("+Inf"), which {@link Double#parseDouble} does not accept. */
    private static double parseSample(String text) {
        return switch (text) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> Double.parseDouble(text);
        };
    }

    /** One line per active target for failure messages; never throws, since it runs while reporting a failure. */
    private String describeTargets() {
        try {
            List<String> lines = new ArrayList<>();
            for (JsonNode t : targets().path("activeTargets")) {
                lines.add(t.path("scrapeUrl").asText() + " health=" + t.path("health").asText() + " lastError="
                        + JSON.writeValueAsString(t.path("lastError").asText()) + " lastScrape="
                        + t.path("lastScrape").asText());
            }
            return lines.isEmpty() ? "(no active targets yet)" : String.join("; ", lines);
        } catch (RuntimeException | JsonProcessingException e) {
            return "(unavailable: " + e + ")";
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
