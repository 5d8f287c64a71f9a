package dev.pullpath.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pullpath.config.ProbeOptions;
import dev.pullpath.config.Target;
import dev.pullpath.diagnosis.Reason;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.testing.LoopbackLab;
import dev.pullpath.testing.RegistryResponder;
import dev.pullpath.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The prober as the daemon uses it: one instance, many probes. */
class PathProberTest {

    @Test
    void aLongLivedProberSeesTheChainEveryTimeBecauseItNeverResumesSessions(@TempDir Path dir) throws Exception {
        try (LoopbackLab lab = LoopbackLab.byAddress(dir, "CN=pullpath test root CA");
             PathProber prober = new PathProber(lab.probeOptions(Duration.ofSeconds(2), 4), 1)) {
            TestPki.Ca ca = lab.ca();
            RegistryResponder registry = lab.registry().alpn(List.of("http/1.1"));
            Target target = lab.registryByAddress();
            TargetReport first = prober.probe(target).get(20, TimeUnit.SECONDS);
            assertEquals(Reason.OK, first.outcome(), first.summary());
            assertFalse(first.evidence().tls().chain().isEmpty());
            TargetReport again = prober.probe(target).get(20, TimeUnit.SECONDS);
            assertEquals(first.evidence().tls().chain(), again.evidence().tls().chain(),
                    "a second probe sees the full chain again, not a resumed session without certificates");

            Instant now = Instant.now();
            registry.identity(ca.issue("127.0.0.1", List.of(), List.of("127.0.0.1"), now.minus(Duration.ofDays(9)),
                    now.minus(Duration.ofDays(2))));
            TargetReport second = prober.probe(target).get(20, TimeUnit.SECONDS);
            assertEquals(Reason.TLS_CERTIFICATE_EXPIRED, second.outcome(), second.summary());
            assertTrue(second.summary().contains("expired"), second.summary());
        }
    }

    @Test
    @org.junit.jupiter.api.DisplayName("a hosts file that cannot be read (a directory) → skipped as Go skips it, said in "
            + "the DNS phase, the name still resolved by DNS")
    void unreadableHostsFileIsANoteNotASilence(@TempDir Path dir) throws Exception {
        try (dev.pullpath.testing.DnsTestServer dns = new dev.pullpath.testing.DnsTestServer()
                .a("registry.test", "127.0.0.1")) {
            Path notAFile = Files.createDirectories(dir.resolve("hosts"));
            Files.writeString(dir.resolve("resolv.conf"), "options ndots:1\n");
            ProbeOptions options = new ProbeOptions(Duration.ofSeconds(2), 4,
                    List.of(new java.net.InetSocketAddress("127.0.0.1", dns.port())), dir.resolve("resolv.conf"),
                    notAFile, List.of(), 64 * 1024);
            try (PathProber prober = new PathProber(options, 1)) {
                TargetReport r = prober.probe(Target.parse("registry.test"), options, Depth.DNS)
                        .get(20, TimeUnit.SECONDS);
                assertEquals(Reason.OK, r.outcome(), r.summary());
                String detail = r.phases().get(0).detail();
                assertTrue(detail.contains("note: cannot read " + notAFile), detail);
            }
        }
    }
}
