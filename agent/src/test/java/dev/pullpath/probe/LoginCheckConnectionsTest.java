package dev.pullpath.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pullpath.config.CredentialSettings;
import dev.pullpath.config.ProbeOptions;
import dev.pullpath.config.ProxySettings;
import dev.pullpath.config.Target;
import dev.pullpath.diagnosis.Phase;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.testing.LoopbackLab;
import dev.pullpath.testing.RegistryResponder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The stored-login check's connections, from the registry's side: a long-lived agent probes every few seconds, so a
 * connection a hop dials and forgets stays open at the registry until the registry's idle timeout, one per probe.
 */
class LoginCheckConnectionsTest {
    private static final String LOGIN = "puller:pu11-s3cret";

    @TempDir
    Path dir;
    private LoopbackLab lab;
    private PathProber prober;
    private ProbeOptions options;

    @BeforeEach
    void aTokenRegistryOverHttp1AndAStoredLogin() throws Exception {
        lab = LoopbackLab.byAddress(dir, "CN=pullpath login connections CA");
        lab.registry().mode(RegistryResponder.Mode.BEARER).alpn(List.of("http/1.1")).basicLogin(LOGIN);
        Target target = lab.registryByAddress();
        String auth = Base64.getEncoder().encodeToString(LOGIN.getBytes(StandardCharsets.UTF_8));
        Path docker = Files.writeString(dir.resolve("config.json"),
                "{\"auths\":{\"" + target.authority() + "\":{\"auth\":\"" + auth + "\"}}}");
        ProbeOptions plain = lab.probeOptions(Duration.ofSeconds(2), 4);
        options = new ProbeOptions(plain.timeout(), plain.maxAddresses(), plain.resolvers(), plain.resolvConf(),
                plain.hostsFile(), plain.caFiles(), plain.maxBodyBytes(), ProxySettings.none(),
                CredentialSettings.ofNode(docker, null, null, null, Duration.ofSeconds(2)));
        prober = new PathProber(options, 1);
    }

    @AfterEach
    void close() {
        prober.close();
        lab.close();
    }

    @Test
    @DisplayName("a registry that keeps its connections → the walk and the login check share one: one dial, "
            + "nothing left open")
    void aRegistryThatKeepsConnectionsCostsOneDial() throws Exception {
        int handshakes = lab.registry().handshakes();
        probe();
        assertEquals(1, lab.registry().handshakes() - handshakes, "connections for one probe");
        awaitNoOpenConnection("a probe at a registry that keeps its connections");
    }

    @ParameterizedTest(name = "closing each connection after {0} answers")
    @ValueSource(ints = {1, 2, 3, 4, 5, 6})
    @DisplayName("a registry that closes each connection after N answers (nginx's keepalive_requests) → whichever "
            + "of the login check's requests (/v2/ with Basic, its token, /v2/ with the token) finds the walk's "
            + "connection gone goes on one the check dials, at most one dial per request, and the probe leaves no "
            + "connection open at the registry")
    void aRegistryClosingConnectionsEarlyLeavesNothingOpen(int answers) throws Exception {
        lab.registry().requestsPerConnection(answers);
        int handshakes = lab.registry().handshakes();
        int requests = lab.registry().requests().size();
        probe();
        int sent = lab.registry().requests().size() - requests;
        int dialed = lab.registry().handshakes() - handshakes;
        assertEquals(6, sent, "the walk's /v2/, token and /v2/ with it, and the login check's three: "
                + lab.registry().requests());
        assertTrue(dialed >= (sent + answers - 1) / answers && dialed <= sent, dialed + " connections for " + sent
                + " requests, " + answers + " answers each at most");
        awaitNoOpenConnection("a probe at a registry closing connections after " + answers + " answers");
    }

    private TargetReport probe() throws Exception {
        TargetReport r = prober.probe(lab.registryByAddress(), options, Depth.REGISTRY).get(20, TimeUnit.SECONDS);
        assertTrue(r.ok(), r.diagnosis().summary());
        assertTrue(r.phases().stream().anyMatch(p -> p.phase() == Phase.AUTH && p.ok()),
                "the login check ran and passed: " + r.phases());
        return r;
    }

    /** The prober closes what it opened at once; the registry itself would keep an idle connection for good. */
    private void awaitNoOpenConnection(String after) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        while (lab.registry().openConnections() > 0 && System.nanoTime() < until) {
            Thread.sleep(20);
        }
        assertEquals(0, lab.registry().openConnections(), "connections left open at the registry after " + after);
    }
}
