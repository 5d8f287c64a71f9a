package dev.pullpath.cli;

import static dev.pullpath.testing.Outcomes.assertOutcome;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pullpath.testing.LoopbackLab;
import dev.pullpath.testing.RegistryResponder.Mode;
import dev.pullpath.testing.RegistryResponder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The incident: a stored registry login that outlived its validity, sent instead of anonymous access. A registry
 * responder that answers a stale credential the way public.ecr.aws does (400 DENIED) and logins in Helm's and
 * Docker's stores (files, and credential helpers on PATH) in every shape, valid, expired and malformed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CredentialScenariosTest {
    private static final String SECRET = "s3cret-login-value";
    private LoopbackLab lab;
    private Path dir;
    private RegistryResponder registry;
    private final List<String> outputs = new ArrayList<>();

    @BeforeAll
    void peers() throws Exception {
        lab = LoopbackLab.in(Files.createTempDirectory("pullpath-credentials"), "CN=pullpath credentials CA");
        dir = lab.dir();
        registry = lab.registry();
    }

    @AfterAll
    void stop() throws Exception {
        lab.close();
        for (String out : outputs) {
            assertFalse(out.contains(SECRET), "a secret reached the output: " + out);
            assertFalse(out.contains(Base64.getEncoder().encodeToString(("AWS:" + ecrToken(60)).getBytes())),
                    "an auth field reached the output");
        }
    }

    @BeforeEach
    void staleCredentialsAreRefused() {
        registry.mode(Mode.STALE_CREDENTIAL_400);
    }

    private String authority() {
        return lab.registryAuthority();
    }

    /** An ECR authorization token: base64 of JSON with its expiration, as get-login-password prints it. */
    private static String ecrToken(long expiresInSeconds) {
        long expiration = Instant.now().getEpochSecond() + expiresInSeconds;
        String json = "{\"payload\":\"" + SECRET + "\",\"datakey\":\"x\",\"version\":\"2\",\"type\":\"DATA_KEY\","
                + "\"expiration\":" + expiration + "}";
        return Base64.getEncoder().encodeToString(json.getBytes(StandardCharsets.UTF_8));
    }

    private Path config(String name, String json) throws Exception {
        return Files.writeString(dir.resolve(name), json);
    }

    private static String auths(String key, String user, String password) {
        String auth = Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
        return "{\"auths\":{\"" + key + "\":{\"auth\":\"" + auth + "\"}}}";
    }

    private JsonNode diagnose(String... extra) {
        List<String> flags = lab.cliFlags("2s", "--registry-config", dir.resolve("none.json").toString(),
                "--docker-config", dir.resolve("none-docker.json").toString());
        for (int i = 0; i + 1 < extra.length; i += 2) {
            int at = flags.indexOf(extra[i]);
            if (at >= 0) {
                flags.set(at + 1, extra[i + 1]);
            } else {
                flags.add(extra[i]);
                flags.add(extra[i + 1]);
            }
        }
        JsonNode r = Cli.diagnose(authority(), flags);
        outputs.add(r.toString());
        List<String> human = new ArrayList<>(List.of("diagnose"));
        human.addAll(flags);
        human.add(authority());
        Cli.Run run = Cli.run(human.toArray(String[]::new));
        outputs.add(run.out() + run.err());
        return r;
    }

    @Test
    @DisplayName("no stored login → anonymous check only, none/ok")
    void anonymousOnly() {
        assertOutcome("none/ok", diagnose());
    }

    @Test
    @DisplayName("expired ECR login cached by helm registry login → auth/credentials_expired, hint: helm registry logout")
    void expiredHelmLogin() throws Exception {
        Path helm = config("helm-expired.json", auths(authority(), "AWS", ecrToken(-3600)));
        JsonNode r = diagnose("--registry-config", helm.toString());
        assertOutcome("auth/credentials_expired", r);
        assertTrue(r.get("summary").asText().contains("400"), r.toString());
        assertTrue(r.get("summary").asText().contains("helm"), r.toString());
        assertTrue(r.get("hint").asText().contains("helm registry logout registry.test"), r.toString());
        assertTrue(r.at("/evidence/credentials/0/expiresAt").asText().length() > 10, r.toString());
        assertEquals("AWS", r.at("/evidence/credentials/0/user").asText());
    }

    @Test
    @DisplayName("valid-looking login the registry refuses (400 DENIED) while anonymous works → auth/credentials_rejected")
    void rejectedDockerLogin() throws Exception {
        Path docker = config("docker-rejected.json", auths("https://" + authority(), "robot", SECRET));
        JsonNode r = diagnose("--docker-config", docker.toString());
        assertOutcome("auth/credentials_rejected", r);
        assertTrue(r.get("summary").asText().contains("DENIED"), r.toString());
        assertTrue(r.toString().contains("\"phase\":\"auth\""), r.toString());
    }

    @Test
    @DisplayName("a login the registry accepts (token realm with Basic, then Bearer) → none/ok")
    void acceptedLogin() throws Exception {
        registry.mode(Mode.BEARER);
        Path docker = config("docker-good.json", auths(authority(), "robot", SECRET));
        JsonNode r = diagnose("--docker-config", docker.toString());
        assertOutcome("none/ok", r);
        assertTrue(r.at("/evidence/credentials/0/checked").asText().startsWith("200"), r.toString());
    }

    @Test
    @DisplayName("malformed stores (bad JSON, bad base64, wrong types, no colon) → evidence lines, anonymous verdict, "
            + "no crash")
    void malformedStores() throws Exception {
        for (String bad : List.of("{not json", "[1,2]", "{\"auths\":{\"" + authority() + "\":{\"auth\":\"@@@\"}}}",
                "{\"auths\":{\"" + authority() + "\":{\"auth\":42}}}", "{\"auths\":\"x\"}",
                "{\"auths\":{\"" + authority() + "\":{\"auth\":\""
                        + Base64.getEncoder().encodeToString("nocolon".getBytes()) + "\"}}}")) {
            Path file = config("bad.json", bad);
            JsonNode r = diagnose("--docker-config", file.toString());
            assertOutcome("none/ok", r);
            assertTrue(r.at("/evidence/credentials/0/problem").asText().length() > 5, bad + " -> " + r);
        }
    }

    @Test
    @DisplayName("credential helpers on PATH: succeeding (stale secret), failing, hanging → rejected, evidence, "
            + "evidence within the helper timeout")
    void credentialHelpers() throws Exception {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        helper(bin, "stale", "cat >/dev/null; echo '{\"ServerURL\":\"x\",\"Username\":\"robot\",\"Secret\":\""
                + SECRET + "\"}'");
        helper(bin, "broken", "cat >/dev/null; echo 'credentials not found in native keychain'; exit 1");
        helper(bin, "hanging", "exec sleep 30");
        String path = bin + ":" + System.getenv("PATH");
        Map<String, String> expected = Map.of("stale", "auth/credentials_rejected", "broken", "none/ok",
                "hanging", "none/ok");
        for (Map.Entry<String, String> e : expected.entrySet()) {
            Path docker = config("docker-" + e.getKey() + ".json", "{\"credHelpers\":{\"" + authority() + "\":\""
                    + e.getKey() + "\"}}");
            long t0 = System.nanoTime();
            List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                    "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                    "dev.pullpath.cli.Main", "diagnose", "--json"));
            cmd.addAll(lab.cliFlags("2s", "--registry-config", dir.resolve("none.json").toString(),
                    "--docker-config", docker.toString(), authority()));
            ProcessBuilder pb = dev.pullpath.testing.Netns.withoutProxyEnvironment(
                    new ProcessBuilder(cmd).redirectErrorStream(true));
            pb.environment().put("PATH", path);
            Process p = pb.start();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "diagnose did not finish");
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            outputs.add(out);
            JsonNode r = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.lines()
                    .filter(l -> l.startsWith("{")).findFirst().orElseThrow(() -> new AssertionError(out)));
            assertOutcome(e.getValue(), r);
            if (!e.getKey().equals("stale")) {
                assertTrue(r.at("/evidence/credentials/0/problem").asText().contains("docker-credential-" + e.getKey()),
                        r.toString());
            }
            if (e.getKey().equals("hanging")) {
                assertTrue((System.nanoTime() - t0) / 1_000_000 < 20_000, "the hanging helper was not cut off");
            }
        }
    }

    @Test
    @DisplayName("kubelet image credential provider: failing (node role lacks permission) → auth/provider_failed; "
            + "returning a stale login → auth/credentials_rejected")
    void kubeletCredentialProvider() throws Exception {
        Path bin = Files.createDirectories(dir.resolve("provider-bin"));
        script(bin.resolve("failing-provider"), "cat >/dev/null; echo 'AccessDeniedException: User: "
                + "arn:aws:sts::1:assumed-role/node is not authorized to perform: ecr:GetAuthorizationToken' >&2; exit 1");
        script(bin.resolve("stale-provider"), "cat >/dev/null; echo '{\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\","
                + "\"kind\":\"CredentialProviderResponse\",\"cacheKeyType\":\"Registry\",\"auth\":{\""
                + authority() + "\":{\"username\":\"AWS\",\"password\":\"" + SECRET + "\"}}}'");
        for (String provider : List.of("failing-provider", "stale-provider")) {
            Path config = Files.writeString(dir.resolve(provider + ".yaml"), String.join("\n",
                    "apiVersion: kubelet.config.k8s.io/v1",
                    "kind: CredentialProviderConfig",
                    "providers:",
                    "  - name: " + provider,
                    "    matchImages: [\"" + authority() + "\"]",
                    "    defaultCacheDuration: 12h",
                    "    apiVersion: credentialprovider.kubelet.k8s.io/v1", ""));
            JsonNode r = diagnose("--credential-provider-config", config.toString(), "--credential-provider-bin-dir",
                    bin.toString());
            if (provider.startsWith("failing")) {
                assertOutcome("auth/provider_failed", r);
                assertTrue(r.get("summary").asText().contains("ecr:GetAuthorizationToken"), r.toString());
            } else {
                assertOutcome("auth/credentials_rejected", r);
            }
        }
    }

    private static void helper(Path bin, String name, String body) throws Exception {
        script(bin.resolve("docker-credential-" + name), body);
    }

    private static void script(Path script, String body) throws Exception {
        Files.writeString(script, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
}
