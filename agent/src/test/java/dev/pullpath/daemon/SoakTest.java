package dev.pullpath.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pullpath.testing.NetworkLab;
import dev.pullpath.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code pullpath run} for a bounded time at a 1 s interval in the lab's client namespace, over four targets whose
 * faults flip every 10 s on the router: each target's own fault (none, a registry answering 429, a TLS peer with a
 * foreign CA, a proxy that never answers), then SYNs dropped, then connections reset. Netty's leak detector runs at PARANOID. Whatever the faults do: RSS
 * and threads stay flat, every target keeps being probed (none hangs), the series count stays bounded, no leak.
 *
 * <p>{@code -Dpullpath.soak.seconds=N} sets the length (default 90 s; {@code 1800} for a half-hour soak).
 */
class SoakTest {
    @RegisterExtension
    static final NetworkLab.Extension LAB = new NetworkLab.Extension();

    private static final long SECONDS = Long.getLong("pullpath.soak.seconds", 90);
    private static final List<String> TARGETS = List.of("flipping", "limited", "foreign_ca", "dead_proxy");

    @Test
    @DisplayName("soak: faults flipping every 10 s for 90 s at a 1 s interval (up/429/foreign CA/dead proxy, DROP, RST) "
            + "→ RSS and threads flat, every target still probed, series bounded, no Netty leak at PARANOID")
    void soakWithFlippingFaults() throws Exception {
        NetworkLab lab = LAB.get();
        Path dir = lab.work();
        TestPki.Ca ca = TestPki.newCa("CN=pullpath soak CA");
        Path caPem = dir.resolve("ca.pem");
        ca.writePem(caPem);
        TestPki.Issued good = ca.issueFor("registry.test", NetworkLab.SERVER);
        good.writeChainPem(dir.resolve("good.pem"));
        good.writeKeyPem(dir.resolve("good.key"));
        TestPki.Issued foreign = TestPki.newCa("CN=Somebody Else's CA").issueFor("registry.test");
        foreign.writeChainPem(dir.resolve("foreign.pem"));
        foreign.writeKeyPem(dir.resolve("foreign.key"));
        String goodPair = dir.resolve("good.pem") + ":" + dir.resolve("good.key");
        lab.javaPeer(lab.server(), "dev.pullpath.testing.LabPeers", List.of(NetworkLab.SERVER,
                "registry:443:BEARER:" + goodPair + ":registry.test",
                "registry:8443:429:" + goodPair + ":registry.test",
                "registry:7443:BEARER:" + dir.resolve("foreign.pem") + ":" + dir.resolve("foreign.key")
                        + ":registry.test",
                "silent:3128"), "ready");
        Path hosts = Files.writeString(dir.resolve("hosts"), "127.0.0.1 localhost\n" + NetworkLab.SERVER
                + " registry.test\n");
        Path config = Files.writeString(dir.resolve("soak.yaml"), String.join("\n",
                "listen: 127.0.0.1:9847",
                "interval: 1s",
                "registryInterval: 10s",
                "fleet: {registryBudget: 100}",
                "timeout: 1s",
                "caFiles: [\"" + caPem + "\"]",
                "hostsFile: " + hosts,
                "targets:",
                "  - {name: flipping, url: \"https://registry.test\"}",
                "  - {name: limited, url: \"https://registry.test:8443\"}",
                "  - {name: foreign_ca, url: \"https://registry.test:7443\"}",
                "  - {name: dead_proxy, url: \"https://registry.test\", proxy: {url: \"http://" + NetworkLab.SERVER
                        + ":3128\"}}",
                ""));
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "@" + Path.of("..", "deploy", "image", "jvm.options").toAbsolutePath().normalize(),
                "-Dio.netty.leakDetection.level=paranoid", "-cp",
                System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                "dev.pullpath.cli.Main", "run", "--config", config.toString()));
        Process agent = lab.peer(lab.client(), cmd, "running on node", Duration.ofSeconds(30));
        List<Sample> samples = new ArrayList<>();
        int flips = 0;
        try {
            Instant start = Instant.now();
            Instant end = start.plusSeconds(SECONDS);
            Instant nextFlip = start.plusSeconds(10);
            String[] faults = {"up", "drop", "reset"};
            while (Instant.now().isBefore(end)) {
                Thread.sleep(5_000);
                assertTrue(agent.isAlive(), "the agent died");
                if (!Instant.now().isBefore(nextFlip)) {
                    flips++;
                    String fault = faults[flips % faults.length];
                    lab.clearRules();
                    // Every target flips: its own fault (none, 429, a foreign CA, a dead proxy), then SYNs dropped,
                    // then connections reset, for all its ports at once.
                    if (fault.equals("drop")) {
                        lab.rule("FORWARD", "-p", "tcp", "-d", NetworkLab.SERVER, "-j", "DROP");
                    } else if (fault.equals("reset")) {
                        lab.rule("FORWARD", "-p", "tcp", "-d", NetworkLab.SERVER, "-j", "REJECT", "--reject-with",
                                "tcp-reset");
                    }
                    nextFlip = nextFlip.plusSeconds(10);
                }
                samples.add(sample(lab));
            }
        } finally {
            lab.clearRules();
            NetworkLab.stop(agent);
        }
        String log = agentLog(dir);
        assertFalse(log.contains("LEAK:"), "Netty's leak detector reported a leak:\n" + log.lines()
                .filter(l -> l.contains("LEAK")).findFirst().orElse(""));
        assertTrue(samples.size() >= 6, "samples: " + samples.size());
        // Past start-up (the first quarter), nothing may grow without bound.
        List<Sample> steady = samples.subList(samples.size() / 4, samples.size());
        Sample first = steady.get(0);
        Sample last = steady.get(steady.size() - 1);
        long maxSeries = samples.stream().mapToLong(Sample::series).max().orElse(0);
        long probes = last.probes();
        System.out.printf("soak: %d s, %d fault flips, %d probes recorded, RSS %d -> %d MiB, threads %d -> %d, "
                        + "series max %d, leaks 0%n", SECONDS, flips, probes, first.rss() >> 20, last.rss() >> 20,
                first.threads(), last.threads(), maxSeries);
        assertTrue(last.rss() <= first.rss() + (24L << 20), "RSS grew " + (first.rss() >> 20) + " -> "
                + (last.rss() >> 20) + " MiB");
        assertTrue(last.threads() <= first.threads() + 4, "threads grew " + first.threads() + " -> "
                + last.threads());
        assertTrue(maxSeries <= TARGETS.size() * 60L, "series: " + maxSeries);
        // Every target was probed in the last few seconds: no probe hangs, whatever its fault.
        for (String t : TARGETS) {
            double age = last.now() - last.lastProbe().getOrDefault(t, 0.0);
            assertTrue(age < 10, t + " last probed " + age + " s before the final sample");
        }
        assertEquals(Boolean.TRUE, probes > SECONDS * TARGETS.size() / 4, "probes recorded: " + probes);
    }

    private record Sample(long rss, long threads, long series, long probes, double now,
                          Map<String, Double> lastProbe) {
    }

    private static Sample sample(NetworkLab lab) throws Exception {
        String metrics = lab.client().run(Duration.ofSeconds(10), "curl", "-s", "http://127.0.0.1:9847/metrics").out();
        long rss = 0;
        long threads = 0;
        long series = 0;
        long probes = 0;
        Map<String, Double> last = new HashMap<>();
        for (String line : metrics.lines().toList()) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            double value = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            if (line.startsWith("process_resident_memory_bytes")) {
                rss = (long) value;
            } else if (line.startsWith("jvm_threads_live_threads")) {
                threads = (long) value;
            } else if (line.startsWith("pullpath_")) {
                series++;
                if (line.startsWith("pullpath_probe_duration_seconds_count{phase=\"dns\"")) {
                    probes += (long) value;
                }
                if (line.startsWith("pullpath_last_probe_timestamp_seconds{")) {
                    String target = line.substring(line.indexOf("target=\"") + 8, line.indexOf('"',
                            line.indexOf("target=\"") + 8));
                    last.put(target, value);
                }
            }
        }
        return new Sample(rss, threads, series, probes, System.currentTimeMillis() / 1000.0, last);
    }

    private static String agentLog(Path dir) throws Exception {
        StringBuilder b = new StringBuilder();
        try (var logs = Files.list(dir)) {
            for (Path p : logs.filter(f -> f.getFileName().toString().endsWith(".log")).toList()) {
                String text = Files.readString(p);
                if (text.contains("running on node")) {
                    b.append(text);
                }
            }
        }
        return b.toString();
    }
}
