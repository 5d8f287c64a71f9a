package dev.pullpath.cli;

import static dev.pullpath.testing.Outcomes.assertOutcome;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pullpath.config.ProbeOptions;
import dev.pullpath.config.Target;
import dev.pullpath.diagnosis.Phase;
import dev.pullpath.diagnosis.PhaseReport;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.probe.PathProber;
import dev.pullpath.testing.RegistryResponder;
import dev.pullpath.testing.TestPki;
import eu.rekawek.toxiproxy.Proxy;
import eu.rekawek.toxiproxy.ToxiproxyClient;
import eu.rekawek.toxiproxy.model.ToxicDirection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.Testcontainers;
import org.testcontainers.containers.ToxiproxyContainer;
import org.testcontainers.junit.jupiter.Container;

/**
 * The same faults through Toxiproxy, where a Docker engine runs ({@code disabledWithoutDocker}: skipped cleanly
 * elsewhere; the namespace fault matrix covers them on every machine). The registry responder listens on the
 * host's loopback; Toxiproxy reaches it through Testcontainers' host port forwarding.
 */
@org.testcontainers.junit.jupiter.Testcontainers(disabledWithoutDocker = true)
class ToxiproxyFaultsTest {
    private static final int PROXY_PORT = 8666;
    private static TestPki.Ca ca;
    private static RegistryResponder registry;

    @Container
    static final ToxiproxyContainer TOXIPROXY = new ToxiproxyContainer("ghcr.io/shopify/toxiproxy:2.5.0");

    private Proxy proxy;

    @TempDir
    static Path dir;

    @BeforeAll
    static void registryOnTheHost() throws Exception {
        ca = TestPki.newCa("CN=pullpath toxiproxy CA");
        ca.writePem(dir.resolve("ca.pem"));
        registry = new RegistryResponder(ca.issueFor("localhost", "127.0.0.1")).alpn(List.of("http/1.1"))
                .hostForRealm("localhost");
        Testcontainers.exposeHostPorts(registry.port());
    }

    @AfterAll
    static void stopRegistry() {
        registry.close();
    }

    @AfterEach
    void removeProxy() throws Exception {
        if (proxy != null) {
            proxy.delete();
        }
    }

    private void proxyTo(String name) throws Exception {
        ToxiproxyClient client = new ToxiproxyClient(TOXIPROXY.getHost(), TOXIPROXY.getControlPort());
        proxy = client.createProxy(name, "0.0.0.0:" + PROXY_PORT, "host.testcontainers.internal:" + registry.port());
    }

    private TargetReport probe(Duration timeout) throws Exception {
        ProbeOptions options = new ProbeOptions(timeout, 4, List.of(), dir.resolve("resolv.conf"),
                Files.writeString(dir.resolve("hosts"), "127.0.0.1 localhost\n"), List.of(dir.resolve("ca.pem")),
                64 * 1024);
        try (PathProber prober = new PathProber(options, 1)) {
            return prober.probe(Target.parse("localhost:" + TOXIPROXY.getMappedPort(PROXY_PORT)))
                    .get(60, TimeUnit.SECONDS);
        }
    }

    private static double phase(TargetReport r, Phase phase) {
        return r.phases().stream().filter(p -> p.phase() == phase).mapToDouble(PhaseReport::durationMs)
                .findFirst().orElse(-1);
    }

    @Test
    @DisplayName("latency 300 ms downstream → none/ok, the tls phase reflects the injected latency")
    void latency() throws Exception {
        proxyTo("latency");
        proxy.toxics().latency("latency", ToxicDirection.DOWNSTREAM, 300);
        TargetReport r = probe(Duration.ofSeconds(5));
        assertOutcome("none/ok", r);
        assertTrue(phase(r, Phase.TLS) >= 300, "tls phase " + phase(r, Phase.TLS) + " ms");
    }

    @Test
    @DisplayName("timeout toxic (the stream stalls) → firewall/tls_stalled")
    void stall() throws Exception {
        proxyTo("stall");
        proxy.toxics().timeout("stall", ToxicDirection.DOWNSTREAM, 0);
        TargetReport r = probe(Duration.ofSeconds(1));
        assertOutcome("firewall/tls_stalled", r);
    }

    @Test
    @DisplayName("reset_peer → firewall/sni_reset")
    void resetPeer() throws Exception {
        proxyTo("reset");
        proxy.toxics().resetPeer("reset", ToxicDirection.DOWNSTREAM, 0);
        TargetReport r = probe(Duration.ofSeconds(1));
        assertOutcome("firewall/sni_reset", r);
    }

    @Test
    @DisplayName("slow_close → the probe still completes: none/ok")
    void slowClose() throws Exception {
        proxyTo("slowclose");
        proxy.toxics().slowClose("slowclose", ToxicDirection.DOWNSTREAM, 2_000);
        TargetReport r = probe(Duration.ofSeconds(5));
        assertOutcome("none/ok", r);
    }

    @Test
    @DisplayName("limit_data 100 bytes → the handshake is cut: tls/handshake_failed")
    void limitData() throws Exception {
        proxyTo("limit");
        proxy.toxics().limitData("limit", ToxicDirection.DOWNSTREAM, 100);
        TargetReport r = probe(Duration.ofSeconds(2));
        assertEquals("tls", r.category(), r.summary());
    }
}
