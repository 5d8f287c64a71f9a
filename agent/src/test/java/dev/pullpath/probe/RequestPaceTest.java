package dev.pullpath.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pullpath.config.ProbeOptions;
import dev.pullpath.config.Target;
import dev.pullpath.diagnosis.Phase;
import dev.pullpath.diagnosis.PhaseReport;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.testing.LoopbackLab;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A fleet's check spreads its requests: a pace between them, in no phase's time. */
class RequestPaceTest {
    @TempDir
    Path dir;
    private LoopbackLab lab;
    private PathProber prober;
    private Target target;
    private ProbeOptions options;

    @BeforeEach
    void aRegistryOnLoopbackAndAWarmProber() throws Exception {
        lab = LoopbackLab.byAddress(dir, "CN=pullpath request pace CA");
        options = lab.probeOptions(Duration.ofSeconds(2), 4);
        prober = new PathProber(options, 1);
        target = lab.registryByAddress();
        walk(options); // warm: the first walk loads TLS and the JIT's first tiers
    }

    @AfterEach
    void close() {
        prober.close();
        lab.close();
    }

    @Test
    @DisplayName("with a 700 ms pace the token request and /v2/ with the token each start 700 ms after the request "
            + "before, the walk still passes, and the token phase (two requests) does not count the pauses; without a "
            + "pace, no pause")
    void thePaceSeparatesTheRequests() throws Exception {
        long plain = walk(options);
        long paced = walk(options.withRegistryPace(Duration.ofMillis(700)));
        // The pace is between the starts of requests: the two paced ones start 1,400 ms after the first.
        assertTrue(paced >= 1400 && paced - plain >= 1000, "two paces: " + plain + " ms without, " + paced
                + " ms with");
        TargetReport r = prober.probe(target, options.withRegistryPace(Duration.ofMillis(700)), Depth.REGISTRY)
                .get(20, TimeUnit.SECONDS);
        assertTrue(r.ok(), r.diagnosis().summary());
        PhaseReport token = r.phases().stream().filter(p -> p.phase() == Phase.TOKEN).findFirst().orElseThrow();
        assertTrue(token.durationMs() < 600, "the token phase without the pause: " + token.durationMs() + " ms");
    }

    @Test
    @DisplayName("a registry closing each reused connection instead of answering (its keep-alive timeout crossing the "
            + "request) → each such request goes once more on a new connection, as Go's transport does, and the walk "
            + "passes; the registry saw every closed request again")
    void aReusedConnectionClosedBeforeAnswerIsRetriedOnANewOne() throws Exception {
        int plainRequests = lab.registry().requests().size();
        int handshakes = lab.registry().handshakes();
        lab.registry().clearRequests();
        lab.registry().closeReusedConnections(1000);
        TargetReport r = prober.probe(target, options, Depth.REGISTRY).get(20, TimeUnit.SECONDS);
        assertTrue(r.ok(), r.diagnosis().summary());
        int closed = lab.registry().closedUnanswered();
        assertTrue(closed >= 1, "the walk reused a connection at least once");
        assertEquals(plainRequests + closed, lab.registry().requests().size(),
                "each closed request went once more: " + lab.registry().requests());
        assertTrue(lab.registry().handshakes() - handshakes >= 1 + closed,
                "a new connection for each retry: " + (lab.registry().handshakes() - handshakes));
    }

    private long walk(ProbeOptions options) throws Exception {
        long start = System.nanoTime();
        TargetReport r = prober.probe(target, options, Depth.REGISTRY).get(20, TimeUnit.SECONDS);
        assertTrue(r.ok(), r.diagnosis().summary());
        return (System.nanoTime() - start) / 1_000_000;
    }
}
