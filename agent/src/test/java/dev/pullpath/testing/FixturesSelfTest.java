package dev.pullpath.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pullpath.testing.RegistryResponder.Mode;
import dev.pullpath.testing.RegistryResponder.RecordedRequest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.Proxy;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/** Proves each fixture behaves as advertised against plain JDK / dnsjava clients. */
class FixturesSelfTest {

    private static final TestPki.Ca CA = TestPki.newCa("CN=pullpath test root CA");

    // ---- TestPki --------------------------------------------------------------------------

    @Nested
    class Pki {
        @Test
        void caAndLeafHaveTheRightShape() throws Exception {
            X509Certificate ca = CA.certificate();
            assertEquals(Integer.MAX_VALUE, ca.getBasicConstraints());
            assertTrue(ca.getKeyUsage()[5] && ca.getKeyUsage()[6], "keyCertSign + cRLSign");
            ca.verify(ca.getPublicKey());

            TestPki.Issued leaf = CA.issueFor("registry.test", "127.0.0.1", "::1");
            X509Certificate c = leaf.certificate();
            c.verify(ca.getPublicKey());
            assertEquals(-1, c.getBasicConstraints());
            assertTrue(c.getKeyUsage()[0], "digitalSignature");
            assertEquals(List.of("1.3.6.1.5.5.7.3.1"), c.getExtendedKeyUsage());
            assertEquals("SHA256withECDSA", c.getSigAlgName());
            assertEquals("CN=registry.test", c.getSubjectX500Principal().getName());
            assertEquals(ca.getSubjectX500Principal(), c.getIssuerX500Principal());
            assertEquals(List.of(List.of(2, "registry.test"), List.of(7, "127.0.0.1"), List.of(7, "0:0:0:0:0:0:0:1")),
                    sans(c));
            assertEquals(List.of(c, ca), leaf.chain());
            assertNotNull(c.getExtensionValue("2.5.29.35"), "AKI");
            assertArrayEquals(ca.getExtensionValue("2.5.29.14"), ca.getExtensionValue("2.5.29.14"));
            c.checkValidity();
        }

        @Test
        void explicitValidityAndSelfSigned() throws Exception {
            Instant past = Instant.now().minus(Duration.ofDays(10));
            TestPki.Issued expired = CA.issue("old.test", List.of("old.test"), List.of(), past, past.plusSeconds(3600));
            assertThrows(java.security.cert.CertificateExpiredException.class, () -> expired.certificate().checkValidity());

            TestPki.Issued self = TestPki.selfSigned("self.test", "self.test", "127.0.0.1");
            self.certificate().verify(self.certificate().getPublicKey());
            assertEquals(-1, self.certificate().getBasicConstraints());
            assertEquals(1, self.chain().size());
            assertTrue(self.certificate().getSerialNumber().signum() > 0);
        }

        @Test
        void pemRoundTrips(@TempDir Path dir) throws Exception {
            Path caPem = dir.resolve("ca.pem");
            CA.writePem(caPem);
            TestPki.Issued leaf = CA.issueFor("127.0.0.1");
            Path chainPem = dir.resolve("chain.pem");
            leaf.writeChainPem(chainPem);
            leaf.writeKeyPem(dir.resolve("key.pem"));
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            assertEquals(CA.certificate(), cf.generateCertificate(Files.newInputStream(caPem)));
            Collection<?> chain = cf.generateCertificates(new ByteArrayInputStream(Files.readAllBytes(chainPem)));
            assertEquals(leaf.chain(), List.copyOf(chain));
            assertTrue(Files.readString(dir.resolve("key.pem")).startsWith("-----BEGIN PRIVATE KEY-----\n"));
        }

        private List<List<Object>> sans(X509Certificate c) throws Exception {
            return c.getSubjectAlternativeNames().stream().map(l -> List.<Object>copyOf(l)).toList();
        }
    }

    // ---- DnsTestServer --------------------------------------------------------------------

    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class Dns {
        private DnsTestServer dns;

        @BeforeAll
        void start() {
            dns = new DnsTestServer();
        }

        @AfterAll
        void stop() {
            dns.close();
        }

        private Message ask(String name, int type, boolean tcp) throws IOException {
            SimpleResolver r = new SimpleResolver(dns.address());
            r.setTCP(tcp);
            r.setTimeout(Duration.ofMillis(400));
            return r.send(Message.newQuery(Record.newRecord(Name.fromString(name), type, DClass.IN)));
        }

        @Test
        void answersAWithFlagsOverUdpAndTcp() throws Exception {
            dns.reset().a("Registry.Test", "127.0.0.1", "127.0.0.2").aaaa("registry.test.", "::1");
            for (boolean tcp : new boolean[] {false, true}) {
                Message m = ask("registry.test.", Type.A, tcp);
                assertEquals(Rcode.NOERROR, m.getRcode());
                assertTrue(m.getHeader().getFlag(Flags.QR) && m.getHeader().getFlag(Flags.AA) && m.getHeader().getFlag(Flags.RA));
                assertEquals(2, m.getSection(Section.ANSWER).size());
                assertEquals(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}),
                        ((ARecord) m.getSection(Section.ANSWER).get(0)).getAddress());
                assertEquals(60, m.getSection(Section.ANSWER).get(0).getTTL());
            }
            Message v6 = ask("registry.test.", Type.AAAA, false);
            assertEquals(1, v6.getSection(Section.ANSWER).size());
            assertEquals(List.of("registry.test. A", "registry.test. A", "registry.test. AAAA"), dns.queries());
            assertEquals(3, dns.queryCount());
        }

        @Test
        void noDataAndNxdomainAndRcodes() throws Exception {
            dns.reset().a("v4only.test", "127.0.0.1").noData("empty.test")
                    .rcode("broken.test", Rcode.SERVFAIL).rcode("refused.test", Rcode.REFUSED).ttl(5);
            Message aaaa = ask("v4only.test.", Type.AAAA, false);
            assertEquals(Rcode.NOERROR, aaaa.getRcode());
            assertTrue(aaaa.getSection(Section.ANSWER).isEmpty());
            assertEquals(5, ask("v4only.test.", Type.A, false).getSection(Section.ANSWER).get(0).getTTL());
            assertEquals(Rcode.NOERROR, ask("empty.test.", Type.A, false).getRcode());
            assertTrue(ask("empty.test.", Type.A, false).getSection(Section.ANSWER).isEmpty());
            assertEquals(Rcode.SERVFAIL, ask("broken.test.", Type.A, false).getRcode());
            assertEquals(Rcode.REFUSED, ask("refused.test.", Type.AAAA, true).getRcode());
            assertEquals(Rcode.NXDOMAIN, ask("nowhere.test.", Type.A, false).getRcode());
            dns.defaultRcode(Rcode.SERVFAIL);
            assertEquals(Rcode.SERVFAIL, ask("nowhere.test.", Type.A, false).getRcode());
        }

        @Test
        void followsCnameChains() throws Exception {
            dns.reset().cname("public.ecr.aws", "edge.cdn.test").cname("edge.cdn.test", "d1.cdn.test")
                    .a("d1.cdn.test", "127.0.0.1").cname("dangling.test", "missing.test");
            Message m = ask("public.ecr.aws.", Type.A, false);
            List<Record> answer = m.getSection(Section.ANSWER);
            assertEquals(3, answer.size());
            assertEquals("edge.cdn.test.", ((CNAMERecord) answer.get(0)).getTarget().toString());
            assertEquals("d1.cdn.test.", ((CNAMERecord) answer.get(1)).getTarget().toString());
            assertEquals(Type.A, answer.get(2).getType());
            assertEquals("d1.cdn.test.", answer.get(2).getName().toString());

            Message v6 = ask("public.ecr.aws.", Type.AAAA, false);
            assertEquals(Rcode.NOERROR, v6.getRcode());
            assertEquals(2, v6.getSection(Section.ANSWER).size());

            Message dangling = ask("dangling.test.", Type.A, false);
            assertEquals(Rcode.NXDOMAIN, dangling.getRcode());
            assertEquals(1, dangling.getSection(Section.ANSWER).size());
            assertTrue(dns.queries().contains("public.ecr.aws. A"));
        }

        @Test
        void silentNamesAndSilentAll() throws Exception {
            dns.reset().silent("blackhole.test").a("ok.test", "127.0.0.1");
            assertThrows(IOException.class, () -> ask("blackhole.test.", Type.A, false));
            assertThrows(IOException.class, () -> ask("blackhole.test.", Type.A, true));
            assertEquals(Rcode.NOERROR, ask("ok.test.", Type.A, false).getRcode());
            dns.silentAll();
            assertThrows(IOException.class, () -> ask("ok.test.", Type.A, false));
            dns.answerAll();
            assertEquals(Rcode.NOERROR, ask("ok.test.", Type.A, false).getRcode());
            assertEquals(List.of("blackhole.test. A", "blackhole.test. A", "ok.test. A", "ok.test. A", "ok.test. A"),
                    dns.queries(), "silent queries are still recorded");
        }

        @Test
        void truncatesLargeUdpAnswers() throws Exception {
            String[] many = new String[60];
            for (int i = 0; i < many.length; i++) {
                many[i] = "127.0.1." + i;
            }
            dns.reset().a("big.test", many);
            SimpleResolver r = new SimpleResolver(dns.address());
            r.setEDNS(-1, 0, 0, List.of());
            r.setIgnoreTruncation(true);
            r.setTimeout(Duration.ofMillis(400));
            Message udp = r.send(Message.newQuery(Record.newRecord(Name.fromString("big.test."), Type.A, DClass.IN)));
            assertTrue(udp.getHeader().getFlag(Flags.TC));
            assertEquals(60, ask("big.test.", Type.A, true).getSection(Section.ANSWER).size());
            // The resolver's own TC handling retries over TCP transparently.
            SimpleResolver retrying = new SimpleResolver(dns.address());
            retrying.setEDNS(-1, 0, 0, List.of());
            assertEquals(60, retrying.send(Message.newQuery(Record.newRecord(Name.fromString("big.test."), Type.A, DClass.IN)))
                    .getSection(Section.ANSWER).size());
        }

        @Test
        void survivesGarbage() throws Exception {
            dns.reset().a("ok.test", "127.0.0.1");
            int before = dns.malformedCount();
            try (DatagramSocket s = new DatagramSocket(Loopback.address(0))) {
                // Shorter than a DNS header. (Longer junk may parse: with TC set dnsjava accepts cut-off sections.)
                byte[] junk = {1, 2, 3, 4, 5};
                s.send(new DatagramPacket(junk, junk.length, dns.address()));
                s.send(new DatagramPacket(new byte[0], 0, dns.address()));
            }
            try (Socket s = new Socket()) {
                s.connect(dns.address(), 1000);
                s.getOutputStream().write(new byte[] {0, 3, 1, 2, 3});
                s.getOutputStream().flush();
                s.setSoTimeout(2000);
                assertEquals(-1, s.getInputStream().read(), "malformed TCP query: connection dropped, no answer");
            }
            eventually(() -> dns.malformedCount() >= before + 3);
            assertEquals(Rcode.NOERROR, ask("ok.test.", Type.A, false).getRcode());
            assertEquals(Rcode.NOERROR, ask("ok.test.", Type.A, true).getRcode());
        }
    }

    // ---- TcpPeers -----------------------------------------------------------------------------

    @Nested
    class Peers {
        private SSLSocket tlsClient(int port) throws IOException {
            SSLSocket s = (SSLSocket) CA.clientContext().getSocketFactory().createSocket();
            s.connect(Loopback.address(port), 2000);
            s.setSoTimeout(1000);
            return s;
        }

        @Test
        void closedPortRefuses() {
            int port = TcpPeers.closedPort();
            assertThrows(ConnectException.class, () -> {
                try (Socket s = new Socket()) {
                    s.connect(Loopback.address(port), 2000);
                }
            });
        }

        @Test
        void silentAcceptorTimesOutTheHandshake() throws Exception {
            try (TcpPeers.SilentAcceptor peer = new TcpPeers.SilentAcceptor(); SSLSocket s = tlsClient(peer.port())) {
                s.setSoTimeout(300);
                assertThrows(SocketTimeoutException.class, s::startHandshake);
                assertEquals(1, peer.connections());
            }
        }

        @Test
        void resetAfterClientHelloResets() throws Exception {
            try (TcpPeers.ResetAfterClientHello peer = new TcpPeers.ResetAfterClientHello(); SSLSocket s = tlsClient(peer.port())) {
                IOException e = assertThrows(IOException.class, s::startHandshake);
                assertTrue(chainMentions(e, "reset"), () -> "expected a reset, got " + describe(e));
                assertEquals(1, peer.clientHellos());
            }
        }

        @Test
        void closeAfterClientHelloFins() throws Exception {
            try (TcpPeers.CloseAfterClientHello peer = new TcpPeers.CloseAfterClientHello(); SSLSocket s = tlsClient(peer.port())) {
                SSLHandshakeException e = assertThrows(SSLHandshakeException.class, s::startHandshake);
                assertFalse(chainMentions(e, "reset"), () -> describe(e));
                assertTrue(chainMentions(e, "terminated the handshake"), () -> describe(e));
                assertEquals(1, peer.clientHellos());
            }
        }

        @Test
        void garbageResponderIsNotTls() throws Exception {
            try (TcpPeers.GarbageResponder peer = new TcpPeers.GarbageResponder()) {
                try (SSLSocket s = tlsClient(peer.port())) {
                    SSLException e = assertThrows(SSLException.class, s::startHandshake);
                    assertTrue(chainMentions(e, "plaintext") || chainMentions(e, "unrecognized"), () -> describe(e));
                }
                try (Socket s = new Socket()) {
                    s.connect(peer.address(), 2000);
                    s.setSoTimeout(2000);
                    s.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
                    String got = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                    assertEquals(TcpPeers.GarbageResponder.DEFAULT_RESPONSE, got);
                }
                assertEquals(2, peer.connections());
            }
        }
    }

    // ---- RegistryResponder ----------------------------------------------------------------------

    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class Registry {
        private RegistryResponder registry;
        private SSLContext trusting;

        @BeforeAll
        void start() {
            registry = new RegistryResponder(CA.issueFor("127.0.0.1", "registry.test"));
            trusting = CA.clientContext();
        }

        @AfterAll
        void stop() {
            long t0 = System.nanoTime();
            registry.close();
            assertTrue(Duration.ofNanos(System.nanoTime() - t0).toMillis() < 3000, "close() must be quick");
        }

        private String base() {
            return "https://127.0.0.1:" + registry.port();
        }

        private HttpClient client(HttpClient.Version v) {
            return HttpClient.newBuilder().version(v).sslContext(trusting).proxy(HttpClient.Builder.NO_PROXY)
                    .connectTimeout(Duration.ofSeconds(2)).build();
        }

        private HttpResponse<String> get(HttpClient c, String pathOrUrl, String authorization) throws Exception {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(pathOrUrl.startsWith("https:") ? pathOrUrl : base() + pathOrUrl))
                    .timeout(Duration.ofSeconds(5));
            if (authorization != null) {
                b.header("Authorization", authorization);
            }
            return c.send(b.build(), HttpResponse.BodyHandlers.ofString());
        }

        private String tokenFrom(HttpResponse<String> challenge, HttpClient c) throws Exception {
            Matcher m = Pattern.compile("Bearer realm=\"([^\"]+)\",service=\"([^\"]+)\",scope=\"([^\"]+)\"")
                    .matcher(challenge.headers().firstValue("www-authenticate").orElseThrow());
            assertTrue(m.matches());
            HttpResponse<String> tok = get(c, m.group(1) + "?service=" + m.group(2) + "&scope=" + m.group(3), null);
            assertEquals(200, tok.statusCode());
            Matcher t = Pattern.compile("\\{\"token\":\"([^\"]+)\"}").matcher(tok.body());
            assertTrue(t.matches(), tok.body());
            return t.group(1);
        }

        @Test
        void bearerFlowOverH2() throws Exception {
            registry.mode(Mode.BEARER).clearRequests();
            HttpClient c = client(HttpClient.Version.HTTP_2);
            HttpResponse<String> challenge = get(c, "/v2/", null);
            assertEquals(HttpClient.Version.HTTP_2, challenge.version());
            assertEquals(401, challenge.statusCode());
            assertEquals(RegistryResponder.UNAUTHORIZED_BODY, challenge.body());
            assertEquals("registry/2.0", challenge.headers().firstValue("docker-distribution-api-version").orElseThrow());
            assertEquals("Bearer realm=\"https://127.0.0.1:" + registry.port() + "/token/\",service=\"public.ecr.aws\",scope=\"aws\"",
                    challenge.headers().firstValue("www-authenticate").orElseThrow());
            String token = tokenFrom(challenge, c);
            assertTrue(registry.issuedTokens().contains(token));
            HttpResponse<String> ok = get(c, "/v2/", "Bearer " + token);
            assertEquals(200, ok.statusCode());
            assertEquals("{}", ok.body());
            assertEquals(401, get(c, "/v2/", "Bearer forged").statusCode());

            List<RecordedRequest> reqs = registry.requests();
            assertEquals(4, reqs.size());
            RecordedRequest first = reqs.get(0);
            assertEquals(new RecordedRequest("GET", "/v2/", "h2", false, null, "127.0.0.1:" + registry.port(),
                    first.headerNames()), first);
            assertFalse(first.headerNames().contains("authorization"), first::toString);
            assertEquals("/token/?service=public.ecr.aws&scope=aws", reqs.get(1).pathAndQuery());
            assertTrue(reqs.get(2).authorizationPresent());
            assertEquals("Bearer", reqs.get(2).authorizationScheme());
        }

        @Test
        void bearerFlowOverHttp11WithKeepAlive() throws Exception {
            registry.mode(Mode.BEARER).clearRequests();
            int handshakesBefore = registry.handshakes();
            HttpClient c = client(HttpClient.Version.HTTP_1_1);
            HttpResponse<String> challenge = get(c, "/v2/", null);
            assertEquals(HttpClient.Version.HTTP_1_1, challenge.version());
            assertEquals(401, challenge.statusCode());
            assertEquals(200, get(c, "/v2/", "Bearer " + tokenFrom(challenge, c)).statusCode());
            assertTrue(registry.requests().stream().allMatch(r -> r.protocol().equals("http/1.1")));
            assertEquals(handshakesBefore + 1, registry.handshakes(), "one kept-alive connection");
        }

        @Test
        void httpsUrlConnectionSeesEcrStyleHeaders() throws Exception {
            registry.mode(Mode.BEARER).clearRequests();
            HttpsURLConnection conn = (HttpsURLConnection) new URL(base() + "/v2/").openConnection(Proxy.NO_PROXY);
            conn.setSSLSocketFactory(trusting.getSocketFactory());
            assertEquals(401, conn.getResponseCode());
            assertTrue(conn.getHeaderField("Www-Authenticate").startsWith("Bearer realm="));
            assertEquals("application/json", conn.getContentType());
            try (InputStream err = conn.getErrorStream()) {
                assertEquals(RegistryResponder.UNAUTHORIZED_BODY, new String(err.readAllBytes(), StandardCharsets.UTF_8));
            }
            assertEquals("http/1.1", registry.requests().get(0).protocol());
        }

        @Test
        void modes() throws Exception {
            HttpClient c = client(HttpClient.Version.HTTP_2);
            try {
                registry.mode(Mode.OPEN);
                HttpResponse<String> open = get(c, "/v2/", null);
                assertEquals(200, open.statusCode());
                assertTrue(open.headers().firstValue("docker-distribution-api-version").isPresent());

                registry.mode(Mode.BASIC);
                HttpResponse<String> basic = get(c, "/v2/", null);
                assertEquals(401, basic.statusCode());
                assertEquals("Basic realm=\"https://127.0.0.1:" + registry.port() + "/\",service=\"ecr.amazonaws.com\"",
                        basic.headers().firstValue("www-authenticate").orElseThrow());

                registry.mode(Mode.status(429));
                HttpResponse<String> limited = get(c, "/v2/", null);
                assertEquals(429, limited.statusCode());
                assertEquals("1", limited.headers().firstValue("retry-after").orElseThrow());
                assertTrue(limited.body().contains("TOOMANYREQUESTS"));
                registry.mode(Mode.status(503));
                assertEquals(503, get(c, "/v2/", null).statusCode());

                registry.mode(Mode.HTML_200);
                HttpResponse<String> portal = get(c, "/v2/", null);
                assertEquals(200, portal.statusCode());
                assertTrue(portal.headers().firstValue("content-type").orElseThrow().startsWith("text/html"));
                assertFalse(portal.headers().firstValue("docker-distribution-api-version").isPresent());

                registry.mode(Mode.REJECT_TOKEN);
                HttpResponse<String> challenge = get(c, "/v2/", null);
                assertEquals(401, get(c, "/v2/", "Bearer " + tokenFrom(challenge, c)).statusCode());

                registry.mode(Mode.STALE_CREDENTIAL_400);
                HttpResponse<String> stale = get(c, "/v2/", "Basic QVdTOmV4cGlyZWQ=");
                assertEquals(400, stale.statusCode());
                assertEquals(RegistryResponder.STALE_CREDENTIAL_BODY, stale.body());
                HttpResponse<String> anon = get(c, "/v2/", null);
                assertEquals(401, anon.statusCode());
                assertEquals(200, get(c, "/v2/", "Bearer " + tokenFrom(anon, c)).statusCode());

                registry.mode(Mode.BEARER).tokenStatus(500);
                assertEquals(500, get(c, "/token/?service=x&scope=y", null).statusCode());
                registry.tokenStatus(200).tokenBody("<html>nope");
                int issued = registry.issuedTokens().size();
                assertEquals("<html>nope", get(c, "/token/", null).body());
                assertEquals(issued, registry.issuedTokens().size());
                assertEquals(404, get(c, "/elsewhere", null).statusCode());
                assertThrows(IllegalArgumentException.class, () -> Mode.status(42));
            } finally {
                registry.mode(Mode.BEARER).tokenStatus(200).tokenBody(null);
            }
        }

        @Test
        void hugeBodyStreamsOnBothProtocols() throws Exception {
            registry.mode(Mode.HUGE_BODY);
            try {
                for (HttpClient.Version v : HttpClient.Version.values()) {
                    HttpResponse<InputStream> r = client(v).send(HttpRequest.newBuilder(URI.create(base() + "/v2/")).build(),
                            HttpResponse.BodyHandlers.ofInputStream());
                    assertEquals(v, r.version());
                    assertEquals(8L << 20, r.headers().firstValueAsLong("content-length").orElseThrow());
                    try (InputStream in = r.body()) {
                        if (v == HttpClient.Version.HTTP_2) {
                            assertEquals(8L << 20, in.transferTo(java.io.OutputStream.nullOutputStream()));
                        } else {
                            assertEquals(65_536, in.readNBytes(65_536).length); // a bounded reader bails out early
                        }
                    }
                }
                // Bounded reader over raw HTTP/1.1: read the head and a bit of body, then hang up.
                HttpsURLConnection conn = (HttpsURLConnection) new URL(base() + "/v2/").openConnection(Proxy.NO_PROXY);
                conn.setSSLSocketFactory(trusting.getSocketFactory());
                assertEquals(8L << 20, conn.getContentLengthLong());
                try (InputStream in = conn.getInputStream()) {
                    assertEquals(1024, in.readNBytes(1024).length);
                }
                conn.disconnect();
            } finally {
                registry.mode(Mode.BEARER);
            }
            registry.clearRequests();
            assertEquals(401, get(client(HttpClient.Version.HTTP_2), "/v2/", null).statusCode(), "server still healthy");
        }

        @Test
        void alpnCanBeNarrowedOrDisabled() throws Exception {
            try {
                for (List<String> alpn : List.of(List.of("http/1.1"), List.<String>of())) {
                    registry.alpn(alpn).clearRequests();
                    HttpResponse<String> r = get(client(HttpClient.Version.HTTP_2), "/v2/", null);
                    assertEquals(HttpClient.Version.HTTP_1_1, r.version(), alpn.toString());
                    assertEquals("http/1.1", registry.requests().get(0).protocol());
                }
            } finally {
                registry.alpn(List.of("h2", "http/1.1"));
            }
        }

        @Test
        void recordsSniAndHandshakeFailures() throws Exception {
            // A fresh context: a JDK client resuming a cached session for this host:port would
            // replay that session's (empty) SNI and ignore the names set below.
            SSLSocket s = (SSLSocket) CA.clientContext().getSocketFactory().createSocket();
            try (s) {
                SSLParameters p = s.getSSLParameters();
                p.setServerNames(List.of(new SNIHostName("registry.test")));
                s.setSSLParameters(p);
                s.connect(registry.address(), 2000);
                s.setSoTimeout(2000);
                s.startHandshake();
            }
            eventually(() -> registry.serverNames().contains("registry.test"), registry::serverNames);

            int failures = registry.handshakeFailures();
            SSLContext untrusting = TestPki.clientContext(TestPki.newCa("CN=other").certificate());
            try (SSLSocket u = (SSLSocket) untrusting.getSocketFactory().createSocket()) {
                u.connect(registry.address(), 2000);
                u.setSoTimeout(2000);
                assertThrows(SSLHandshakeException.class, u::startHandshake);
            }
            eventually(() -> registry.handshakeFailures() > failures, registry::tlsFailures);
            assertTrue(registry.tlsFailures().get(failures).contains("certificate_unknown"), registry.tlsFailures().toString());
        }

        @Test
        void identityCanBeSwapped() throws Exception {
            Instant past = Instant.now().minus(Duration.ofDays(10));
            try {
                registry.identity(CA.issue("127.0.0.1", List.of(), List.of("127.0.0.1"), past, past.plusSeconds(60)));
                SSLHandshakeException e = assertThrows(SSLHandshakeException.class,
                        () -> get(client(HttpClient.Version.HTTP_2), "/v2/", null));
                assertTrue(chainMentions(e, "expired") || chainMentions(e, "validity"), () -> describe(e));
            } finally {
                registry.identity(CA.issueFor("127.0.0.1", "registry.test"));
            }
            assertEquals(401, get(client(HttpClient.Version.HTTP_2), "/v2/", null).statusCode());
        }

        @Test
        void realmIsConfigurable() throws Exception {
            try {
                registry.mode(Mode.BEARER).hostForRealm("public.ecr.aws").service("svc");
                String h = get(client(HttpClient.Version.HTTP_2), "/v2/", null).headers().firstValue("www-authenticate").orElseThrow();
                assertEquals("Bearer realm=\"https://public.ecr.aws:" + registry.port() + "/token/\",service=\"svc\",scope=\"aws\"", h);
                registry.realm("https://127.0.0.1:1/token");
                assertEquals("https://127.0.0.1:1/token", registry.realm());
            } finally {
                registry.hostForRealm("127.0.0.1").service("public.ecr.aws").realm(null);
            }
            assertNull(registry.requests().stream().filter(r -> r.pathAndQuery().startsWith("/token")).findFirst()
                    .map(RecordedRequest::authorizationScheme).orElse(null));
        }
    }

    // ---- helpers ------------------------------------------------------------------------------

    private static void eventually(BooleanSupplier condition) throws InterruptedException {
        eventually(condition, () -> "");
    }

    private static void eventually(BooleanSupplier condition, Supplier<?> state) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 5s; state: " + state.get());
            }
            Thread.sleep(20);
        }
    }

    private static boolean chainMentions(Throwable t, String fragment) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (String.valueOf(c.getMessage()).toLowerCase().contains(fragment)) {
                return true;
            }
        }
        return false;
    }

    private static String describe(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            sb.append(c.getClass().getName()).append(": ").append(c.getMessage()).append(" <- ");
        }
        return sb.toString();
    }
}
