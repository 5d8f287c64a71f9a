package dev.pullpath.bench;

import dev.pullpath.config.ProbeOptions;
import dev.pullpath.config.Target;
import dev.pullpath.diagnosis.PhaseReport;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.probe.Depth;
import dev.pullpath.probe.ManifestProbe;
import dev.pullpath.probe.PathProber;
import dev.pullpath.testing.DnsTestServer;
import dev.pullpath.testing.RegistryResponder;
import dev.pullpath.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * What the layer hop costs: the requests one registry probe sends to the registry and to the layer host, with and
 * without an image, and the time it adds (the whole probe's median, and the layer phase's own), on loopback: a
 * Bearer registry redirecting blobs (307) to a second TLS server acting as the CDN, a warm long-lived prober.
 *
 * <p>Run: {@code bash bench/layer-hop.sh [iterations]} (default 20).
 */
public final class LayerHopBench {
    public static void main(String[] args) throws Exception {
        int iterations = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        Path dir = Files.createTempDirectory("pullpath-layer-bench");
        TestPki.Ca ca = TestPki.newCa("CN=pullpath layer bench CA");
        Path caPem = dir.resolve("ca.pem");
        ca.writePem(caPem);
        Path resolv = Files.writeString(dir.resolve("resolv.conf"), "options ndots:1\n");
        Path hosts = Files.writeString(dir.resolve("hosts"), "");
        try (DnsTestServer dns = new DnsTestServer();
             RegistryResponder registry = new RegistryResponder(ca.issueFor("registry.test", "127.0.0.1"));
             RegistryResponder cdn = new RegistryResponder(ca.issueFor("cdn.test"))) {
            dns.a("registry.test", "127.0.0.1").a("cdn.test", "127.0.0.1");
            registry.hostForRealm("registry.test").manifest("team/app:1.0")
                    .blobRedirect("https://cdn.test:" + cdn.port());
            cdn.otherPaths(RegistryResponder.Answer.of(200, "application/octet-stream", "{"));
            ProbeOptions options = new ProbeOptions(Duration.ofSeconds(2), 4, List.of(dns.address()), resolv, hosts,
                    List.of(caPem), ProbeOptions.DEFAULT_MAX_BODY_BYTES);
            Target target = Target.parse("registry.test:" + registry.port());
            ManifestProbe.Image image = ManifestProbe.parse("team/app:1.0", target.host());
            // No token cache: every probe pays the token, as the first probe after a token expired does.
            try (PathProber prober = new PathProber(options, 1, null)) {
                for (int i = 0; i < 5; i++) { // warm-up: class loading, JIT
                    probe(prober, target, options, image);
                    probe(prober, target, options, null);
                }
                registry.clearRequests();
                cdn.clearRequests();
                probe(prober, target, options, null);
                System.out.printf(Locale.ROOT, "without an image: %d requests to the registry %s%n",
                        registry.requests().size(), paths(registry));
                registry.clearRequests();
                probe(prober, target, options, image);
                System.out.printf(Locale.ROOT, "with an image: %d requests to the registry %s, %d to the layer "
                        + "host %s%n", registry.requests().size(), paths(registry), cdn.requests().size(), paths(cdn));
                List<Double> with = new ArrayList<>();
                List<Double> without = new ArrayList<>();
                List<Double> layer = new ArrayList<>();
                List<Double> manifest = new ArrayList<>();
                for (int i = 0; i < iterations; i++) {
                    long t0 = System.nanoTime();
                    probe(prober, target, options, null);
                    without.add((System.nanoTime() - t0) / 1e6);
                    t0 = System.nanoTime();
                    TargetReport r = probe(prober, target, options, image);
                    with.add((System.nanoTime() - t0) / 1e6);
                    layer.add(r.phases().stream().filter(p -> p.phase().label().equals("layer"))
                            .mapToDouble(PhaseReport::durationMs).sum());
                    manifest.add(r.phases().stream().filter(p -> p.phase().label().equals("manifest"))
                            .mapToDouble(PhaseReport::durationMs).sum());
                }
                System.out.printf(Locale.ROOT, "%d runs, median ms: probe without image %.1f, with image %.1f "
                                + "(manifest phase %.1f, layer phase %.1f)%n", iterations, median(without),
                        median(with), median(manifest), median(layer));
            }
        }
    }

    private static TargetReport probe(PathProber prober, Target target, ProbeOptions options,
                                      ManifestProbe.Image image) throws Exception {
        TargetReport r = prober.probe(target, options, Depth.REGISTRY, image).get(30, TimeUnit.SECONDS);
        if (!r.ok()) {
            throw new IllegalStateException("the bench path must be healthy: " + r.summary());
        }
        return r;
    }

    private static List<String> paths(RegistryResponder server) {
        return server.requests().stream().map(q -> q.method() + " " + q.pathAndQuery().replaceAll("\\?.*", "?...")
                .replaceAll("sha256:[a-f0-9]{64}", "sha256:..")).toList();
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(Double::compare);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
