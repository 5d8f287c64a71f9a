package dev.pullpath.bench;

import dev.pullpath.config.ProbeOptions;
import dev.pullpath.config.Target;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.probe.PathProber;
import dev.pullpath.testing.DnsTestServer;
import dev.pullpath.testing.Outcomes;
import dev.pullpath.testing.RegistryResponder.Mode;
import dev.pullpath.testing.RegistryResponder;
import dev.pullpath.testing.SynBlackhole;
import dev.pullpath.testing.TcpPeers;
import dev.pullpath.testing.TestPki;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.xbill.DNS.Rcode;

/**
 * How long one probe takes, and how much CPU the prober spends on it, for the healthy path and each failure
 * class, against real peers on loopback with a warm, long-lived prober (as the daemon runs it).
 *
 * <p>Run: {@code bash bench/probe-latency.sh [iterations]}. CPU is the prober's own threads (its event loop, the
 * dnsjava selector, the calling thread), not the peers', which share this JVM.
 */
public final class ProbeLatencyBench {
    private record Scenario(String name, String expected, Supplier<String> target, Runnable setup, int iterations) {
    }

    public static void main(String[] args) throws Exception {
        int iterations = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        Path dir = Files.createTempDirectory("pullpath-bench");
        TestPki.Ca ca = TestPki.newCa("CN=pullpath bench CA");
        Path caPem = dir.resolve("ca.pem");
        ca.writePem(caPem);
        Path resolv = Files.writeString(dir.resolve("resolv.conf"), "options ndots:1\n");
        Path hosts = Files.writeString(dir.resolve("hosts"), "");
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        try (DnsTestServer dns = new DnsTestServer();
             RegistryResponder registry = new RegistryResponder(ca.issueFor("registry.test", "127.0.0.1"));
             TcpPeers.SilentAcceptor silent = new TcpPeers.SilentAcceptor();
             TcpPeers.ResetAfterClientHello reset = new TcpPeers.ResetAfterClientHello();
             SynBlackhole hole = new SynBlackhole()) {
            dns.a("registry.test", "127.0.0.1").rcode("missing.test", Rcode.NXDOMAIN).silent("slow.test");
            int closed = TcpPeers.closedPort();
            ProbeOptions options = new ProbeOptions(Duration.ofSeconds(1), 4, List.of(dns.address()), resolv, hosts,
                    List.of(caPem), ProbeOptions.DEFAULT_MAX_BODY_BYTES);
            String reg = "registry.test:" + registry.port();
            Instant now = Instant.now();
            TestPki.Issued good = ca.issueFor("registry.test", "127.0.0.1");
            TestPki.Issued expired = ca.issue("registry.test", List.of("registry.test"), List.of("127.0.0.1"),
                    now.minus(Duration.ofDays(9)), now.minus(Duration.ofDays(1)));
            TestPki.Issued foreign = TestPki.newCa("CN=Foreign Root").issueFor("registry.test", "127.0.0.1");
            int slow = Math.max(3, iterations / 40);
            List<Scenario> scenarios = List.of(
                    new Scenario("healthy, h2, Bearer + anonymous token", "none/ok", () -> reg,
                            () -> registry.identity(good).mode(Mode.BEARER).alpn(List.of("h2", "http/1.1")), iterations),
                    new Scenario("healthy, http/1.1, Bearer + token", "none/ok", () -> reg,
                            () -> registry.alpn(List.of("http/1.1")), iterations),
                    new Scenario("dns NXDOMAIN", "dns/nxdomain", () -> "missing.test", () -> { }, iterations),
                    new Scenario("dns silent", "dns/timeout", () -> "slow.test", () -> { }, slow),
                    new Scenario("closed port", "firewall/connect_refused", () -> "registry.test:" + closed,
                            () -> { }, iterations),
                    new Scenario("SYN dropped", "firewall/connect_timeout", () -> "registry.test:" + hole.port(),
                            () -> { }, slow),
                    new Scenario("RST after ClientHello", "firewall/sni_reset", () -> "registry.test:" + reset.port(),
                            () -> { }, iterations),
                    new Scenario("silent after ClientHello", "firewall/tls_stalled",
                            () -> "registry.test:" + silent.port(), () -> { }, slow),
                    new Scenario("expired certificate", "tls/certificate_expired", () -> reg,
                            () -> registry.identity(expired).alpn(List.of("h2", "http/1.1")), iterations),
                    new Scenario("foreign CA", "tls/untrusted_certificate", () -> reg,
                            () -> registry.identity(foreign), iterations),
                    new Scenario("429 on /v2/", "registry/rate_limited", () -> reg,
                            () -> registry.identity(good).mode(Mode.status(429)), iterations),
                    new Scenario("HTML 200 (captive portal)", "registry/unexpected_response", () -> reg,
                            () -> registry.mode(Mode.HTML_200), iterations));
            System.out.printf(Locale.ROOT, "pullpath probe latency, %d iterations (timeouts: %d), phase timeout 1s, "
                    + "warm prober, one event-loop thread%n", iterations, slow);
            System.out.printf(Locale.ROOT, "%-38s %-30s %9s %9s %9s %11s%n", "scenario", "diagnosis", "p50 ms",
                    "p90 ms", "max ms", "cpu ms/probe");
            try (PathProber prober = new PathProber(options, 1)) {
                for (Scenario s : scenarios) {
                    s.setup.run();
                    Target target = Target.parse(s.target.get());
                    for (int i = 0; i < Math.min(20, s.iterations); i++) {
                        prober.probe(target).get(30, TimeUnit.SECONDS);
                    }
                    double[] ms = new double[s.iterations];
                    long cpuBefore = proberCpuNanos(threads);
                    String seen = null;
                    for (int i = 0; i < s.iterations; i++) {
                        long t0 = System.nanoTime();
                        TargetReport r = prober.probe(target).get(30, TimeUnit.SECONDS);
                        ms[i] = (System.nanoTime() - t0) / 1e6;
                        seen = Outcomes.of(r);
                        if (!seen.equals(s.expected)) {
                            throw new IllegalStateException(s.name + ": expected " + s.expected + ", got " + seen
                                    + ": " + r.summary());
                        }
                    }
                    double cpu = (proberCpuNanos(threads) - cpuBefore) / 1e6 / s.iterations;
                    Arrays.sort(ms);
                    System.out.printf(Locale.ROOT, "%-38s %-30s %9.2f %9.2f %9.2f %11.3f%n", s.name, seen,
                            ms[ms.length / 2], ms[(int) Math.min(ms.length - 1, Math.ceil(ms.length * 0.9) - 1)],
                            ms[ms.length - 1], cpu);
                }
            }
            System.out.printf(Locale.ROOT, "JVM RSS after the run (prober and peers share it): %d MiB%n", rssKib() / 1024);
        }
    }

    /** CPU of the threads that do the prober's work: its event loop, the dnsjava selector, and this thread. */
    private static long proberCpuNanos(ThreadMXBean threads) {
        long total = threads.getCurrentThreadCpuTime();
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info != null && (info.getThreadName().startsWith("pullpath-io")
                    || info.getThreadName().startsWith("dnsjava"))) {
                long t = threads.getThreadCpuTime(info.getThreadId());
                total += Math.max(0, t);
            }
        }
        return total;
    }

    private static long rssKib() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", ""));
            }
        }
        return -1;
    }

    private ProbeLatencyBench() {
    }
}
