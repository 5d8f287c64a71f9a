package dev.pullpath.testing;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A real Alertmanager (Debian's {@code prometheus-alertmanager}, 0.25) started for one test on 127.0.0.1, routing
 * every alert to one webhook URL on 127.0.0.1 with grouping timers of a second, so a test sees a notification within
 * seconds of Prometheus sending the alert.
 *
 * <p>Network containment: web on 127.0.0.1, clustering off ({@code --cluster.listen-address=} empty, so no gossip
 * port and no peer lookups), proxy variables stripped, one receiver whose URL must be a 127.0.0.1 one.
 */
public final class AlertmanagerServer implements AutoCloseable {
    public static final Path BINARY = Path.of("/usr/bin/prometheus-alertmanager");
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    private static final int BIND_ATTEMPTS = 3;
    private static final int LOG_TAIL_LINES = 40;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final Path logFile;
    private final HttpClient http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY)
            .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(2)).build();
    private final Thread shutdownHook;
    private volatile Process process;
    private volatile int port;
    private boolean closed;

    private AlertmanagerServer(Path dir) {
        this.dir = dir;
        this.logFile = dir.resolve("alertmanager.log");
        this.shutdownHook = new Thread(this::stopProcess, "alertmanager-fixture-shutdown");
    }

    /** Skips the calling test without Alertmanager installed; under {@code CI=true} that fails instead. */
    public static void assumeAvailable() {
        if (Files.isExecutable(BINARY)) {
            return;
        }
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            fail("prometheus-alertmanager must be installed under CI=true (" + BINARY + " is not executable); "
                    + ".ci/run installs it");
        }
        Assumptions.assumeTrue(false, "skipping: Debian's prometheus-alertmanager is not installed "
                + "(apt-get install prometheus-alertmanager); " + BINARY + " missing");
    }

    /**
     * Starts Alertmanager routing everything to {@code webhook} (http://127.0.0.1:PORT/...), resolved notifications
     * included; group_wait and group_interval 1 s so firing and resolved notifications follow within seconds.
     */
    public static AlertmanagerServer start(URI webhook) {
        if (!"http".equals(webhook.getScheme()) || !"127.0.0.1".equals(webhook.getHost())) {
            throw new IllegalArgumentException("the webhook must be http://127.0.0.1:PORT/...: " + webhook);
        }
        Path dir;
        try {
            dir = Files.createTempDirectory("pullpath-alertmanager-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temp dir for alertmanager", e);
        }
        AlertmanagerServer server = new AlertmanagerServer(dir);
        try {
            server.launch(server.writeConfig(webhook));
            return server;
        } catch (IOException e) {
            server.close();
            throw new UncheckedIOException("cannot start alertmanager in " + dir, e);
        } catch (RuntimeException | Error e) {
            try {
                server.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    public int port() {
        return port;
    }

    public Path logFile() {
        return logFile;
    }

    /** The last lines of Alertmanager's log, for failure messages. */
    public String logTail() {
        return DaemonProcesses.logTail(logFile, LOG_TAIL_LINES);
    }

    private Path writeConfig(URI webhook) throws IOException {
        // repeat_interval only has to outlast the test: the test asserts one firing and one resolved notification.
        String yaml = """
                # Written by dev.pullpath.testing.AlertmanagerServer: one webhook on 127.0.0.1, nothing else.
                route:
                  receiver: test-webhook
                  group_by: ["alertname"]
                  group_wait: 1s
                  group_interval: 1s
                  repeat_interval: 1h
                receivers:
                  - name: test-webhook
                    webhook_configs:
                      - url: %s
                        send_resolved: true
                        max_alerts: 0
                """.formatted(JSON.writeValueAsString(webhook.toString()));
        Path config = dir.resolve("alertmanager.yml");
        Files.writeString(config, yaml, StandardCharsets.UTF_8);
        return config;
    }

    private void launch(Path config) throws IOException {
        Files.createDirectories(dir.resolve("data"));
        for (int attempt = 1; ; attempt++) {
            port = DaemonProcesses.freeLoopbackPort();
            ProcessBuilder pb = new ProcessBuilder(BINARY.toString(),
                    "--config.file=" + config,
                    "--storage.path=" + dir.resolve("data"),
                    "--web.listen-address=127.0.0.1:" + port,
                    "--web.external-url=http://127.0.0.1:" + port + "/",
                    // Empty: no cluster listener, no gossip with peers that do not exist.
                    "--cluster.listen-address=")
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.to(logFile.toFile()));
            Netns.withoutProxyEnvironment(pb);
            process = pb.start();
            if (attempt == 1) {
                Runtime.getRuntime().addShutdownHook(shutdownHook);
            }
            if (awaitReady()) {
                return;
            }
            String tail = logTail();
            if (attempt < BIND_ATTEMPTS && tail.contains("address already in use")) {
                stopProcess();
                continue;
            }
            fail("alertmanager did not become ready within " + READY_TIMEOUT + " (exit: "
                    + (process.isAlive() ? "still running" : process.exitValue()) + "); log tail:\n" + tail);
        }
    }

    private boolean awaitReady() {
        HttpRequest ready = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/-/ready"))
                .timeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() - deadline < 0) {
            if (!process.isAlive()) {
                return false;
            }
            try {
                if (http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return true;
                }
            } catch (IOException notListeningYet) {
                // connection refused until the web server is up
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted waiting for alertmanager", e);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
        return false;
    }

    /** Stops Alertmanager (SIGTERM to its PID, SIGKILL after 10 s) and deletes its temp dir. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            stopProcess();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException | IllegalArgumentException ignored) {
                // JVM shutting down, or the hook was never registered
            }
            DaemonProcesses.deleteRecursively(dir);
        }
    }

    private void stopProcess() {
        DaemonProcesses.stop(process, STOP_TIMEOUT);
    }

}
