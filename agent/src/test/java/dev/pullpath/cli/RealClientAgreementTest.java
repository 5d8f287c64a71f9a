package dev.pullpath.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pullpath.probe.LayerProbe;
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
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

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

    /**
     * One row's pull, as every client is given it: registry and image, a login ({@code user:password}) or none,
     * HTTPS_PROXY and NO_PROXY (ctr and skopeo from their environment, pullpath from its flags), containerd's hosts
     * directory, and whether skopeo (which reads no hosts.toml) takes part.
     */
    private record Route(String registry, String image, String creds, String proxy, String noProxy, Path hostsDir,
                         boolean skopeoToo) {
        Route image(String other) {
            return new Route(registry, other, creds, proxy, noProxy, hostsDir, skopeoToo);
        }

        Route login(String userPassword) {
            return new Route(registry, image, userPassword, proxy, noProxy, hostsDir, skopeoToo);
        }

        Route via(String proxyUrl, String except) {
            return new Route(registry, image, creds, proxyUrl, except, hostsDir, skopeoToo);
        }

        /** containerd's hosts directory instead; skopeo reads none, so it sits the row out. */
        Route containerdHosts(Path dir) {
            return new Route(registry, image, creds, proxy, noProxy, dir, false);
        }

        String[] environment() {
            List<String> env = new ArrayList<>();
            if (proxy != null) {
                env.add("HTTPS_PROXY=" + proxy);
            }
            if (noProxy != null) {
                env.add("NO_PROXY=" + noProxy);
            }
            return env.toArray(String[]::new);
        }
    }

    /**
     * The clients and pullpath agree on {@code path}, and pullpath's verdict is {@code expected}: "none/ok" or
     * "category/reason at registry|layer host".
     */
    private void agree(String row, String expected, Route path) throws Exception {
        String ref = path.registry() + "/" + path.image();
        String[] env = path.environment();
        // The two clients pull at once (a dropped CDN costs ctr 60 s and skopeo 30 s of dial timeouts).
        CompletableFuture<Pull> skopeo = path.skopeoToo()
                ? CompletableFuture.supplyAsync(() -> clients.skopeo(ref, certDir, path.creds(), env)) : null;
        List<Pull> pulls = new ArrayList<>();
        pulls.add(clients.ctr(ref, path.hostsDir(), path.creds(), env));
        if (skopeo != null) {
            pulls.add(skopeo.join());
        }
        long t0 = System.nanoTime();
        JsonNode report = diagnose(path);
        long pullpathMillis = (System.nanoTime() - t0) / 1_000_000;
        String verdict = Outcomes.of(report);
        boolean ok = report.get("ok").asBoolean();
        String pullpathAt = ok ? null : report.get("summary").asText().startsWith(LayerProbe.LAYER_HOST)
                ? PullClients.Pull.LAYER_HOST : PullClients.Pull.REGISTRY;
        matrix.add(String.format("  %-42s | %-30s | %-30s | %s%s (%d ms)", row, shown(pulls.get(0)),
                pulls.size() > 1 ? shown(pulls.get(1)) : "n/a", verdict, ok ? "" : " at " + pullpathAt,
                pullpathMillis));
        for (Pull pull : pulls) {
            assertEquals(pull.pulled(), ok, () -> pull.client() + " " + (pull.pulled() ? "pulled" : "failed")
                    + " but pullpath says " + verdict + ": " + pull.output() + "\npullpath: " + report.toPrettyString());
            assertEquals(pull.failedAt(), pullpathAt, () -> pull.client() + " died at "
                    + pull.failedAt() + ", pullpath at " + pullpathAt + ": " + pull.output()
                    + "\npullpath: " + report.toPrettyString());
        }
        assertEquals(expected, verdict + (ok ? "" : " at " + pullpathAt), report::toPrettyString);
    }

    private static String shown(Pull p) {
        return (p.pulled() ? "pulled" : "failed at " + p.failedAt()) + " (" + p.took().toMillis() + " ms)";
    }

    private JsonNode diagnose(Route path, String... extra) throws Exception {
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
        if (path.noProxy() != null) {
            args.addAll(List.of("--no-proxy", path.noProxy()));
        }
        args.addAll(List.of(extra));
        args.add(path.registry());
        Netns.Result r = lab.net().client().pullpath(Duration.ofSeconds(90), args.toArray(String[]::new));
        JsonNode json = JSON.readTree(r.out().strip());
        assertTrue(json != null && json.has("ok"), () -> "one report: " + r.out() + r.err());
        assertEquals(json.get("ok").asBoolean() ? 0 : 1, r.exitCode(), () -> "exit code follows ok: " + r.err());
        return json;
    }

    /** A pull of the lab's image from {@code registry}, direct, without a login, with the good hosts.toml. */
    private Route pull(String registry) {
        return new Route(registry, IMAGE, null, null, null, hostsDir, true);
    }

    private Route open() {
        return pull(RealPullLab.REGISTRY);
    }

    @Test
    @DisplayName("a healthy path: every client pulls, pullpath says ok")
    void healthy() throws Exception {
        agree("healthy", "none/ok", open());
    }

    @Test
    @DisplayName("what one pull sends: the requests each client makes to the registry and to the layer host")
    void requestsPerPull() throws Exception {
        String ref = RealPullLab.REGISTRY + "/" + IMAGE;
        List<String> lines = new ArrayList<>();
        for (String client : List.of("ctr", "skopeo", "pullpath")) {
            int before = lab.requests().size();
            switch (client) {
                case "ctr" -> assertTrue(clients.ctr(ref, hostsDir, null).pulled());
                case "skopeo" -> assertTrue(clients.skopeo(ref, certDir, null).pulled());
                default -> Outcomes.assertOutcome("none/ok", diagnose(open()));
            }
            List<String> sent = lab.requests().subList(before, lab.requests().size());
            long toRegistry = sent.stream().filter(l -> l.startsWith(RealPullLab.REGISTRY + " ")).count();
            long toCdn = sent.stream().filter(l -> l.startsWith(RealPullLab.CDN + " ")).count();
            lines.add(String.format("  %-8s %d to the registry, %d to the layer host: %s", client, toRegistry, toCdn,
                    sent));
            assertTrue(toRegistry > 0 && toCdn > 0, client + " reached both hosts: " + sent);
            if (client.equals("pullpath")) {
                // One byte of the smallest blob: a single GET at the layer host, never the layers themselves.
                assertEquals(1, toCdn, sent::toString);
            }
        }
        System.out.println("requests per pull (nginx's access log):");
        lines.forEach(System.out::println);
    }

    @Test
    @DisplayName("the CDN's 443 dropped → firewall/connect_timeout at the layer host")
    void layerHostDropped() throws Exception {
        lab.dropCdn();
        agree("CDN 443 dropped", "firewall/connect_timeout at layer host", open());
    }

    @Test
    @DisplayName("proxy-only egress, allowlist without the CDN → proxy/proxy_denied at the layer host")
    void proxyAllowlistWithoutLayerHost() throws Exception {
        lab.proxyOnlyEgress();
        agree("proxy allows the registry, not the CDN", "proxy/proxy_denied at layer host",
                open().via(RealPullLab.PROXY_REGISTRY_ONLY, null));
    }

    @Test
    @DisplayName("proxy-only egress, allowlist with both hosts → ok")
    void proxyAllowlistWithBoth() throws Exception {
        lab.proxyOnlyEgress();
        agree("proxy allows registry and CDN", "none/ok",
                open().via(RealPullLab.PROXY_BOTH, null));
    }

    @Test
    @DisplayName("the registry redirects blobs to a host the node's resolver does not know → dns/nxdomain at the "
            + "layer host")
    void layerHostDoesNotResolve() throws Exception {
        lab.redirectToUnresolvableHost(true);
        agree("layer host's name NXDOMAIN", "dns/nxdomain at layer host", open());
    }

    @Test
    @DisplayName("the CDN answers 403 with S3's AccessDenied → registry/layer_denied at the layer host")
    void layerHostDenies() throws Exception {
        lab.cdnDenies(true);
        agree("CDN 403 AccessDenied", "registry/layer_denied at layer host", open());
    }

    @Test
    @DisplayName("a tag the registry does not have → registry/not_found at the manifest")
    void missingTag() throws Exception {
        agree("missing tag", "registry/not_found at registry", open().image(RealPullLab.REPOSITORY
                + ":missing"));
    }

    /** The logins of the auth rows: {@code user:password}, a stale one, or none. */
    private static String login(String which) {
        return switch (which) {
            case "good" -> RealPullLab.USER + ":" + RealPullLab.PASSWORD;
            case "stale" -> RealPullLab.USER + ":expired-password";
            default -> null;
        };
    }

    @ParameterizedTest(name = "{0} with {1} login → {2}")
    @DisplayName("a registry behind a login: Basic (htpasswd) or token auth (the token service refusing a stale "
            + "login with 403 as ECR Public does: the Helm 403), with a good, a stale or no stored login")
    @CsvSource({
        "Basic auth, good,  none/ok",
        "Basic auth, stale, auth/credentials_rejected at registry",
        "Basic auth, no,    auth/anonymous_denied at registry",
        "token auth, no,    none/ok",
        "token auth, good,  none/ok",
        "token auth, stale, auth/credentials_rejected at registry",
    })
    void registryLogins(String auth, String login, String expected) throws Exception {
        String registry = auth.startsWith("Basic") ? RealPullLab.BASIC : RealPullLab.BEARER;
        agree(auth + ", " + login + " login", expected, pull(registry).login(login(login)));
    }

    @Test
    @DisplayName("a fleet's paced check (--pace 3s) at a registry that closes connections idle for 2 s → none/ok: "
            + "its requests 3 s apart, connections the registry closed during a pause dialed again, no pause in a "
            + "phase's time")
    void pacedCheckAtARegistryThatClosesIdleConnections() throws Exception {
        int before = lab.requests().size();
        JsonNode report = diagnose(pull(RealPullLab.BEARER), "--pace", "3s");
        List<String[]> sent = lab.requests().subList(before, lab.requests().size()).stream()
                .map(l -> l.split(" ")).toList();
        Outcomes.assertOutcome("none/ok", report);
        // The token, /v2/ with it, the manifest HEAD, its GET, the blob's 307 and the CDN's GET at least.
        assertTrue(sent.size() >= 6, "requests: " + lab.requests().subList(before, lab.requests().size()));
        for (int i = 1; i < sent.size(); i++) {
            // nginx logs an answer when it is sent: the starts are 3 s apart, the answers take milliseconds.
            double gap = Double.parseDouble(sent.get(i)[4]) - Double.parseDouble(sent.get(i - 1)[4]);
            assertTrue(gap >= 2.5, "request " + i + " came " + gap + " s after the one before: " + String.join(" ",
                    sent.get(i)));
        }
        List<String[]> toRegistry = sent.stream().filter(f -> f[0].equals(RealPullLab.BEARER)).toList();
        long connections = toRegistry.stream().map(f -> f[5]).distinct().count();
        assertTrue(connections * 2 >= toRegistry.size(), "each pause outlasts the registry's idle timeout ("
                + RealPullLab.BEARER_IDLE_SECONDS + " s): " + connections + " connections for " + toRegistry.size()
                + " requests");
        for (JsonNode phase : report.get("phases")) {
            assertTrue(phase.get("durationMs").asDouble() < 2500, "a pause in the phase's time: " + phase);
        }
        System.out.println("paced check (3 s) at " + RealPullLab.BEARER + ": " + sent.size() + " requests, "
                + connections + " connections to the registry for " + toRegistry.size() + " of them; phases "
                + report.get("phases").findValuesAsText("durationMs"));
    }

    @Test
    @DisplayName("NO_PROXY names the CDN, the proxy allows only the registry, the router only the proxy and the CDN "
            + "→ ok: NO_PROXY is decided per host, the layer host's too")
    void noProxyForTheLayerHostOnly() throws Exception {
        lab.dropDirect(RealPullLab.REGISTRY_ADDRESS);
        agree("NO_PROXY=cdn.test, proxy for the registry", "none/ok",
                open().via(RealPullLab.PROXY_REGISTRY_ONLY, RealPullLab.CDN));
    }

    @Test
    @DisplayName("a proxy that inspects TLS to the CDN only (mitmproxy, the registry passed through) → "
            + "proxy/tls_intercepted at the layer host")
    void interceptionOnTheLayerHostOnly() throws Exception {
        lab.proxyOnlyEgress();
        agree("proxy inspects TLS to the CDN only", "proxy/tls_intercepted at layer host",
                open().via(lab.interceptingProxy(RealPullLab.REGISTRY), null));
    }

    @Test
    @DisplayName("a hosts.toml containerd 1.6 rejects (its ca unused) → tls/untrusted_certificate, as ctr fails")
    void hostsTomlRejected() throws Exception {
        agree("hosts.toml containerd 1.6 rejects", "tls/untrusted_certificate at registry", open()
                .containerdHosts(rejectedHostsDir));
    }
}
