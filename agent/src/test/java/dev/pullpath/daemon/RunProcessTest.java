package dev.pullpath.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pullpath.testing.Netns;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code pullpath run} as its own process, the way a container runs it. */
class RunProcessTest {

    private static List<String> java(String... args) {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-XX:TieredStopAtLevel=1", "-cp",
                System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                "dev.pullpath.cli.Main"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    @Test
    @DisplayName("SIGTERM → the daemon stops within 2 s")
    void sigtermStopsWithinTwoSeconds(@TempDir Path dir) throws Exception {
        int port = freePort();
        Files.writeString(dir.resolve("hosts"), "");
        Path config = Files.writeString(dir.resolve("config.yaml"), "listen: 127.0.0.1:" + port + "\n"
                + "hostsFile: " + dir.resolve("hosts") + "\nresolvers: [\"127.0.0.1:" + freePort() + "\"]\n"
                + "targets: [{url: \"https://127.0.0.1:" + freePort() + "\", interval: 1s}]\n");
        Process p = Netns.withoutProxyEnvironment(new ProcessBuilder(java("run", "--config", config.toString()))
                .redirectOutput(dir.resolve("out.log").toFile()).redirectErrorStream(true)).start();
        try {
            HttpClient http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).build();
            Instant until = Instant.now().plusSeconds(30);
            while (true) {
                try {
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + port + "/readyz")).build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() == 200) {
                        break;
                    }
                } catch (java.io.IOException notYet) {
                    // not listening yet
                }
                assertTrue(Instant.now().isBefore(until), "not ready: " + Files.readString(dir.resolve("out.log")));
                Thread.sleep(100);
            }
            long t0 = System.nanoTime();
            p.destroy(); // SIGTERM
            assertTrue(p.waitFor(2, TimeUnit.SECONDS), "still running 2 s after SIGTERM");
            long ms = (System.nanoTime() - t0) / 1_000_000;
            String log = Files.readString(dir.resolve("out.log"));
            assertTrue(log.contains("\"message\":\"stopping\""), log);
            assertTrue(ms < 2_000, "stopped in " + ms + " ms");
        } finally {
            p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    @DisplayName("run without a config file, on a node with no network → serves metrics at once, diagnoses DNS")
    void runsWithBuiltInDefaultsAndServesMetricsAtOnce() throws Exception {
        Netns.assumeAvailable();
        try (Netns ns = Netns.create()) {
            List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns.name(), "env",
                    "PULLPATH_LISTEN=127.0.0.1:9847", "NODE_NAME=test-node"));
            cmd.addAll(java("run"));
            Path log = Files.createTempFile("pullpath-run", ".log");
            Process p = Netns.withoutProxyEnvironment(new ProcessBuilder(cmd).redirectOutput(log.toFile())
                    .redirectErrorStream(true)).start();
            try {
                Instant until = Instant.now().plusSeconds(30);
                String metrics = "";
                while (!metrics.contains("pullpath_probe_status")) {
                    assertTrue(Instant.now().isBefore(until), "no probe metrics: " + metrics + Files.readString(log));
                    Thread.sleep(200);
                    metrics = ns.run(Duration.ofSeconds(5), "curl", "-s", "http://127.0.0.1:9847/metrics").out();
                }
                assertTrue(metrics.contains("pullpath_agent_info{node=\"test-node\""), metrics);
                assertTrue(metrics.contains("pullpath_probe_status{category=\"dns\""), metrics);
                String status = ns.run(Duration.ofSeconds(5), "curl", "-s", "http://127.0.0.1:9847/status").out();
                assertTrue(status.contains("\"target\":\"public.ecr.aws\""), status);
            } finally {
                p.destroy();
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
                assertEquals(false, p.isAlive());
                Files.deleteIfExists(log);
            }
        }
    }

    @Test
    @DisplayName("daemon with a stale stored login and a mirror header secret, logging every probe → the stale login "
            + "diagnosed; no secret in any log line, /metrics, /status or /")
    void noSecretInLogsOrEndpoints(@TempDir Path dir) throws Exception {
        String password = "stale-login-s3cret-" + System.nanoTime();
        String header = "mirror-header-s3cret-" + System.nanoTime();
        dev.pullpath.testing.TestPki.Ca ca = dev.pullpath.testing.TestPki.newCa("CN=pullpath run CA");
        ca.writePem(dir.resolve("ca.pem"));
        try (dev.pullpath.testing.RegistryResponder registry = new dev.pullpath.testing.RegistryResponder(
                ca.issueFor("registry.test", "mirror.test")).hostForRealm("registry.test")
                .mode(dev.pullpath.testing.RegistryResponder.Mode.STALE_CREDENTIAL_400)) {
            String authority = "registry.test:" + registry.port();
            String auth = java.util.Base64.getEncoder().encodeToString(("robot:" + password).getBytes());
            Path docker = Files.writeString(dir.resolve("docker.json"), "{\"auths\":{\"" + authority
                    + "\":{\"auth\":\"" + auth + "\"}}}");
            Path hostDir = Files.createDirectories(dir.resolve("certs.d").resolve(authority));
            // A mirror that refuses connections, carrying a secret header: the fallback must not show it.
            String mirror = "https://mirror.test:" + dev.pullpath.testing.TcpPeers.closedPort();
            Files.writeString(hostDir.resolve("hosts.toml"), "server = \"https://" + authority + "\"\n"
                    + "[host.\"" + mirror + "\"]\n"
                    + "  [host.\"" + mirror + "\".header]\n    authorization = \"Bearer " + header + "\"\n");
            Files.writeString(dir.resolve("hosts"), "127.0.0.1 registry.test mirror.test\n");
            int port = freePort();
            Path config = Files.writeString(dir.resolve("config.yaml"), "listen: 127.0.0.1:" + port + "\n"
                    + "hostsFile: " + dir.resolve("hosts") + "\nresolvers: [\"127.0.0.1:" + freePort() + "\"]\n"
                    + "caFiles: [\"" + dir.resolve("ca.pem") + "\"]\ninterval: 1s\nregistryInterval: 10s\nfleet: {registryBudget: 100}\n"
                    + "timeout: 2s\ncontainerdCertsDir: " + dir.resolve("certs.d") + "\n"
                    + "credentials:\n  dockerConfig: " + docker + "\n"
                    + "targets: [{url: \"https://" + authority + "\"}]\n");
            ProcessBuilder pb = Netns.withoutProxyEnvironment(new ProcessBuilder(java("run", "--config",
                    config.toString())).redirectOutput(dir.resolve("out.log").toFile()).redirectErrorStream(true));
            pb.environment().put("PULLPATH_LOG_LEVEL", "DEBUG");
            Process p = pb.start();
            try {
                HttpClient http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).build();
                java.util.function.Function<String, String> get = path -> {
                    try {
                        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                                .build(), HttpResponse.BodyHandlers.ofString()).body();
                    } catch (Exception e) {
                        return "";
                    }
                };
                Instant until = Instant.now().plusSeconds(40);
                while (!get.apply("/status").contains("credentials_rejected")) {
                    assertTrue(Instant.now().isBefore(until), "no auth/credentials_rejected: "
                            + get.apply("/status") + Files.readString(dir.resolve("out.log")));
                    Thread.sleep(200);
                }
                String status = get.apply("/status");
                assertTrue(status.contains("\"endpoints\""), "the mirror fallback is shown: " + status);
                String everything = Files.readString(dir.resolve("out.log")) + get.apply("/metrics") + status
                        + get.apply("/");
                assertTrue(everything.contains("credentials_rejected"), "the log names the diagnosis");
                for (String secret : List.of(password, auth, header)) {
                    assertFalse(everything.contains(secret), "a secret leaked into the logs or endpoints");
                }
            } finally {
                p.destroy();
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            }
        }
    }
}
