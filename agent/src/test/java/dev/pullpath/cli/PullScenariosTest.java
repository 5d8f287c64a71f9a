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
    private final List<String> outputs = new ArrayList<>();

    @BeforeAll
    void peers() throws Exception {
        dir = Files.createTempDirectory("pullpath-pull");
        ca = TestPki.newCa("CN=pullpath pull scenarios CA");
        ca.writePem(dir.resolve("ca.pem"));
        dns = new DnsTestServer();
        registry = new RegistryResponder(ca.issueFor("registry.test", "127.0.0.1"));
        Files.writeString(dir.resolve("resolv.conf"), "options ndots:1\n");
        Files.writeString(dir.resolve("hosts"), "");
    }

    @AfterAll
    void stop() throws Exception {
        registry.close();
        dns.close();
        for (String out : outputs) {
            assertFalse(out.contains(PASSWORD), "a secret reached the output: " + out);
        }
    }

    @BeforeEach
    void healthyRegistry() {
        dns.reset();
        dns.a("registry.test", "127.0.0.1");
        registry.mode(Mode.BEARER).hostForRealm("registry.test").basicLogin(null).manifest(IMAGE);
        registry.clearRequests();
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

    @Test
    @DisplayName("a Bearer registry → the realm is asked for the repository's pull scope")
    void bearerAsksForThePullScope() {
        JsonNode r = diagnose(null, "--image", IMAGE);
        assertEquals("none/ok", Outcomes.of(r), r::toPrettyString);
        assertTrue(registry.requests().stream().anyMatch(q -> q.pathAndQuery().startsWith("/token/")
                && q.pathAndQuery().contains("scope=repository%3Ateam%2Fapp%3Apull")), registry.requests().toString());
    }
}
