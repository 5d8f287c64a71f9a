package dev.pullpath.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class PrometheusFixturesSelfTest {
    private static final String EXPOSITION = """
            # HELP demo_up Whether the demo target is up.
            # TYPE demo_up gauge
            demo_up %s
            """;

    @Nested
    class Server {
        @Test
        void scrapesTargetOnLoopbackAndSeesValueChange() throws IOException {
            PrometheusServer.assumeAvailable();
            AtomicReference<String> served = new AtomicReference<>(EXPOSITION.formatted("1"));
            HttpServer target = metricsEndpoint(served);
            Path dir;
            try {
                long t0 = System.nanoTime();
                try (PrometheusServer prometheus = PrometheusServer.start(target.getAddress().getPort())) {
                    System.out.printf("prometheus start->ready: %d ms%n", (System.nanoTime() - t0) / 1_000_000);
                    dir = prometheus.logFile().getParent();
                    assertTrue(Files.isRegularFile(prometheus.logFile()));

                    prometheus.awaitValue("demo_up", v -> v == 1, Duration.ofSeconds(20));
                    System.out.printf("start->first sample: %d ms%n", (System.nanoTime() - t0) / 1_000_000);
                    assertEquals(Optional.of(1.0), prometheus.value("demo_up"));

                    served.set(EXPOSITION.formatted("0"));
                    prometheus.awaitValue("demo_up", v -> v == 0, Duration.ofSeconds(20));

                    JsonNode active = prometheus.targets().path("activeTargets");
                    assertEquals(1, active.size(), active::toString);
                    assertEquals("http://127.0.0.1:" + target.getAddress().getPort() + "/metrics",
                            active.get(0).path("scrapeUrl").asText());
                    assertEquals("up", active.get(0).path("health").asText());

                    assertEquals(Optional.empty(), prometheus.value("no_such_metric"));
                    assertEquals(Optional.of(2.0), prometheus.value("1 + 1"), "scalar results count as one value");
                    assertThrows(IllegalStateException.class, () -> prometheus.value("demo_up or vector(5)"),
                            "two series");
                    assertThrows(IllegalStateException.class, () -> prometheus.query("demo_up{"), "bad PromQL");

                    prometheus.close();
                    prometheus.close(); // idempotent
                }
            } finally {
                target.stop(0);
            }
            assertFalse(Files.exists(dir), "temp dir deleted");
            assertTrue(ProcessHandle.current().children()
                    .noneMatch(p -> p.isAlive() && p.info().command().orElse("").endsWith("prometheus")),
                    "no prometheus child left");
        }

        @Test
        void awaitValueFailsWithTargetHealth() throws IOException {
            PrometheusServer.assumeAvailable();
            // A path the target does not serve: every scrape gets 404, which the failure message must show.
            HttpServer target = metricsEndpoint(new AtomicReference<>(EXPOSITION.formatted("1")));
            try (PrometheusServer prometheus = PrometheusServer.start(target.getAddress().getPort(), "/nothing",
                    Duration.ofMillis(500))) {
                prometheus.awaitValue("up", v -> v == 0, Duration.ofSeconds(20));
                AssertionError e = assertThrows(AssertionError.class,
                        () -> prometheus.awaitValue("demo_up", v -> true, Duration.ofSeconds(1)));
                assertTrue(e.getMessage().contains("404"), e.getMessage());
            } finally {
                target.stop(0);
            }
        }
    }

    @Nested
    class Lint {
        @Test
        void cleanExpositionHasNoProblems() {
            Promtool.assumeAvailable();
            assertEquals(List.of(), Promtool.checkMetrics(EXPOSITION.formatted("1")));
        }

        @Test
        void counterWithoutTotalSuffixOrHelpIsReported() {
            Promtool.assumeAvailable();
            List<String> problems = Promtool.checkMetrics("# TYPE demo_requests counter\ndemo_requests 1\n");
            assertTrue(problems.stream().anyMatch(l -> l.contains("_total")), problems::toString);
            assertTrue(problems.stream().anyMatch(l -> l.contains("no help text")), problems::toString);
        }

        @Test
        void unparseableExpositionIsReported() {
            Promtool.assumeAvailable();
            List<String> problems = Promtool.checkMetrics("demo_up{ 1\n");
            assertEquals(1, problems.size(), problems::toString);
            assertTrue(problems.get(0).contains("parsing error"), problems::toString);
        }
    }

    /** Serves whatever {@code body} holds at the time of each request on 127.0.0.1:/metrics. */
    private static HttpServer metricsEndpoint(AtomicReference<String> body) throws IOException {
        HttpServer server = HttpServer.create(Loopback.address(0), 0);
        server.createContext("/metrics", exchange -> {
            byte[] bytes = body.get().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            exchange.sendResponseHeaders(200, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
        server.start();
        return server;
    }
}
