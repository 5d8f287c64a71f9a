package dev.pullpath.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pullpath.testing.DnsTestServer;
import dev.pullpath.testing.Outcomes;
import dev.pullpath.testing.RegistryResponder;
import dev.pullpath.testing.RegistryResponder.Mode;
import dev.pullpath.testing.TestPki;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A pull as a runtime makes it, with an image: the manifest authorized the way containerd answers the registry's
 * challenge. Loopback registries (the test PKI, a DNS fixture); names read as "what the path does → what pullpath
 * says".
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PullScenariosTest {
    private static final String USER = "puller";
    private static final String PASSWORD = "htpasswd-Secret-1";
    private static final String IMAGE = "team/app:1.0";

    private Path dir;
    private TestPki.Ca ca;
    private DnsTestServer dns;
    private RegistryResponder registry;
    /** The host the registry sends layers to: a second TLS server, as CloudFront or S3 is to ECR. */
    private RegistryResponder cdn;
    private final List<String> outputs = new ArrayList<>();

    @BeforeAll
    void peers() throws Exception {
        dir = Files.createTempDirectory("pullpath-pull");
        ca = TestPki.newCa("CN=pullpath pull scenarios CA");
        ca.writePem(dir.resolve("ca.pem"));
        dns = new DnsTestServer();
        registry = new RegistryResponder(ca.issueFor("registry.test", "127.0.0.1"));
        cdn = new RegistryResponder(ca.issueFor("cdn.test"));
        Files.writeString(dir.resolve("resolv.conf"), "options ndots:1\n");
        Files.writeString(dir.resolve("hosts"), "");
    }

    @AfterAll
    void stop() throws Exception {
        registry.close();
        cdn.close();
        dns.close();
        for (String out : outputs) {
            assertFalse(out.contains(PASSWORD), "a secret reached the output: " + out);
            assertFalse(out.contains(RegistryResponder.PRESIGNED_SIGNATURE), "a presigned URL's signature reached "
                    + "the output: " + out);
            assertFalse(out.contains("AKIAEXAMPLE"), "a presigned URL's credential reached the output: " + out);
        }
    }

    @BeforeEach
    void healthyRegistry() {
        dns.reset();
        dns.a("registry.test", "127.0.0.1").a("cdn.test", "127.0.0.1");
        registry.mode(Mode.BEARER).hostForRealm("registry.test").basicLogin(null).manifest(IMAGE).blobRedirect(null);
        cdn.identity(ca.issueFor("cdn.test")).otherPaths(RegistryResponder.Answer.of(200,
                "application/octet-stream", "{"));
        registry.clearRequests();
        cdn.clearRequests();
    }

    private String cdnBase() {
        return "https://cdn.test:" + cdn.port();
    }

    /** The arch this JVM runs on, as the image index names it. */
    private static String nodeArch() {
        String a = System.getProperty("os.arch");
        return a.equals("aarch64") || a.equals("arm64") ? "arm64" : "amd64";
    }

    private String authority() {
        return "registry.test:" + registry.port();
    }

    /** A Docker config.json holding one login for the registry. */
    private Path dockerLogin(String password) throws Exception {
        String auth = Base64.getEncoder().encodeToString((USER + ":" + password).getBytes(StandardCharsets.UTF_8));
        return Files.writeString(dir.resolve("docker-" + password.hashCode() + ".json"),
                "{\"auths\":{\"" + authority() + "\":{\"auth\":\"" + auth + "\"}}}");
    }

    private JsonNode diagnose(Path dockerConfig, String... extra) {
        List<String> flags = new ArrayList<>(List.of("--timeout", "2s", "--resolver", "127.0.0.1:" + dns.port(),
                "--resolv-conf", dir.resolve("resolv.conf").toString(), "--hosts-file",
                dir.resolve("hosts").toString(), "--ca-file", dir.resolve("ca.pem").toString(),
                "--registry-config", dir.resolve("none.json").toString(), "--docker-config",
                dockerConfig == null ? dir.resolve("none-docker.json").toString() : dockerConfig.toString()));
        flags.addAll(List.of(extra));
        JsonNode r = Cli.diagnose(authority(), flags);
        outputs.add(r.toString());
        return r;
    }

    private static List<String> phases(JsonNode r) {
        return StreamSupport.stream(r.get("phases").spliterator(), false).map(p -> p.get("phase").asText()).toList();
    }

    @Nested
    @DisplayName("a registry with Basic auth (htpasswd)")
    class BasicAuth {
        @BeforeEach
        void htpasswd() {
            registry.mode(Mode.BASIC).basicLogin(USER + ":" + PASSWORD);
        }

        @Test
        @DisplayName("a correct stored login → none/ok: the manifest HEAD carries it as Basic, as containerd sends it")
        void goodLoginPulls() throws Exception {
            JsonNode r = diagnose(dockerLogin(PASSWORD), "--image", IMAGE);
            assertEquals("none/ok", Outcomes.of(r), r::toPrettyString);
            assertTrue(registry.requests().stream().anyMatch(q -> q.method().equals("HEAD")
                    && q.pathAndQuery().equals("/v2/team/app/manifests/1.0") && "Basic".equals(q.authorizationScheme())),
                    registry.requests().toString());
            assertTrue(phases(r).contains("manifest"), r.toString());
            assertTrue(r.toString().contains("Basic, on the registry's Basic challenge"), r.toString());
        }

        @Test
        @DisplayName("a stale stored login → auth/credentials_rejected, naming the login")
        void staleLoginIsRejected() throws Exception {
            JsonNode r = diagnose(dockerLogin("an-old-password"), "--image", IMAGE);
            assertEquals("auth/credentials_rejected", Outcomes.of(r), r::toPrettyString);
            assertTrue(r.get("summary").asText().contains("user " + USER), r.get("summary").asText());
        }

        @Test
        @DisplayName("no stored login → auth/anonymous_denied at the manifest")
        void noLoginIsDenied() {
            JsonNode r = diagnose(null, "--image", IMAGE);
            assertEquals("auth/anonymous_denied", Outcomes.of(r), r::toPrettyString);
            assertTrue(registry.requests().stream().noneMatch(RegistryResponder.RecordedRequest::authorizationPresent),
                    registry.requests().toString());
        }
    }

    @Nested
    @DisplayName("the layer hop: the registry redirects blobs to a CDN")
    class LayerHost {
        @BeforeEach
        void redirectToCdn() {
            registry.blobRedirect(cdnBase());
        }

        @Test
        @DisplayName("CDN serves the blob → none/ok with a layer phase; the CDN never sees the registry's "
                + "Authorization; presigned query values are redacted")
        void healthyLayerHost() {
            JsonNode r = diagnose(null, "--image", IMAGE);
            assertEquals("none/ok", Outcomes.of(r), r::toPrettyString);
            assertEquals("layer", phases(r).get(phases(r).size() - 1), r.toString());
            assertEquals("cdn.test:" + cdn.port(), r.at("/evidence/layer/layerHost").asText(), r.toString());
            JsonNode requests = r.at("/evidence/layer/requests");
            assertEquals(2, requests.size(), r.toString());
            assertTrue(requests.get(0).get("statusLine").asText().startsWith("307"), requests.toString());
            assertTrue(requests.get(0).get("authorization").asBoolean(), "the registry gets its token");
            assertFalse(requests.get(1).get("authorization").asBoolean(), "the CDN does not");
            assertTrue(requests.get(1).get("url").asText().contains("X-Amz-Signature=<redacted>"), requests.toString());
            assertFalse(cdn.requests().isEmpty(), "the CDN was asked");
            for (RegistryResponder.RecordedRequest atCdn : cdn.requests()) { // the CLI's probe and the API's
                assertFalse(atCdn.authorizationPresent(), "Authorization forwarded to the CDN: " + atCdn);
                assertTrue(atCdn.headerNames().contains("range"), atCdn.toString());
                assertEquals("cdn.test:" + cdn.port(), atCdn.host());
            }
            assertTrue(registry.requests().stream().anyMatch(q -> q.pathAndQuery().contains("/blobs/")
                    && "Bearer".equals(q.authorizationScheme())), registry.requests().toString());
        }

        @Test
        @DisplayName("one probe with an image → 3 more requests to the registry (the manifest, its platform's "
                + "manifest, the blob) and 1 to the layer host: the fleet's load")
        void requestsOfOneProbe() {
            List<String> flags = List.of("--timeout", "2s", "--resolver", "127.0.0.1:" + dns.port(), "--resolv-conf",
                    dir.resolve("resolv.conf").toString(), "--hosts-file", dir.resolve("hosts").toString(),
                    "--ca-file", dir.resolve("ca.pem").toString(), "--registry-config",
                    dir.resolve("none.json").toString(), "--docker-config", dir.resolve("none-docker.json").toString(),
                    "--image", IMAGE);
            assertEquals("none/ok", Outcomes.of(Cli.api(authority(), flags.toArray(String[]::new))));
            List<String> asked = registry.requests().stream().map(q -> q.method() + " "
                    + q.pathAndQuery().replaceAll("\\?.*", "")).toList();
            assertEquals(List.of("GET /v2/", "GET /token/", "GET /v2/", "HEAD /v2/team/app/manifests/1.0",
                    "GET /token/", "HEAD /v2/team/app/manifests/1.0", "GET /v2/team/app/manifests/1.0",
                    "GET /v2/team/app/manifests/" + registry.image(IMAGE).manifestsByArch().get(nodeArch()).digest(),
                    "GET /v2/team/app/blobs/" + registry.image(IMAGE).configByArch().get(nodeArch())), asked);
            assertEquals(1, cdn.requests().size(), cdn.requests().toString());
        }

        @Test
        @DisplayName("the index is resolved to this node's platform: its manifest, then its config (the smallest "
                + "blob)")
        void indexResolvedToThisPlatform() {
            diagnose(null, "--image", IMAGE);
            var image = registry.image(IMAGE);
            String manifest = image.manifestsByArch().get(nodeArch()).digest();
            String config = image.configByArch().get(nodeArch());
            List<String> asked = registry.requests().stream().map(RegistryResponder.RecordedRequest::pathAndQuery)
                    .toList();
            assertTrue(asked.contains("/v2/team/app/manifests/" + manifest), asked.toString());
            assertTrue(asked.contains("/v2/team/app/blobs/" + config), asked.toString());
            assertTrue(cdn.requests().get(0).pathAndQuery().startsWith("/blobs/" + config + "?"),
                    cdn.requests().toString());
        }

        @Test
        @DisplayName("CDN refuses connections (nothing listens) → firewall/connect_refused at the layer host, named "
                + "with what to allow")
        void cdnRefuses() throws Exception {
            int closed;
            try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                closed = s.getLocalPort();
            }
            registry.blobRedirect("https://cdn.test:" + closed);
            JsonNode r = diagnose(null, "--image", IMAGE);
            assertEquals("firewall/connect_refused", Outcomes.of(r), r::toPrettyString);
            assertTrue(r.get("summary").asText().startsWith("layer host cdn.test:" + closed), r.get("summary").asText());
            assertTrue(r.get("hint").asText().contains("cdn.test is the host registry.test redirects layer downloads "
                    + "to"), r.get("hint").asText());
            assertTrue(r.get("hint").asText().contains("TCP " + closed + " and that cdn.test"), r.get("hint").asText());
            assertEquals("layer", phases(r).get(phases(r).size() - 1));
        }

        @Test
        @DisplayName("CDN's SYNs unanswered → firewall/connect_timeout at the layer host")
        void cdnDropsSyns() throws Exception {
            try (dev.pullpath.testing.SynBlackhole hole = new dev.pullpath.testing.SynBlackhole()) {
                registry.blobRedirect("https://cdn.test:" + hole.port());
                JsonNode r = diagnose(null, "--image", IMAGE);
                assertEquals("firewall/connect_timeout", Outcomes.of(r), r::toPrettyString);
                assertTrue(r.get("summary").asText().startsWith("layer host cdn.test:" + hole.port()),
                        r.get("summary").asText());
            }
        }

        @Test
        @DisplayName("CDN presents a certificate of another CA (TLS inspection on the CDN only) → a tls failure at "
                + "the layer host")
        void cdnCertificateUntrusted() {
            cdn.identity(TestPki.newCa("CN=an inspecting proxy").issueFor("cdn.test"));
            JsonNode r = diagnose(null, "--image", IMAGE);
            assertFalse(r.get("ok").asBoolean(), r.toString());
            assertEquals("tls/untrusted_certificate", Outcomes.of(r), r::toPrettyString);
            assertTrue(r.get("summary").asText().startsWith("layer host cdn.test"), r.get("summary").asText());
        }

        @Test
        @DisplayName("CDN answers 403 with S3's AccessDenied XML → registry/layer_denied, the S3 code in the summary")
        void cdnDenies() {
            cdn.otherPaths(RegistryResponder.Answer.of(403, "application/xml", "<?xml version=\"1.0\" encoding="
                    + "\"UTF-8\"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message>"
                    + "<RequestId>R1</RequestId></Error>", "Server", "AmazonS3"));
            JsonNode r = diagnose(null, "--image", IMAGE);
            assertEquals("registry/layer_denied", Outcomes.of(r), r::toPrettyString);
            assertTrue(r.get("summary").asText().contains("S3 AccessDenied (Access Denied)"), r.get("summary").asText());
            assertTrue(r.get("summary").asText().startsWith("layer host cdn.test"), r.get("summary").asText());
            assertTrue(r.get("hint").asText().contains("starport-layer-bucket"), r.get("hint").asText());
        }

        @Test
        @DisplayName("CDN redirects back to itself → registry/redirect_loop")
        void redirectLoop() {
            cdn.otherPaths(RegistryResponder.Answer.of(302, "text/html", "", "Location", "/again"));
            JsonNode r = diagnose(null, "--image", IMAGE);
            assertEquals("registry/redirect_loop", Outcomes.of(r), r::toPrettyString);
            assertTrue(r.get("summary").asText().contains("a loop"), r.get("summary").asText());
        }

        @Test
        @DisplayName("more than 10 redirects → registry/redirect_loop, as Go's client stops after 10")
        void tooManyRedirects() {
            // Each hop a new URL: the query grows, so no URL repeats and only the count stops it.
            cdn.otherPaths(RegistryResponder.Answer.of(307, "text/html", "", "Location", "?more=1"));
            JsonNode r = diagnose(null, "--image", IMAGE);
            assertEquals("registry/redirect_loop", Outcomes.of(r), r::toPrettyString);
        }

        @Test
        @DisplayName("registry redirects blobs to plain http:// → registry/redirect_insecure, a warning")
        void redirectToPlainHttp() {
            registry.blobRedirect("http://cdn.test:" + cdn.port());
            JsonNode r = diagnose(null, "--image", IMAGE);
            assertEquals("registry/redirect_insecure", Outcomes.of(r), r::toPrettyString);
            assertTrue(r.get("ok").asBoolean(), "a warning: containerd follows it");
            assertEquals(0, cdn.requests().size(), "not followed");
        }

        @Test
        @DisplayName("blob missing at the CDN (404) → registry/layer_not_found")
        void blobMissing() {
            cdn.otherPaths(RegistryResponder.Answer.of(404, "application/xml",
                    "<Error><Code>NoSuchKey</Code></Error>"));
            JsonNode r = diagnose(null, "--image", IMAGE);
            assertEquals("registry/layer_not_found", Outcomes.of(r), r::toPrettyString);
        }

        @Test
        @DisplayName("a proxy for everything but the registry (NO_PROXY=registry.test), the proxy down → "
                + "proxy/proxy_unreachable at the layer host: NO_PROXY is per host")
        void proxyPerHost() throws Exception {
            int closed;
            try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                closed = s.getLocalPort();
            }
            JsonNode r = diagnose(null, "--image", IMAGE, "--proxy", "http://127.0.0.1:" + closed, "--no-proxy",
                    "registry.test");
            assertEquals("proxy/proxy_unreachable", Outcomes.of(r), r::toPrettyString);
            assertTrue(r.get("summary").asText().startsWith("layer host cdn.test"), r.get("summary").asText());
            assertEquals(0, cdn.requests().size());
        }

        @Test
        @DisplayName("Basic registry with a good login → the CDN gets no Authorization (the login stays with the "
                + "registry)")
        void basicLoginNotForwarded() throws Exception {
            registry.mode(Mode.BASIC).basicLogin(USER + ":" + PASSWORD);
            JsonNode r = diagnose(dockerLogin(PASSWORD), "--image", IMAGE);
            assertEquals("none/ok", Outcomes.of(r), r::toPrettyString);
            assertTrue(registry.requests().stream().anyMatch(q -> q.pathAndQuery().contains("/blobs/")
                    && "Basic".equals(q.authorizationScheme())), registry.requests().toString());
            assertFalse(cdn.requests().get(0).authorizationPresent());
        }
    }

    @Test
    @DisplayName("blobs served by the registry itself → none/ok, the layer phase says so")
    void blobsFromTheRegistry() {
        JsonNode r = diagnose(null, "--image", IMAGE);
        assertEquals("none/ok", Outcomes.of(r), r::toPrettyString);
        JsonNode layer = r.get("phases").get(r.get("phases").size() - 1);
        assertEquals("layer", layer.get("phase").asText());
        assertTrue(layer.get("detail").asText().contains("served by the registry itself"), layer.toString());
        assertTrue(r.at("/evidence/layer/layerHost").isMissingNode(), r.toString());
    }

    @Test
    @DisplayName("an index without this node's platform → registry/platform_missing, naming what it has")
    void platformMissing() {
        registry.document("team/other:1.0", dev.pullpath.testing.TinyImage.indexFor("windows/amd64", "linux/s390x"));
        JsonNode r = diagnose(null, "--image", "team/other:1.0");
        assertEquals("registry/platform_missing", Outcomes.of(r), r::toPrettyString);
        assertTrue(r.get("summary").asText().contains("windows/amd64, linux/s390x"), r.get("summary").asText());
    }

    @Test
    @DisplayName("no --image → no layer hop, and no request for a manifest")
    void noImageNoLayerHop() {
        JsonNode r = diagnose(null);
        assertFalse(phases(r).contains("layer"), r.toString());
        assertTrue(registry.requests().stream().noneMatch(q -> q.pathAndQuery().contains("/blobs/")));
    }

    @Test
    @DisplayName("a Bearer registry → the realm is asked for the repository's pull scope")
    void bearerAsksForThePullScope() {
        JsonNode r = diagnose(null, "--image", IMAGE);
        assertEquals("none/ok", Outcomes.of(r), r::toPrettyString);
        assertTrue(registry.requests().stream().anyMatch(q -> q.pathAndQuery().startsWith("/token/")
                && q.pathAndQuery().contains("scope=repository%3Ateam%2Fapp%3Apull")), registry.requests().toString());
    }
}
