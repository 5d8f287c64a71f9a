package dev.pullpath.schedule;

import static dev.pullpath.testing.Outcomes.assertOutcome;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pullpath.config.AgentConfig;
import dev.pullpath.config.FleetOptions;
import dev.pullpath.config.ProbeOptions;
import dev.pullpath.config.Target;
import dev.pullpath.config.TargetConfig;
import dev.pullpath.config.TargetKind;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.probe.PathProber;
import dev.pullpath.probe.TokenCache;
import dev.pullpath.testing.LoopbackLab;
import dev.pullpath.testing.RegistryResponder.Mode;
import dev.pullpath.testing.RegistryResponder;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The schedule's promises to a registry, measured in requests a real registry responder received. */
class ProbeSchedulerTest {
    @TempDir
    Path dir;
    private LoopbackLab lab;
    private RegistryResponder registry;
    private PathProber prober;
    private ProbeScheduler scheduler;
    private final List<TargetReport> statuses = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        lab = LoopbackLab.byAddress(dir, "CN=pullpath scheduler CA");
        registry = lab.registry().alpn(List.of("http/1.1"));
        ProbeOptions options = lab.probeOptions(Duration.ofSeconds(1), 4);
        prober = new PathProber(options, 1, new TokenCache(Clock.systemUTC()));
        StatusBoard board = new StatusBoard(Clock.systemUTC());
        board.listen((target, probed, previous, current) -> statuses.add(current.report()));
        // Every random draw 1 %: the first registry check 1 % into its interval, so a 2.5 s test sees it; the fleet
        // budget is generous (a fleet of one, 100 req/s), so the target's own registryInterval is the interval.
        RandomGenerator early = () -> (long) (0.01 * (1L << 53)) << 11;
        scheduler = new ProbeScheduler(Prober.of(prober), board, Clock.systemUTC(), early,
                SchedulerTimer.system("test-scheduler"), FleetCadence.standalone(Clock.systemUTC()));
    }

    @AfterEach
    void stop() throws Exception {
        scheduler.close();
        prober.close();
        lab.close();
    }

    private AgentConfig config(Duration interval, Duration registryInterval) {
        Target t = Target.parse("127.0.0.1:" + registry.port());
        ProbeOptions probe = new ProbeOptions(Duration.ofSeconds(1), 4, List.of(), dir.resolve("resolv.conf"),
                dir.resolve("hosts"), List.of(dir.resolve("ca.pem")), 64 * 1024);
        return new AgentConfig("test", new InetSocketAddress("127.0.0.1", 0), "node", "", 4, false, true, probe,
                List.of(new TargetConfig("reg", new Target("reg", t.host(), t.port()), TargetKind.REGISTRY, interval,
                        registryInterval, Duration.ofSeconds(1), Map.of())), null, Duration.ofSeconds(5),
                null, new FleetOptions(100, 1, null, null, null, null, FleetOptions.DEFAULT_REFRESH));
    }

    private long v2Requests() {
        return registry.requests().stream().filter(r -> r.pathAndQuery().equals("/v2/")
                && !r.authorizationPresent()).count();
    }

    @Test
    @DisplayName("cheap hops every interval, registry hops every registry interval, token reused from the cache")
    void registryHopsRunLessOftenThanCheapHops() throws Exception {
        scheduler.apply(config(Duration.ofMillis(100), Duration.ofSeconds(30)));
        Thread.sleep(2_500);
        int handshakes = registry.handshakes();
        assertTrue(statuses.size() >= 8, "probes recorded: " + statuses.size());
        assertTrue(handshakes >= 8, "cheap TLS probes: " + handshakes);
        assertEquals(1, v2Requests(), "one /v2/ in 2.5 s with a 30 s registry interval");
        assertEquals(1, registry.issuedTokens().size());
        TargetReport last = statuses.get(statuses.size() - 1);
        assertTrue(last.ok(), last.summary());
        assertTrue(last.registryCheckedAt() != null, "between registry checks the last one is shown");
        assertTrue(last.phases().stream().anyMatch(p -> p.phase().label().equals("token")), "merged registry hops");
    }

    @Test
    @DisplayName("429 with Retry-After 1 → registry hops back off, status stays registry/rate_limited")
    void rateLimitedRegistryIsNotHammered() throws Exception {
        registry.mode(Mode.status(429));
        scheduler.apply(config(Duration.ofMillis(100), Duration.ofMillis(200)));
        Thread.sleep(4_000);
        long v2 = v2Requests();
        // Without backoff: about 20 requests in 4 s; with it (doubling from 400 ms, never under Retry-After 1 s): few.
        assertTrue(v2 >= 1 && v2 <= 5, "registry requests while rate limited: " + v2);
        TargetReport last = statuses.get(statuses.size() - 1);
        assertOutcome("registry/rate_limited", last);
        assertTrue(statuses.size() >= 15, "cheap hops keep running: " + statuses.size());
    }

    @Test
    @DisplayName("a probe never overlaps itself: a 1 s TLS stall with a 50 ms interval gives sequential probes")
    void probesDoNotOverlap() throws Exception {
        try (dev.pullpath.testing.TcpPeers.SilentAcceptor silent = new dev.pullpath.testing.TcpPeers.SilentAcceptor()) {
            Target t = Target.parse("127.0.0.1:" + silent.port());
            AgentConfig base = config(Duration.ofMillis(50), Duration.ofSeconds(30));
            scheduler.apply(new AgentConfig("test", base.listen(), "node", "", 4, false, true, base.probe(),
                    List.of(new TargetConfig("stall", new Target("stall", t.host(), t.port()), TargetKind.TLS,
                            Duration.ofMillis(50), Duration.ofSeconds(30), Duration.ofMillis(500), Map.of())), null));
            Thread.sleep(2_300);
            // Each probe holds its connection for the 500 ms TLS timeout: sequential probes make at most 5 in 2.3 s.
            assertTrue(silent.connections() >= 2 && silent.connections() <= 5, "connections: " + silent.connections());
        }
    }
}
