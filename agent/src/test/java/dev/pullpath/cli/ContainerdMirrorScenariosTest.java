package dev.pullpath.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pullpath.testing.DnsTestServer;
import dev.pullpath.testing.LoopbackLab;
import dev.pullpath.testing.Outcomes;
import dev.pullpath.testing.RegistryResponder;
import dev.pullpath.testing.TcpPeers;
import dev.pullpath.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * containerd's registry host configuration on the node: a pull-through cache as a mirror in
 * {@code certs.d/<registry>/hosts.toml}, with its own CA and a header, in front of the upstream registry. pullpath
 * walks the hosts in containerd's order and names the one that decides.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ContainerdMirrorScenariosTest {
    private static final String HEADER_SECRET = "mirror-header-s3cret";
    private LoopbackLab lab;
    private Path dir;
    private Path certsDir;
    private DnsTestServer dns;
    private RegistryResponder upstream;
    private RegistryResponder mirror;
    private TestPki.Ca mirrorCa;
    private final List<String> outputs = new ArrayList<>();

    @BeforeAll
    void peers() throws Exception {
        // The lab's registry is the upstream, its CA the one of --ca-file.
        lab = LoopbackLab.in(Files.createTempDirectory("pullpath-containerd"), "CN=pullpath upstream CA");
        dir = lab.dir();
        certsDir = Files.createDirectories(dir.resolve("certs.d"));
        // The mirror's CA is not in --ca-file: only hosts.toml's `ca` makes it trusted, as on a node.
        mirrorCa = TestPki.newCa("CN=pullpath mirror CA");
        dns = lab.dns().a("mirror.test", "127.0.0.1");
        upstream = lab.registry();
        mirror = new RegistryResponder(mirrorCa.issueFor("mirror.test")).hostForRealm("mirror.test")
                .manifest("library/app:1");
    }

    @AfterAll
    void stop() throws Exception {
        mirror.close();
        lab.close();
        for (String out : outputs) {
            assertFalse(out.contains(HEADER_SECRET), "a hosts.toml header value reached the output: " + out);
        }
    }

    @BeforeEach
    void fresh() {
        upstream.clearRequests();
        mirror.clearRequests();
    }

    private String registry() {
        return "registry.test:" + upstream.port();
    }

    private void hostsToml(String text) throws Exception {
        Path hostDir = Files.createDirectories(certsDir.resolve(registry()));
        mirrorCa.writePem(hostDir.resolve("mirror-ca.pem"));
        Files.writeString(hostDir.resolve("hosts.toml"), text);
    }

    private String mirrorTable(int port, String extra) {
        return "[host.\"https://mirror.test:" + port + "\"]\n  capabilities = [\"pull\", \"resolve\"]\n" + extra;
    }

    private Cli.Run diagnose(String... more) {
        List<String> args = new ArrayList<>(List.of("diagnose"));
        args.addAll(lab.cliFlags("2s", "--registry-config", dir.resolve("none.json").toString(), "--docker-config",
                dir.resolve("none-docker.json").toString(), "--containerd-certs-dir", certsDir.toString()));
        args.addAll(List.of(more));
        args.add(registry());
        List<String> json = new ArrayList<>(args);
        json.add(1, "--json");
        Cli.Run human = Cli.run(args.toArray(String[]::new));
        Cli.Run machine = Cli.run(json.toArray(String[]::new));
        outputs.add(human.out() + human.err());
        outputs.add(machine.out() + machine.err());
        assertEquals(human.exitCode(), machine.exitCode(), human.out());
        assertFalse(human.err().contains("Exception"), human.err());
        return machine;
    }

    private static String outcome(JsonNode r) {
        return Outcomes.of(r);
    }

    @Test
    @DisplayName("pull-through cache mirror with its own CA and a header → none/ok through the mirror; upstream untouched")
    void mirrorServesThePull() throws Exception {
        hostsToml("server = \"https://" + registry() + "\"\n\n" + mirrorTable(mirror.port(),
                "  ca = \"mirror-ca.pem\"\n  [host.\"https://mirror.test:" + mirror.port() + "\".header]\n"
                        + "    X-Mirror-Token = \"" + HEADER_SECRET + "\"\n"));
        Cli.Run run = diagnose();
        JsonNode r = run.json().get(0);
        assertEquals(0, run.exitCode(), r::toPrettyString);
        assertEquals("none/ok", outcome(r), r::toPrettyString);
        assertEquals(1, r.get("endpoints").size(), r::toPrettyString);
        assertTrue(r.at("/endpoints/0/endpoint").asText().startsWith("mirror https://mirror.test:" + mirror.port()),
                r::toPrettyString);
        assertTrue(r.at("/endpoints/0/endpoint").asText().contains("headers [X-Mirror-Token]"), r::toPrettyString);
        assertTrue(r.at("/evidence/tls/chain/0").asText().contains("mirror.test")
                || r.toString().contains("pullpath mirror CA"), r::toPrettyString);
        assertTrue(mirror.requests().stream().anyMatch(q -> q.headerNames().contains("x-mirror-token")),
                () -> mirror.requests().toString());
        assertTrue(upstream.requests().isEmpty(), () -> "upstream was asked: " + upstream.requests());
    }

    @Test
    @DisplayName("mirror down (port closed), upstream fine → registry/mirror_unavailable warning, exit 0, both hosts shown")
    void mirrorDownFallsBackToUpstream() throws Exception {
        hostsToml(mirrorTable(TcpPeers.closedPort(), "  ca = \"mirror-ca.pem\"\n"));
        Cli.Run run = diagnose();
        JsonNode r = run.json().get(0);
        assertEquals(0, run.exitCode(), r::toPrettyString);
        assertEquals("registry/mirror_unavailable", outcome(r), r::toPrettyString);
        assertTrue(r.get("ok").asBoolean());
        assertEquals("firewall/connect_refused", Outcomes.of(r.at("/endpoints/0")), r::toPrettyString);
        assertTrue(r.at("/endpoints/1/ok").asBoolean(), r::toPrettyString);
        assertTrue(r.get("summary").asText().contains("pulls fall back to https://" + registry()), r::toPrettyString);
        assertTrue(r.get("hint").asText().contains("hosts.toml"), r::toPrettyString);
        assertFalse(upstream.requests().isEmpty(), "the upstream's /v2/ decided and must have been asked");
        assertTrue(run.out().contains("\"phase\":\"http\""), "the upstream's registry hops are the phases shown");
    }

    @Test
    @DisplayName("mirror down and upstream down → the mirror's firewall/connect_refused, exit 1, every host named")
    void everyHostDown() throws Exception {
        hostsToml("server = \"https://registry.test:" + TcpPeers.closedPort() + "\"\n"
                + mirrorTable(TcpPeers.closedPort(), ""));
        Cli.Run run = diagnose();
        JsonNode r = run.json().get(0);
        assertEquals(1, run.exitCode(), r::toPrettyString);
        assertEquals("firewall/connect_refused", outcome(r), r::toPrettyString);
        assertTrue(r.get("summary").asText().contains("every host of the pull path fails"), r::toPrettyString);
        assertEquals(2, r.get("endpoints").size(), r::toPrettyString);
    }

    @Test
    @DisplayName("mirror's CA not configured → its tls/untrusted_certificate makes a fallback; skip_verify → ok, noted")
    void mirrorCertificateTrust() throws Exception {
        hostsToml(mirrorTable(mirror.port(), ""));
        JsonNode untrusted = diagnose().json().get(0);
        assertEquals("registry/mirror_unavailable", outcome(untrusted), untrusted::toPrettyString);
        assertEquals("tls", untrusted.at("/endpoints/0/category").asText(), untrusted::toPrettyString);

        hostsToml(mirrorTable(mirror.port(), "  skip_verify = true\n"));
        JsonNode skipped = diagnose().json().get(0);
        assertEquals("none/ok", outcome(skipped), skipped::toPrettyString);
        assertTrue(skipped.toString().contains("not verified (skip_verify; it would fail"), skipped::toPrettyString);
    }

    @Test
    @DisplayName("http:// pull-through cache in the VPC → no TLS hop, GET /v2/ over TCP, none/ok through it")
    void plainHttpMirror() throws Exception {
        try (RegistryResponder cache = RegistryResponder.plainHttp().mode(RegistryResponder.Mode.OPEN)) {
            hostsToml("[host.\"http://mirror.test:" + cache.port() + "\"]\n  capabilities = [\"pull\", \"resolve\"]\n");
            Cli.Run run = diagnose();
            JsonNode r = run.json().get(0);
            assertEquals("none/ok", outcome(r), r::toPrettyString);
            assertTrue(r.at("/endpoints/0/endpoint").asText().startsWith("mirror http://mirror.test:"),
                    r::toPrettyString);
            List<String> phases = new ArrayList<>();
            r.get("phases").forEach(p -> phases.add(p.get("phase").asText()));
            assertEquals(List.of("dns", "connect", "http"), phases, r::toPrettyString);
            assertEquals("http/1.1", cache.requests().get(0).protocol());
            assertTrue(upstream.requests().isEmpty(), () -> "upstream was asked: " + upstream.requests());
        }
    }

    @Test
    @DisplayName("--image through the mirror: HEAD of the manifest carries ns=<registry>, as containerd sends it")
    void manifestThroughTheMirror() throws Exception {
        hostsToml(mirrorTable(mirror.port(), "  ca = \"mirror-ca.pem\"\n"));
        Cli.Run run = diagnose("--image", "library/app:1");
        JsonNode r = run.json().get(0);
        assertEquals("none/ok", outcome(r), r::toPrettyString);
        assertTrue(mirror.requests().stream().anyMatch(q -> q.method().equals("HEAD")
                        && q.pathAndQuery().equals("/v2/library/app/manifests/1?ns=" + java.net.URLEncoder.encode(
                        registry(), java.nio.charset.StandardCharsets.UTF_8))),
                () -> mirror.requests().toString());
    }

    @Test
    @DisplayName("hosts.toml containerd 1.6 cannot decode (not TOML, a wrong type, no [host] table) → "
            + "registry/hosts_config_ignored: the registry itself is walked without the file's mirror, exit 0")
    void undecodableHostsTomlIsIgnoredAsContainerdDoes() throws Exception {
        List<String> undecodable = List.of("server = \"https://x\n[host", "skip_verify = \"yes\"\n"
                + mirrorTable(mirror.port(), ""), "capabilities = [\"push\"]\n",
                "server = \"https://" + registry() + "\"\nca = \"mirror-ca.pem\"\n");
        for (String text : undecodable) {
            hostsToml(text);
            mirror.clearRequests();
            Cli.Run run = diagnose("--containerd-version", "1.6.20");
            JsonNode r = run.json().get(0);
            assertEquals(0, run.exitCode(), text + " -> " + r);
            assertEquals("registry/hosts_config_ignored", outcome(r), text + " -> " + r);
            assertTrue(r.get("summary").asText().contains("containerd 1.6.20 cannot decode"), text + " -> " + r);
            assertEquals(1, r.get("endpoints").size(), r::toPrettyString);
            assertTrue(r.at("/endpoints/0/endpoint").asText().startsWith("server https://" + registry()), r::toPrettyString);
            assertTrue(mirror.requests().isEmpty(), "the mirror of an ignored file is never asked");
        }
    }

    @Test
    @DisplayName("the same server-only file on containerd 2.0 → read: none/ok")
    void serverOnlyHostsTomlIsReadFrom172() throws Exception {
        hostsToml("server = \"https://" + registry() + "\"\n");
        JsonNode r = diagnose("--containerd-version", "2.0.0").json().get(0);
        assertEquals("none/ok", outcome(r), r::toPrettyString);
    }

    @Test
    @DisplayName("ignored hosts.toml whose ca the registry needs → tls/untrusted_certificate at the default host, "
            + "and the summary says containerd ignored the file (as ctr 1.6.20 fails on x509)")
    void ignoredFileWithoutWhichTlsFails() throws Exception {
        try (RegistryResponder own = new RegistryResponder(mirrorCa.issueFor("registry.test", "127.0.0.1"))
                .hostForRealm("registry.test")) {
            String registry = "registry.test:" + own.port();
            Path hostDir = Files.createDirectories(certsDir.resolve(registry));
            mirrorCa.writePem(hostDir.resolve("own-ca.pem"));
            Files.writeString(hostDir.resolve("hosts.toml"), "server = \"https://" + registry + "\"\nca = \"own-ca.pem\"\n");
            List<String> args = new ArrayList<>(List.of("--timeout", "2s", "--resolver", "127.0.0.1:" + dns.port(),
                    "--resolv-conf", dir.resolve("resolv.conf").toString(), "--hosts-file",
                    dir.resolve("hosts").toString(), "--containerd-certs-dir", certsDir.toString()));
            List<String> old = new ArrayList<>(args);
            old.addAll(List.of("--containerd-version", "1.6.20"));
            JsonNode r = Cli.diagnose(registry, old);
            assertEquals("tls/untrusted_certificate", outcome(r), r::toPrettyString);
            assertTrue(r.get("summary").asText().contains("cannot decode"), r::toPrettyString);
            assertTrue(r.get("hint").asText().contains("[host.\"URL\"] table"), r::toPrettyString);
            args.addAll(List.of("--containerd-version", "1.7.32"));
            assertEquals("none/ok", outcome(Cli.diagnose(registry, args)), "1.7.32 reads the file and its ca");
        }
    }

    @Test
    @DisplayName("hosts.toml containerd decodes but cannot use (no pull host, missing ca) → "
            + "registry/hosts_config_invalid naming the file, exit 1, no stack trace")
    void invalidHostsToml() throws Exception {
        List<String> broken = List.of("server = \"https://" + registry() + "\"\ncapabilities = [\"push\"]\n" + mirrorTable(mirror.port(),
                        "").replace("\"pull\", \"resolve\"", "\"push\""),
                mirrorTable(mirror.port(), "  ca = \"missing.pem\"\n"));
        for (String text : broken) {
            hostsToml(text);
            Cli.Run run = diagnose();
            JsonNode r = run.json().get(0);
            assertEquals(1, run.exitCode(), text + " -> " + r);
            assertEquals("registry/hosts_config_invalid", outcome(r), text + " -> " + r);
            assertTrue(r.get("summary").asText().contains(registry()), text + " -> " + r);
        }
    }

    @Test
    @DisplayName("only Docker-style *.crt files in the registry's directory → they are the upstream's CAs")
    void dockerStyleCertificates() throws Exception {
        TestPki.Ca otherCa = TestPki.newCa("CN=pullpath certs.d CA");
        try (RegistryResponder onlyCrt = new RegistryResponder(otherCa.issueFor("registry.test", "127.0.0.1"))
                .hostForRealm("registry.test")) {
            Path hostDir = Files.createDirectories(certsDir.resolve("registry.test:" + onlyCrt.port()));
            otherCa.writePem(hostDir.resolve("ca.crt"));
            // No --ca-file: only the *.crt of certs.d can make the registry trusted.
            List<String> args = List.of("--timeout", "2s", "--resolver", "127.0.0.1:" + dns.port(),
                    "--resolv-conf", lab.resolvConf().toString(), "--hosts-file", lab.hostsFile().toString(),
                    "--containerd-certs-dir", certsDir.toString());
            JsonNode r = Cli.diagnose("registry.test:" + onlyCrt.port(), args);
            assertEquals("none/ok", outcome(r), r::toPrettyString);
            Files.delete(hostDir.resolve("ca.crt"));
            JsonNode without = Cli.diagnose("registry.test:" + onlyCrt.port(), args);
            assertEquals("tls/untrusted_certificate", outcome(without), without::toPrettyString);
        }
    }
}
