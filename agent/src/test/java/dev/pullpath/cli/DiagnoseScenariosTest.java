package dev.pullpath.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pullpath.testing.DnsTestServer;
import dev.pullpath.testing.LoopbackLab;
import dev.pullpath.testing.Outcomes;
import dev.pullpath.testing.RegistryResponder.Mode;
import dev.pullpath.testing.RegistryResponder;
import dev.pullpath.testing.SynBlackhole;
import dev.pullpath.testing.TcpPeers;
import dev.pullpath.testing.TestPki;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.xbill.DNS.Rcode;

/**
 * Every reason of the core taxonomy, provoked by a real peer on loopback and checked through the CLI's JSON and
 * the API. Names read as "what the path does → what pullpath says".
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DiagnoseScenariosTest {
    private static final String TIMEOUT = "1s";

    private LoopbackLab lab;
    private Path dir;
    private TestPki.Ca ca;
    private DnsTestServer dns;
    private RegistryResponder registry;
    private Path resolvConf;
    private Path hosts;

    @BeforeAll
    void startPeers() throws Exception {
        lab = LoopbackLab.in(Files.createTempDirectory("pullpath-scenarios"), "CN=pullpath test root CA")
                .hosts("127.0.0.1 localhost\n");
        dir = lab.dir();
        ca = lab.ca();
        dns = lab.dns();
        registry = lab.registry();
        resolvConf = lab.resolvConf();
        hosts = lab.hostsFile();
    }

    @AfterAll
    void stopPeers() throws Exception {
        lab.close();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @BeforeEach
    void healthyPath() {
        dns.reset();
        dns.a("registry.test", "127.0.0.1");
        registry.identity(ca.issueFor("registry.test", "127.0.0.1"));
        registry.mode(Mode.BEARER).alpn(List.of("h2", "http/1.1")).hostForRealm("127.0.0.1").realm(null)
                .tokenStatus(200).tokenBody(null).connectionClose(false);
        registry.clearRequests();
    }

    private List<String> flags(String... extra) {
        return lab.cliFlags(TIMEOUT, extra);
    }

    private String registryTarget() {
        return "registry.test:" + registry.port();
    }

    private static void assertDiagnosis(JsonNode r, String category, String reason, String... evidence) {
        Outcomes.assertOutcome(category + "/" + reason, r);
        assertEquals("none".equals(category), r.get("ok").asBoolean());
        for (String e : evidence) {
            assertTrue(r.get("summary").asText().contains(e), () -> "summary lacks '" + e + "': " + r.get("summary"));
        }
        if (!"none".equals(category)) {
            assertFalse(r.get("hint").asText().isBlank(), "a failure carries a hint");
        }
    }

    private static List<String> phases(JsonNode r) {
        return StreamSupport.stream(r.get("phases").spliterator(), false).map(p -> p.get("phase").asText()).toList();
    }

    @Nested
    @DisplayName("healthy paths")
    class Healthy {
        @Test
        @DisplayName("registry offering h2 and a Bearer challenge → none/ok over HTTP/1.1 (no ALPN, as containerd), "
                + "anonymous token fetched and used")
        void bearerChallengeAndAnonymousTokenOverHttp11AsContainerd() {
            JsonNode r = Cli.diagnose(registryTarget(), flags());
            assertDiagnosis(r, "none", "ok");
            assertEquals(List.of("dns", "connect", "tls", "http", "token"), phases(r));
            assertEquals("none", r.at("/evidence/tls/alpn").asText(), "no protocol was negotiated");
            assertEquals("http/1.1", r.at("/evidence/http/protocol").asText());
            assertTrue(registry.requests().stream().allMatch(q -> q.protocol().equals("http/1.1")),
                    registry.requests().toString());
            assertEquals("Bearer", r.at("/evidence/http/challenge/scheme").asText());
            assertEquals("200 OK", r.at("/evidence/token/retryStatusLine").asText());
            assertTrue(registry.requests().stream().anyMatch(q -> q.pathAndQuery().startsWith("/token/?service=public.ecr.aws&scope=aws")),
                    registry.requests().toString());
            assertTrue(registry.requests().stream().anyMatch(q -> q.pathAndQuery().equals("/v2/")
                    && "Bearer".equals(q.authorizationScheme())), "the token was presented");
            assertFalse(r.toString().contains(registry.issuedTokens().iterator().next()), "the token never appears");
        }

        @Test
        @DisplayName("HTTP/1.1-only registry, realm on the same endpoint → none/ok on one kept-alive connection")
        void http11RegistryReusesTheConnectionForTheToken() {
            registry.alpn(List.of("http/1.1")).hostForRealm("registry.test");
            int before = registry.handshakes();
            JsonNode r = Cli.diagnose(registryTarget(), flags());
            assertDiagnosis(r, "none", "ok");
            assertEquals("http/1.1", r.at("/evidence/http/protocol").asText());
            assertEquals(2, registry.handshakes() - before, "one TLS handshake per run (CLI and API)");
        }

        @Test
        @DisplayName("registry closes each connection (Connection: close), realm on the same endpoint → none/ok "
                + "on a new connection")
        void connectionCloseIsHonoured() {
            registry.alpn(List.of("http/1.1")).hostForRealm("registry.test").connectionClose(true);
            JsonNode r = Cli.diagnose(registryTarget(), flags());
            assertDiagnosis(r, "none", "ok");
        }

        @Test
        @DisplayName("first nameserver silent, second answers → resolved within the timeout, both asked")
        void silentFirstNameserverFallsBack() throws Exception {
            try (DnsTestServer dead = new DnsTestServer()) {
                dead.silentAll();
                List<String> f = flags();
                int at = f.indexOf("127.0.0.1:" + dns.port());
                f.set(at, "127.0.0.1:" + dead.port());
                f.add(at + 1, "--resolver");
                f.add(at + 2, "127.0.0.1:" + dns.port());
                JsonNode r = Cli.diagnose(registryTarget(), f);
                assertDiagnosis(r, "none", "ok");
                assertTrue(r.at("/phases/0/durationMs").asDouble() < 1_000, r.at("/phases/0").toString());
                assertTrue(r.at("/evidence/dns/queries").toString().contains("127.0.0.1:" + dead.port()),
                        "the silent server was asked first");
            }
        }

        @Test
        @DisplayName("registry beside an address that stalls TLS → registry hops still run on the healthy one")
        void registryHopsDoNotWaitOnTheSlowestAddress() throws Exception {
            // 127.0.0.2 is loopback too: a listener there that never speaks keeps the other address waiting 1s.
            try (java.net.ServerSocket stall = new java.net.ServerSocket()) {
                stall.bind(new java.net.InetSocketAddress("127.0.0.2", registry.port()));
                dns.a("registry.test", "127.0.0.1", "127.0.0.2");
                JsonNode r = Cli.diagnose(registryTarget(), flags());
                assertDiagnosis(r, "firewall", "tls_stalled", "127.0.0.2");
                JsonNode healthy = r.get("addresses").get(0);
                assertTrue(healthy.get("ok").asBoolean(), healthy.toString());
                assertEquals(List.of("connect", "tls", "http", "token"), StreamSupport.stream(
                        healthy.get("phases").spliterator(), false).map(p -> p.get("phase").asText()).toList());
                assertEquals("http/1.1", r.at("/evidence/http/protocol").asText());
            }
        }

        @Test
        @DisplayName("open registry answering 200 → none/ok without a token hop")
        void openRegistry() {
            registry.mode(Mode.OPEN);
            JsonNode r = Cli.diagnose(registryTarget(), flags());
            assertDiagnosis(r, "none", "ok");
            assertEquals(List.of("dns", "connect", "tls", "http"), phases(r));
        }

        @Test
        @DisplayName("private-ECR style Basic challenge → none/ok, the registry wants credentials")
        void basicChallengeIsReachable() {
            registry.mode(Mode.BASIC);
            JsonNode r = Cli.diagnose(registryTarget(), flags());
            assertDiagnosis(r, "none", "ok");
            assertTrue(r.at("/phases/3/detail").asText().contains("Basic challenge"), r.toString());
        }

        @Test
        @DisplayName("CNAME chain → followed, kept as evidence, none/ok")
        void cnameChainIsFollowed() {
            dns.cname("alias.test", "edge.test").cname("edge.test", "registry.test");
            registry.identity(ca.issueFor("alias.test", "127.0.0.1"));
            JsonNode r = Cli.diagnose("alias.test:" + registry.port(), flags());
            assertDiagnosis(r, "none", "ok");
            assertEquals("[\"edge.test\",\"registry.test\"]", r.at("/evidence/dns/cnameChain").toString());
        }

        @Test
        @DisplayName("hosts-file entry → DNS not asked, override reported")
        void hostsFileOverridesDns() throws Exception {
            Path pinned = Files.writeString(dir.resolve("hosts-pinned"), "127.0.0.1 localhost\n127.0.0.1 pinned.test\n");
            registry.identity(ca.issueFor("pinned.test", "127.0.0.1"));
            dns.clearQueries();
            List<String> f = flags();
            f.set(f.indexOf(hosts.toString()), pinned.toString());
            JsonNode r = Cli.diagnose("pinned.test:" + registry.port(), f);
            assertDiagnosis(r, "none", "ok");
            assertEquals("hosts-file", r.at("/evidence/dns/source").asText());
            assertTrue(r.at("/phases/0/detail").asText().contains(pinned + ":2"), r.at("/phases/0/detail").asText());
            assertEquals(0, dns.queryCount(), "no DNS query for a hosts-file name");
        }

        @Test
        @DisplayName("short name with a search list → resolved through the search domain")
        void searchListExpandsShortNames() throws Exception {
            Path conf = Files.writeString(dir.resolve("resolv-search"), "search corp.test\noptions ndots:1\n");
            dns.a("registry.corp.test", "127.0.0.1");
            registry.identity(ca.issueFor("registry", "127.0.0.1"));
            List<String> f = flags();
            f.set(f.indexOf(resolvConf.toString()), conf.toString());
            JsonNode r = Cli.diagnose("registry:" + registry.port(), f);
            assertDiagnosis(r, "none", "ok");
            assertEquals("registry.corp.test", r.at("/evidence/dns/name").asText());
        }
    }

    @Nested
    @DisplayName("dns")
    class Dns {
        @Test
        @DisplayName("name does not exist → dns/nxdomain")
        void nxdomain() {
            dns.rcode("missing.test", Rcode.NXDOMAIN);
            assertDiagnosis(Cli.diagnose("missing.test", flags()), "dns", "nxdomain", "missing.test", "NXDOMAIN");
        }

        @Test
        @DisplayName("resolver fails → dns/servfail")
        void servfail() {
            dns.rcode("broken.test", Rcode.SERVFAIL);
            assertDiagnosis(Cli.diagnose("broken.test", flags()), "dns", "servfail", "SERVFAIL", "127.0.0.1:" + dns.port());
        }

        @Test
        @DisplayName("resolver refuses → dns/refused")
        void refused() {
            dns.rcode("refused.test", Rcode.REFUSED);
            assertDiagnosis(Cli.diagnose("refused.test", flags()), "dns", "refused", "REFUSED");
        }

        @Test
        @DisplayName("name exists without A/AAAA → dns/no_data")
        void noData() {
            dns.noData("empty.test");
            assertDiagnosis(Cli.diagnose("empty.test", flags()), "dns", "no_data", "empty.test");
        }

        @Test
        @DisplayName("resolver silent → dns/timeout within the phase timeout")
        void timeout() {
            dns.silent("slow.test");
            JsonNode r = Cli.diagnose("slow.test", flags());
            assertDiagnosis(r, "dns", "timeout", "no answer from 127.0.0.1:" + dns.port(), "1000ms");
            assertTrue(r.at("/phases/0/durationMs").asDouble() < 2_000, r.toString());
        }

        @Test
        @DisplayName("nothing listens on the nameserver's port → dns/no_resolver")
        void noResolver() {
            List<String> f = flags();
            f.set(f.indexOf("127.0.0.1:" + dns.port()), "127.0.0.1:" + TcpPeers.closedPort());
            assertDiagnosis(Cli.diagnose("registry.test", f), "dns", "no_resolver", "unusable");
        }
    }

    @Nested
    @DisplayName("firewall")
    class Firewall {
        @Test
        @DisplayName("closed port → firewall/connect_refused")
        void connectRefused() {
            int port = TcpPeers.closedPort();
            assertDiagnosis(Cli.diagnose("registry.test:" + port, flags()), "firewall", "connect_refused",
                    "127.0.0.1:" + port, "ECONNREFUSED");
        }

        @Test
        @DisplayName("SYN unanswered → firewall/connect_timeout")
        void connectTimeout() throws Exception {
            try (SynBlackhole hole = new SynBlackhole()) {
                JsonNode r = Cli.diagnose("registry.test:" + hole.port(), flags());
                assertDiagnosis(r, "firewall", "connect_timeout", "127.0.0.1:" + hole.port(), "no SYN-ACK");
                assertEquals(1_000, r.at("/phases/1/durationMs").asDouble(), 300);
            }
        }

        @Test
        @DisplayName("server silent after the ClientHello → firewall/tls_stalled")
        void tlsStalled() throws Exception {
            try (TcpPeers.SilentAcceptor silent = new TcpPeers.SilentAcceptor()) {
                assertDiagnosis(Cli.diagnose("registry.test:" + silent.port(), flags()), "firewall", "tls_stalled",
                        "SNI registry.test", "no ServerHello");
            }
        }

        @Test
        @DisplayName("server resets after the ClientHello → firewall/sni_reset")
        void sniReset() throws Exception {
            try (TcpPeers.ResetAfterClientHello reset = new TcpPeers.ResetAfterClientHello()) {
                JsonNode r = Cli.diagnose("registry.test:" + reset.port(), flags());
                assertDiagnosis(r, "firewall", "sni_reset", "reset (RST)", "SNI registry.test");
                assertTrue(reset.clientHellos() >= 2, "the peer saw the ClientHello");
            }
        }

        @Test
        @DisplayName("server closes after the ClientHello → firewall/sni_reset (FIN)")
        void sniClose() throws Exception {
            try (TcpPeers.CloseAfterClientHello close = new TcpPeers.CloseAfterClientHello()) {
                assertDiagnosis(Cli.diagnose("registry.test:" + close.port(), flags()), "firewall", "sni_reset",
                        "closed (FIN)");
            }
        }

        @Test
        @DisplayName("two addresses, one refused, one healthy → worst wins, both listed")
        void worstAddressWins() {
            dns.a("registry.test", "127.0.0.1", "127.0.0.2");
            JsonNode r = Cli.diagnose(registryTarget(), flags());
            assertDiagnosis(r, "firewall", "connect_refused", "127.0.0.2", "1 of 2 addresses");
            JsonNode addresses = r.get("addresses");
            assertEquals(2, addresses.size());
            assertEquals("127.0.0.1", addresses.get(0).get("address").asText());
            assertTrue(addresses.get(0).get("ok").asBoolean(), addresses.toString());
            assertEquals("connect_refused", addresses.get(1).get("reason").asText());
            assertEquals(4, addresses.get(0).get("phases").size(), "the healthy address carried the registry hops");
        }
    }

    @Nested
    @DisplayName("tls")
    class Tls {
        @Test
        @DisplayName("server answers a TLS alert → tls/handshake_failed")
        void alert() throws Exception {
            byte[] handshakeFailure = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28};
            try (TcpPeers.GarbageResponder peer = new TcpPeers.GarbageResponder(handshakeFailure)) {
                assertDiagnosis(Cli.diagnose("registry.test:" + peer.port(), flags()), "tls", "handshake_failed",
                        "handshake_failure");
            }
        }

        @Test
        @DisplayName("plain-text server on the TLS port → tls/handshake_failed")
        void notTls() throws Exception {
            try (TcpPeers.GarbageResponder peer = new TcpPeers.GarbageResponder()) {
                assertDiagnosis(Cli.diagnose("registry.test:" + peer.port(), flags()), "tls", "handshake_failed",
                        "does not speak TLS");
            }
        }

        @Test
        @DisplayName("expired leaf → tls/certificate_expired")
        void expired() {
            Instant now = Instant.now();
            registry.identity(ca.issue("registry.test", List.of("registry.test"), List.of(),
                    now.minus(Duration.ofDays(30)), now.minus(Duration.ofDays(1))));
            JsonNode r = Cli.diagnose(registryTarget(), flags());
            assertDiagnosis(r, "tls", "certificate_expired", "CN=registry.test", "expired");
            assertEquals(2, r.at("/evidence/tls/chain").size(), "the rejected chain is still evidence");
        }

        @Test
        @DisplayName("leaf valid only from tomorrow → tls/certificate_not_yet_valid")
        void notYetValid() {
            Instant now = Instant.now();
            registry.identity(ca.issue("registry.test", List.of("registry.test"), List.of(),
                    now.plus(Duration.ofDays(1)), now.plus(Duration.ofDays(30))));
            assertDiagnosis(Cli.diagnose(registryTarget(), flags()), "tls", "certificate_not_yet_valid",
                    "not valid before");
        }

        @Test
        @DisplayName("certificate for another host → tls/hostname_mismatch")
        void wrongHost() {
            registry.identity(ca.issueFor("other.test"));
            assertDiagnosis(Cli.diagnose(registryTarget(), flags()), "tls", "hostname_mismatch", "other.test",
                    "not registry.test");
        }

        @Test
        @DisplayName("chain from a foreign CA → tls/untrusted_certificate naming the issuer")
        void foreignCa() {
            TestPki.Ca foreign = TestPki.newCa("CN=Foreign Inspection Root");
            registry.identity(foreign.issueFor("registry.test", "127.0.0.1"));
            JsonNode r = Cli.diagnose(registryTarget(), flags());
            assertDiagnosis(r, "tls", "untrusted_certificate", "CN=Foreign Inspection Root");
            assertEquals("CN=Foreign Inspection Root", r.at("/evidence/tls/chain/0/issuer").asText());
        }

        @Test
        @DisplayName("trusted leaf with only a Common Name, no SAN → tls/hostname_mismatch, as Go rejects it")
        void commonNameOnly() {
            Instant now = Instant.now();
            registry.identity(ca.issue("registry.test", List.of(), List.of(), now.minus(Duration.ofHours(1)),
                    now.plus(Duration.ofDays(1))));
            assertDiagnosis(Cli.diagnose(registryTarget(), flags()), "tls", "hostname_mismatch",
                    "no subject alternative name");
        }

        @Test
        @DisplayName("self-signed leaf → tls/untrusted_certificate")
        void selfSigned() {
            registry.identity(TestPki.selfSigned("registry.test", "registry.test"));
            assertDiagnosis(Cli.diagnose(registryTarget(), flags()), "tls", "untrusted_certificate",
                    "not a trusted root");
        }
    }

    @Nested
    @DisplayName("registry and auth")
    class Registry {
        @Test
        @DisplayName("/v2/ answers 429 → registry/rate_limited")
        void rateLimited() {
            registry.mode(Mode.status(429));
            assertDiagnosis(Cli.diagnose(registryTarget(), flags()), "registry", "rate_limited", "429",
                    "Retry-After 1");
        }

        @Test
        @DisplayName("/v2/ answers 503 → registry/server_error")
        void serverError() {
            registry.mode(Mode.status(503));
            assertDiagnosis(Cli.diagnose(registryTarget(), flags()), "registry", "server_error", "503");
        }

        @Test
        @DisplayName("/v2/ answers 404 → registry/not_found")
        void notFound() {
            registry.mode(Mode.status(404));
            assertDiagnosis(Cli.diagnose(registryTarget(), flags()), "registry", "not_found", "404");
        }

        @Test
        @DisplayName("captive portal HTML 200 → registry/unexpected_response")
        void captivePortal() {
            registry.mode(Mode.HTML_200);
            assertDiagnosis(Cli.diagnose(registryTarget(), flags()), "registry", "unexpected_response", "text/html",
                    "not a registry");
        }

        @Test
        @DisplayName("multi-megabyte /v2/ body → read stops at the bound, the registry headers still decide")
        void hugeBodyIsBounded() {
            registry.mode(Mode.HUGE_BODY).alpn(List.of("http/1.1"));
            JsonNode r = Cli.diagnose(registryTarget(), flags());
            assertDiagnosis(r, "none", "ok");
            assertTrue(r.at("/evidence/http/bodySnippet").asText().endsWith("[body truncated]"), r.toString());
            assertTrue(r.at("/phases/3/durationMs").asDouble() < 1_000, "no waiting for the whole body");
        }

        @Test
        @DisplayName("anonymous token refused by /v2/ → auth/anonymous_denied")
        void anonymousDenied() {
            registry.mode(Mode.REJECT_TOKEN);
            assertDiagnosis(Cli.diagnose(registryTarget(), flags()), "auth", "anonymous_denied", "401");
        }

        @Test
        @DisplayName("token realm answers garbage → auth/token_failed")
        void tokenGarbage() {
            registry.tokenBody("<html>sorry</html>");
            assertDiagnosis(Cli.diagnose(registryTarget(), flags()), "auth", "token_failed", "without a token");
        }

        @Test
        @DisplayName("token realm unreachable → auth/token_failed naming the realm's hop")
        void tokenRealmUnreachable() {
            registry.realm("https://127.0.0.1:" + TcpPeers.closedPort() + "/token/");
            assertDiagnosis(Cli.diagnose(registryTarget(), flags()), "auth", "token_failed", "ECONNREFUSED");
        }

        @Test
        @DisplayName("realm carrying user info and a token in its query → neither appears in the report")
        void realmSecretsAreRedacted() {
            registry.realm("https://robot:s3cretpass@127.0.0.1:" + registry.port() + "/token/?token=abc123secret");
            JsonNode r = Cli.diagnose(registryTarget(), flags());
            assertFalse(r.toString().contains("s3cretpass"), r.toString());
            assertFalse(r.toString().contains("abc123secret"), r.toString());
            assertTrue(r.at("/evidence/http/challenge/realm").asText().contains("<redacted>"), r.toString());
        }

        @Test
        @DisplayName("--image of a manifest that exists → none/ok with a manifest phase; a missing tag → "
                + "registry/not_found")
        void imageManifest() {
            registry.manifest("team/app:1.0");
            JsonNode found = Cli.diagnose(registryTarget(), flags("--image", "team/app:1.0"));
            assertDiagnosis(found, "none", "ok");
            assertEquals("manifest", found.at("/phases/5/phase").asText(), found.toString());
            assertTrue(found.at("/phases/5/detail").asText().contains("sha256:"), found.toString());
            assertTrue(registry.requests().stream().anyMatch(q -> q.method().equals("HEAD")
                    && q.pathAndQuery().equals("/v2/team/app/manifests/1.0") && "Bearer".equals(q.authorizationScheme())),
                    registry.requests().toString());
            JsonNode missing = Cli.diagnose(registryTarget(), flags("--image", "registry.test/team/app:nope"));
            assertDiagnosis(missing, "registry", "not_found", "team/app:nope", "404");
        }

        @Test
        @DisplayName("token realm answers 500 → registry/server_error")
        void tokenServerError() {
            registry.tokenStatus(500);
            assertDiagnosis(Cli.diagnose(registryTarget(), flags()), "registry", "server_error", "token realm");
        }
    }

    @Test
    @DisplayName("several targets → one JSON line each, exit 1 when any fails")
    void severalTargetsOneLineEach() {
        dns.rcode("missing.test", Rcode.NXDOMAIN);
        List<String> args = new ArrayList<>(List.of("diagnose", "--json"));
        args.addAll(flags());
        args.add(registryTarget());
        args.add("missing.test");
        Cli.Run run = Cli.run(args.toArray(String[]::new));
        assertEquals(1, run.exitCode());
        List<JsonNode> lines = run.json();
        assertEquals(2, lines.size());
        assertTrue(lines.get(0).get("ok").asBoolean());
        assertEquals("nxdomain", lines.get(1).get("reason").asText());
    }

    @Test
    @DisplayName("human output → phases, diagnosis and hint within 80 columns, no colour off a terminal")
    void humanOutputFitsEightyColumns() {
        registry.mode(Mode.status(429));
        List<String> args = new ArrayList<>(List.of("diagnose"));
        args.addAll(flags());
        args.add(registryTarget());
        Cli.Run run = Cli.run(args.toArray(String[]::new));
        assertEquals(1, run.exitCode());
        for (String line : run.out().split("\n")) {
            assertTrue(line.length() <= 80, "too wide: " + line);
        }
        assertTrue(run.out().contains("FAIL  registry/rate_limited"), run.out());
        assertTrue(run.out().contains("  hint: "), run.out());
        assertFalse(run.out().contains("\u001b["), "no ANSI escapes when not on a terminal");
        assertFalse(new String(run.out().getBytes(StandardCharsets.UTF_8), StandardCharsets.US_ASCII).contains("\uFFFD"));
    }
}
