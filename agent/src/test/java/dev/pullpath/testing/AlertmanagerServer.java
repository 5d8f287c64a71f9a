package dev.pullpath.testing;


import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

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
    private static final int LOG_TAIL_LINES = 40;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path dir;
    private final Path logFile;
    private final LoopbackDaemon daemon;

    private AlertmanagerServer(LoopbackDaemon daemon) {
        this.daemon = daemon;
        this.dir = daemon.dir();
        this.logFile = daemon.logFile();
    }

    /** Skips the calling test without Alertmanager installed; under {@code CI=true} that fails instead. */
    public static void assumeAvailable() {
        LoopbackDaemon.assumeInstalled(BINARY, "prometheus-alertmanager");
    }

    /**
     * Starts Alertmanager routing everything to {@code webhook} (http://127.0.0.1:PORT/...), resolved notifications
     * included; group_wait and group_interval 1 s so firing and resolved notifications follow within seconds.
     */
    public static AlertmanagerServer start(URI webhook) {
        if (!"http".equals(webhook.getScheme()) || !"127.0.0.1".equals(webhook.getHost())) {
            throw new IllegalArgumentException("the webhook must be http://127.0.0.1:PORT/...: " + webhook);
        }
        AlertmanagerServer server = new AlertmanagerServer(new LoopbackDaemon("alertmanager"));
        try {
            server.launch(server.writeConfig(webhook));
            return server;
        } catch (IOException e) {
            server.close();
            throw new UncheckedIOException("cannot start alertmanager in " + server.dir, e);
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
        return daemon.port();
    }

    public Path logFile() {
        return logFile;
    }

    /** The last lines of Alertmanager's log, for failure messages. */
    public String logTail() {
        return daemon.logTail();
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
        daemon.launch(port -> List.of(BINARY.toString(),
                "--config.file=" + config,
                "--storage.path=" + dir.resolve("data"),
                "--web.listen-address=127.0.0.1:" + port,
                "--web.external-url=http://127.0.0.1:" + port + "/",
                // Empty: no cluster listener, no gossip with peers that do not exist.
                "--cluster.listen-address="), "/-/ready");
    }

    /** Stops Alertmanager (SIGTERM to its PID, SIGKILL after 10 s) and deletes its temp dir. Idempotent. */
    @Override
    public void close() {
        daemon.close();
    }

}
