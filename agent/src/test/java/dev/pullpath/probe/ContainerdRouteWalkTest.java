package dev.pullpath.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pullpath.config.CredentialSettings;
import dev.pullpath.config.ProbeOptions;
import dev.pullpath.config.ProxySettings;
import dev.pullpath.config.Target;
import dev.pullpath.credentials.CredentialStores;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.testing.LoopbackLab;
import dev.pullpath.testing.TcpPeers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The containerd pull path (hosts.toml) walked host by host: the order, the fallback, what each host is sent. */
class ContainerdRouteWalkTest {

    /**
     * The credential lookup (Docker helpers, the kubelet's exec credential provider: up to credentials.timeout,
     * 10 s by default) must run off Netty's event loops. For the second host of a hosts.toml route it runs inside
     * probeRoute's thenCompose, i.e. on the event loop that completed the first host's walk.
     */
    @Test
    void credentialLookupForTheFallbackHostRunsOffTheEventLoop(@TempDir Path dir) throws Exception {
        List<Thread> lookups = new CopyOnWriteArrayList<>();
        CredentialStores stores = new CredentialStores(null, null, Duration.ofSeconds(1), k -> {
            lookups.add(Thread.currentThread());
            return null;
        });
        try (LoopbackLab lab = LoopbackLab.byAddress(dir, "CN=pullpath review CA")) {
            Target target = lab.registryByAddress();
            Path certsDir = Files.createDirectories(dir.resolve("certs.d"));
            Path hostDir = Files.createDirectories(certsDir.resolve(target.authority()));
            Files.writeString(hostDir.resolve("hosts.toml"), "server = \"https://" + target.authority() + "\"\n"
                    + "[host.\"https://127.0.0.1:" + TcpPeers.closedPort() + "\"]\n");
            ProbeOptions options = withCertsDir(lab.probeOptions(Duration.ofSeconds(2), 4), certsDir);
            try (PathProber prober = new PathProber(options, 1)) {
                TargetReport r = prober.probe(target, options, Depth.REGISTRY, null, stores).get(30,
                        TimeUnit.SECONDS);
                assertEquals(2, r.endpoints().size(), r::toString);
            }
        }
        assertFalse(lookups.isEmpty());
        for (Thread t : lookups) {
            assertFalse(t instanceof io.netty.util.concurrent.FastThreadLocalThread,
                    "credential lookup (may exec a provider for seconds) ran on Netty thread " + t.getName());
        }
    }

    /**
     * A token realm on the mirror's own host whose path starts with /v2/ (Quay: https://quay.example/v2/auth) is
     * requested exactly as challenged: only the registry's own requests go through the host's API root and ns
     * ({@code HttpConnection.api}, called by the /v2/, auth and manifest hops; the realm fetch never calls it).
     */
    @Test
    void tokenRealmPathIsNotTheDistributionApi() {
        HttpConnection.HostSettings mirror = new HttpConnection.HostSettings("/v2/cache-org", Map.of(), "docker.io");
        assertEquals("/v2/cache-org/", mirror.path("/v2/"), "the version check: API root, no ns");
        assertEquals("/v2/cache-org/library/nginx/manifests/1?ns=docker.io",
                mirror.path("/v2/library/nginx/manifests/1"));
    }

    /**
     * A header containerd's Go client refuses per request (invalid name) must give a report for that host (Go:
     * "invalid header field name"), not an exception out of the whole probe (the scheduler then logs "a bug" and
     * records nothing for the target).
     */
    @Test
    void invalidHeaderNameGivesAReportNotAnException(@TempDir Path dir) throws Exception {
        TargetReport r = probeWithHostsToml(dir, "[header]\n  \"X Bad Name\" = \"v\"\n", Depth.REGISTRY);
        assertFalse(r.ok(), r::toString);
    }

    /** A mirror URL with a port Go parses but cannot dial: containerd moves to the next host; pullpath threw. */
    @Test
    void outOfRangeMirrorPortGivesAReportNotAnException(@TempDir Path dir) throws Exception {
        TargetReport r = probeWithHostsToml(dir, "[host.\"https://127.0.0.1:99999\"]\n", Depth.TLS);
        assertTrue(r.endpoints() == null || !r.endpoints().isEmpty(), r::toString);
    }

    /** Probes a healthy loopback registry whose hosts.toml is its own server plus {@code extra}. */
    private static TargetReport probeWithHostsToml(Path dir, String extra, Depth depth) throws Exception {
        try (LoopbackLab lab = LoopbackLab.byAddress(dir, "CN=pullpath review CA")) {
            Target target = lab.registryByAddress();
            Path certsDir = Files.createDirectories(dir.resolve("certs.d"));
            Path hostDir = Files.createDirectories(certsDir.resolve(target.authority()));
            Files.writeString(hostDir.resolve("hosts.toml"), "server = \"https://" + target.authority() + "\"\n" + extra);
            ProbeOptions options = withCertsDir(lab.probeOptions(Duration.ofSeconds(2), 4), certsDir)
                    // A server-only file is read from 1.7.32 on (earlier releases ignore it, see HostsToml).
                    .withContainerdVersion(dev.pullpath.config.ContainerdVersion.parse("2.0.0", "test"));
            try (PathProber prober = new PathProber(options, 1)) {
                return prober.probe(target, options, depth, null).get(30, TimeUnit.SECONDS);
            }
        }
    }

    private static ProbeOptions withCertsDir(ProbeOptions o, Path certsDir) {
        return new ProbeOptions(o.timeout(), o.maxAddresses(), o.resolvers(), o.resolvConf(), o.hostsFile(),
                o.caFiles(), o.maxBodyBytes(), ProxySettings.none(), CredentialSettings.NONE, certsDir);
    }
}
