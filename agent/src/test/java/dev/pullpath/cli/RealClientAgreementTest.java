package dev.pullpath.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pullpath.testing.Netns;
import dev.pullpath.testing.Outcomes;
import dev.pullpath.testing.PullClients;
import dev.pullpath.testing.PullClients.Pull;
import dev.pullpath.testing.RealPullLab;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The test that decides whether pullpath tells the truth: on each path, containerd 1.6's {@code ctr images pull}
 * and {@code skopeo copy} pull a real image from a real registry (CNCF Distribution behind nginx, its blobs
 * redirected to a second nginx, the "CDN"), and {@code diagnose --json --image} walks the same path from the same
 * namespace. They must agree: pullpath says ok exactly when the clients pulled, and when they did not, pullpath
 * names the hop (registry or layer host) they died at, with the category/reason the row expects.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RealClientAgreementTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String IMAGE = RealPullLab.REPOSITORY + ":" + RealPullLab.TAG;

    private RealPullLab lab;
    private PullClients clients;
    private Path hostsDir;
    private Path rejectedHostsDir;
    private Path certDir;
    private Path noLogins;
    private final List<String> matrix = new ArrayList<>();

    @BeforeAll
    void start() throws Exception {
        lab = RealPullLab.start();
        clients = PullClients.start(lab.net());
        Path work = lab.net().work();
        String ca = lab.ca().toString();
        hostsDir = work.resolve("certs.d");
        for (String host : List.of(RealPullLab.REGISTRY, RealPullLab.BASIC, RealPullLab.BEARER)) {
            Path dir = Files.createDirectories(hostsDir.resolve(host));
            // containerd tries each [host] and then the server, which has only the root's settings: both get the ca.
            Files.writeString(dir.resolve("hosts.toml"), "server = \"https://" + host + "\"\nca = \"" + ca
                    + "\"\n\n[host.\"https://" + host + "\"]\n  capabilities = [\"pull\", \"resolve\"]\n  ca = \""
                    + ca + "\"\n");
        }
        // containerd 1.6 rejects a file without any [host] table and pulls with the directory's *.crt: none here.
        rejectedHostsDir = work.resolve("certs-rejected.d");
        Files.createDirectories(rejectedHostsDir.resolve(RealPullLab.REGISTRY));
        Files.writeString(rejectedHostsDir.resolve(RealPullLab.REGISTRY).resolve("hosts.toml"),
                "server = \"https://" + RealPullLab.REGISTRY + "\"\nca = \"" + ca + "\"\n");
        certDir = Files.createDirectories(work.resolve("skopeo-certs"));
        Files.copy(lab.ca(), certDir.resolve("ca.crt"));
        noLogins = Files.writeString(work.resolve("no-logins.json"), "{\"auths\":{}}");
    }

    @AfterAll
    void stop() {
        System.out.println("real-client agreement matrix (row | ctr | skopeo | pullpath):");
        matrix.forEach(System.out::println);
        if (lab != null) {
            lab.close();
        }
    }

    @AfterEach
    void clearFaults() throws Exception {
        lab.clearFaults();
    }

    /** One row's pull (registry, image, login, proxy, containerd hosts dir), as every client is given it. */
    private record Route(String registry, String image, String creds, String proxy, Path hostsDir, boolean skopeoToo) {
    }

    private void agree(String row, String expected, Route path) throws Exception {
        String ref = path.registry() + "/" + path.image();
        String[] env = path.proxy() == null ? new String[0] : new String[] {"HTTPS_PROXY=" + path.proxy()};
        List<Pull> pulls = new ArrayList<>();
        pulls.add(clients.ctr(ref, path.hostsDir(), path.creds(), env));
        if (path.skopeoToo()) {
            pulls.add(clients.skopeo(ref, certDir, path.creds(), env));
        }
        JsonNode report = diagnose(path);
        String verdict = Outcomes.of(report);
        boolean ok = report.get("ok").asBoolean();
        String pullpathAt = ok ? null : report.get("summary").asText().startsWith("layer host " + RealPullLab.CDN)
                ? PullClients.Pull.LAYER_HOST : PullClients.Pull.REGISTRY;
        matrix.add(String.format("  %-40s | %-22s | %-22s | %s%s", row, shown(pulls.get(0)),
                pulls.size() > 1 ? shown(pulls.get(1)) : "n/a", verdict, ok ? "" : " at " + pullpathAt));
        for (Pull pull : pulls) {
            assertEquals(pull.pulled(), ok, () -> pull.client() + " " + (pull.pulled() ? "pulled" : "failed")
                    + " but pullpath says " + verdict + ": " + pull.output() + "\npullpath: " + report.toPrettyString());
            assertEquals(pull.failedAt(), pullpathAt, () -> pull.client() + " died at "
                    + pull.failedAt() + ", pullpath at " + pullpathAt + ": " + pull.output()
                    + "\npullpath: " + report.toPrettyString());
        }
        Outcomes.assertOutcome(expected, report);
    }

    private static String shown(Pull p) {
        return p.pulled() ? "pulled" : "failed at " + p.failedAt();
    }

    private JsonNode diagnose(Route path) throws Exception {
        Path logins = noLogins;
        if (path.creds() != null) {
            String auth = Base64.getEncoder().encodeToString(path.creds().getBytes(StandardCharsets.UTF_8));
            logins = Files.writeString(lab.net().work().resolve("logins-" + path.registry() + ".json"),
                    "{\"auths\":{\"" + path.registry() + "\":{\"auth\":\"" + auth + "\"}}}");
        }
        List<String> args = new ArrayList<>(List.of("diagnose", "--json", "--timeout", "3s", "--image", path.image(),
                "--containerd-certs-dir", path.hostsDir().toString(), "--containerd-version", "1.6.20",
                "--docker-config", logins.toString(), "--registry-config", noLogins.toString()));
        if (path.proxy() != null) {
            args.addAll(List.of("--proxy", path.proxy()));
        }
        args.add(path.registry());
        Netns.Result r = lab.net().client().pullpath(Duration.ofSeconds(90), args.toArray(String[]::new));
        JsonNode json = JSON.readTree(r.out().strip());
        assertEquals(json.get("ok").asBoolean() ? 0 : 1, r.exitCode(), () -> "exit code follows ok: " + r.err());
        return json;
    }

    private Route open() {
        return new Route(RealPullLab.REGISTRY, IMAGE, null, null, hostsDir, true);
    }

    @Test
    @DisplayName("a healthy path: every client pulls, pullpath says ok")
    void healthy() throws Exception {
        agree("healthy", "none/ok", open());
    }

    @Test
    @DisplayName("the CDN's 443 dropped → firewall/connect_timeout at the layer host")
    void layerHostDropped() throws Exception {
        lab.dropCdn();
        agree("CDN 443 dropped", "firewall/connect_timeout", open());
    }

    @Test
    @DisplayName("proxy-only egress, allowlist without the CDN → proxy/proxy_denied at the layer host")
    void proxyAllowlistWithoutLayerHost() throws Exception {
        lab.proxyOnlyEgress();
        agree("proxy allows the registry, not the CDN", "proxy/proxy_denied",
                new Route(RealPullLab.REGISTRY, IMAGE, null, RealPullLab.PROXY_REGISTRY_ONLY, hostsDir, true));
    }

    @Test
    @DisplayName("proxy-only egress, allowlist with both hosts → ok")
    void proxyAllowlistWithBoth() throws Exception {
        lab.proxyOnlyEgress();
        agree("proxy allows registry and CDN", "none/ok",
                new Route(RealPullLab.REGISTRY, IMAGE, null, RealPullLab.PROXY_BOTH, hostsDir, true));
    }

    @Test
    @DisplayName("the CDN answers 403 with S3's AccessDenied → registry/layer_denied at the layer host")
    void layerHostDenies() throws Exception {
        lab.cdnDenies(true);
        agree("CDN 403 AccessDenied", "registry/layer_denied", open());
    }

    @Test
    @DisplayName("a tag the registry does not have → registry/not_found at the manifest")
    void missingTag() throws Exception {
        agree("missing tag", "registry/not_found", new Route(RealPullLab.REGISTRY, RealPullLab.REPOSITORY
                + ":missing", null, null, hostsDir, true));
    }

    @Test
    @DisplayName("Basic auth (htpasswd) and a good stored login → ok")
    void basicAuthGoodLogin() throws Exception {
        agree("Basic auth, good login", "none/ok", new Route(RealPullLab.BASIC, IMAGE,
                RealPullLab.USER + ":" + RealPullLab.PASSWORD, null, hostsDir, true));
    }

    @Test
    @DisplayName("Basic auth and a stale stored login → auth/credentials_rejected at the registry")
    void basicAuthStaleLogin() throws Exception {
        agree("Basic auth, stale login", "auth/credentials_rejected", new Route(RealPullLab.BASIC, IMAGE,
                RealPullLab.USER + ":expired-password", null, hostsDir, true));
    }

    @Test
    @DisplayName("Basic auth and no login → auth/anonymous_denied at the registry")
    void basicAuthNoLogin() throws Exception {
        agree("Basic auth, no login", "auth/anonymous_denied", new Route(RealPullLab.BASIC, IMAGE, null, null, hostsDir,
                true));
    }

    @Test
    @DisplayName("a token registry, anonymous: every client pulls, pullpath says ok")
    void tokenRegistryAnonymous() throws Exception {
        agree("token auth, anonymous", "none/ok", new Route(RealPullLab.BEARER, IMAGE, null, null, hostsDir, true));
    }

    @Test
    @DisplayName("a token registry and a good stored login → ok")
    void tokenRegistryGoodLogin() throws Exception {
        agree("token auth, good login", "none/ok", new Route(RealPullLab.BEARER, IMAGE,
                RealPullLab.USER + ":" + RealPullLab.PASSWORD, null, hostsDir, true));
    }

    @Test
    @DisplayName("a token registry and a stale login (the Helm 403) → auth/credentials_rejected at the registry")
    void tokenRegistryStaleLogin() throws Exception {
        agree("token auth, stale login", "auth/credentials_rejected", new Route(RealPullLab.BEARER, IMAGE,
                RealPullLab.USER + ":expired-password", null, hostsDir, true));
    }

    @Test
    @DisplayName("a hosts.toml containerd 1.6 rejects (its ca unused) → tls/untrusted_certificate, as ctr fails")
    void hostsTomlRejected() throws Exception {
        agree("hosts.toml containerd 1.6 rejects", "tls/untrusted_certificate", new Route(RealPullLab.REGISTRY,
                IMAGE, null, null, rejectedHostsDir, false));
    }
}
