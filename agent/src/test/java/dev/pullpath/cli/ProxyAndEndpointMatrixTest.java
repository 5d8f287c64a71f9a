package dev.pullpath.cli;

import dev.pullpath.testing.Outcomes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pullpath.testing.NetworkLab;
import dev.pullpath.testing.Netns;
import dev.pullpath.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Corporate proxies (Debian's tinyproxy), TLS interception and VPC endpoints (dnsmasq's CNAMEs into
 * *.vpce.amazonaws.com, a private subnet behind the router), on the namespace lab. The client's direct path to
 * the registry host is dropped by the router in the proxy rows, so only the tunnel can get through.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProxyAndEndpointMatrixTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PROXY = "198.51.100.30";
    private static final String INTERCEPTOR = "198.51.100.12";
    private static final String PRIVATE_SUBNET_HOST = "10.9.0.10";
    private static final String ENDPOINT = "10.9.0.20";
    private static final String PASSWORD = "pr0xy-s3cret-pw";

    @RegisterExtension
    static final NetworkLab.Extension LAB = new NetworkLab.Extension();

    private NetworkLab lab;
    private Path caPem;
    private Path hosts;
    private final List<String> timings = new ArrayList<>();
    private final List<String> outputs = new ArrayList<>();

    @BeforeAll
    void peers() throws Exception {
        lab = LAB.get();
        Netns.assumeTool("tinyproxy", "dnsmasq");
        Path dir = lab.work();
        for (String a : List.of(PROXY + "/24", INTERCEPTOR + "/24", PRIVATE_SUBNET_HOST + "/24", ENDPOINT + "/24")) {
            lab.server().exec("ip", "addr", "add", a, "dev", "s0");
        }
        lab.router().exec("ip", "route", "add", "10.9.0.0/24", "via", NetworkLab.SERVER);

        TestPki.Ca ca = TestPki.newCa("CN=pullpath lab CA");
        caPem = dir.resolve("ca.pem");
        ca.writePem(caPem);
        TestPki.Issued good = ca.issueFor("registry.test", NetworkLab.SERVER, "public.ecr.aws",
                "api.ecr.us-east-1.amazonaws.com", "123456789012.dkr.ecr.us-east-2.amazonaws.com");
        good.writeChainPem(dir.resolve("good.pem"));
        good.writeKeyPem(dir.resolve("good.key"));
        TestPki.Issued inspected = TestPki.newCa("CN=Corporate Inspection Root")
                .issueFor("public.ecr.aws", "registry.test");
        inspected.writeChainPem(dir.resolve("inspected.pem"));
        inspected.writeKeyPem(dir.resolve("inspected.key"));
        String good2 = dir.resolve("good.pem") + ":" + dir.resolve("good.key");
        lab.javaPeer(lab.server(), "dev.pullpath.testing.LabPeers", List.of(NetworkLab.SERVER,
                "registry:443:BEARER:" + good2 + ":" + NetworkLab.SERVER, "silent:3199", "reset:8443"), "ready");
        lab.javaPeer(lab.server(), "dev.pullpath.testing.LabPeers", List.of(INTERCEPTOR,
                "registry:443:BEARER:" + dir.resolve("inspected.pem") + ":" + dir.resolve("inspected.key")
                        + ":public.ecr.aws"), "ready");
        lab.javaPeer(lab.server(), "dev.pullpath.testing.LabPeers", List.of(PRIVATE_SUBNET_HOST,
                "registry:443:BEARER:" + good2 + ":public.ecr.aws"), "ready");
        lab.javaPeer(lab.server(), "dev.pullpath.testing.LabPeers", List.of(ENDPOINT,
                "registry:443:POLICY_DENIED:" + good2 + ":api.ecr.us-east-1.amazonaws.com"), "ready");

        tinyproxy(3128, "ConnectPort 443\nConnectPort 8443\n");
        tinyproxy(3129, "ConnectPort 8443\n");                                    // CONNECT to 443 denied
        tinyproxy(3130, "ConnectPort 443\nBasicAuth robot " + PASSWORD + "\n");  // wants credentials
        tinyproxy(3131, "ConnectPort 9\n");                                       // upstream port closed
        lab.resolver("--address=/vpce-0a1b-x9.api.ecr.us-east-1.vpce.amazonaws.com/" + ENDPOINT,
                "--cname=api.ecr.us-east-1.amazonaws.com,vpce-0a1b-x9.api.ecr.us-east-1.vpce.amazonaws.com",
                "--address=/123456789012.dkr.ecr.us-east-1.amazonaws.com/10.9.0.40",
                "--address=/vpce-0a1b-x9.dkr.ecr.us-east-2.vpce.amazonaws.com/" + ENDPOINT,
                "--cname=123456789012.dkr.ecr.us-east-2.amazonaws.com,vpce-0a1b-x9.dkr.ecr.us-east-2.vpce.amazonaws.com",
                "--address=/prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com/10.9.0.41");
        hosts = Files.writeString(dir.resolve("hosts"), "127.0.0.1 localhost\n" + NetworkLab.SERVER
                + " registry.test\n");
    }

    private void tinyproxy(int port, String extra) throws Exception {
        Path conf = Files.writeString(lab.work().resolve("tinyproxy-" + port + ".conf"), "Port " + port + "\n"
                + "Listen " + PROXY + "\nTimeout 5\nMaxClients 20\nAllow 10.0.0.0/8\nLogLevel Info\n"
                + "ViaProxyName \"lab-proxy\"\n" + extra);
        lab.peer(lab.server(), List.of("tinyproxy", "-d", "-c", conf.toString()), null, Duration.ofSeconds(5));
        assertTrue(lab.server().listensWithin(PROXY + ":" + port, Duration.ofSeconds(10)),
                "tinyproxy did not listen on " + port);
    }

    @AfterAll
    void report() {
        timings.forEach(System.out::println);
    }

    private JsonNode diagnose(String expected, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("diagnose", "--json", "--timeout", "1s", "--ca-file",
                caPem.toString()));
        all.addAll(List.of(args));
        long t0 = System.nanoTime();
        Netns.Result r = lab.client().pullpath(Duration.ofSeconds(60), all.toArray(String[]::new));
        outputs.add(r.out() + r.err());
        JsonNode json = JSON.readTree(r.out().strip());
        String got = Outcomes.of(json);
        timings.add(String.format("proxy/endpoint matrix: %-28s %-36s %6d ms", expected, got,
                (System.nanoTime() - t0) / 1_000_000));
        assertEquals(expected, got, json::toPrettyString);
        assertEquals(json.get("ok").asBoolean() ? 0 : 1, r.exitCode(), "exit code follows ok: " + r.err());
        return json;
    }

    @org.junit.jupiter.api.AfterEach
    void clearFaults() {
        lab.clearRules();
    }

    private String agentLog() {
        try (var logs = Files.list(lab.work())) {
            StringBuilder b = new StringBuilder();
            for (Path log : logs.filter(p -> p.getFileName().toString().endsWith(".log")).toList()) {
                String text = Files.readString(log);
                if (text.contains("running on node")) {
                    b.append(text, 0, Math.min(text.length(), 6000));
                }
            }
            return b.toString();
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }

    private void directPathDropped() {
        lab.rule("FORWARD", "-s", NetworkLab.CLIENT, "-d", NetworkLab.SERVER, "-j", "DROP");
    }

    @Test
    @DisplayName("proxy allows CONNECT (direct path dropped) → none/ok through the tunnel")
    void proxyTunnelWorks() throws Exception {
        directPathDropped();
        try {
            JsonNode r = diagnose("none/ok", "--hosts-file", hosts.toString(), "--proxy", "http://" + PROXY + ":3128",
                    NetworkLab.SERVER);
            assertTrue(r.toString().contains("\"phase\":\"proxy_tunnel\""), r.toString());
            assertTrue(r.at("/evidence/proxy/connectStatusLine").asText().startsWith("200"), r.toString());
        } finally {
            lab.clearRules();
        }
    }

    @Test
    @DisplayName("containerd's drop-in names the proxy, the shell none (direct path dropped) → none/ok through the "
            + "tunnel; the drop-in's proxy refuses CONNECT while the shell's works → proxy/proxy_denied: "
            + "containerd's proxy decides")
    void containerdsUnitDecidesTheProxy() throws Exception {
        Path root = lab.work().resolve("node-root");
        Path dropIn = root.resolve("etc/systemd/system/containerd.service.d/http-proxy.conf");
        Files.createDirectories(dropIn.getParent());
        directPathDropped();
        try {
            Files.writeString(dropIn, "[Service]\nEnvironment=\"HTTPS_PROXY=http://robot:" + PASSWORD + "@" + PROXY
                    + ":3130\" \"NO_PROXY=169.254.169.254\"\n");
            JsonNode r = diagnose("none/ok", "--hosts-file", hosts.toString(), "--containerd-unit-root",
                    root.toString(), NetworkLab.SERVER);
            assertTrue(r.toString().contains("\"phase\":\"proxy_tunnel\""), r.toString());
            String err = outputs.get(outputs.size() - 1);
            assertTrue(err.contains("pullpath: proxy: https proxy http://<redacted>@" + PROXY + ":3130 (from "
                    + "containerd's HTTPS_PROXY in /etc/systemd/system/containerd.service.d/http-proxy.conf)"), err);
            assertFalse(err.contains(PASSWORD), "the drop-in's proxy password never shows");

            Files.writeString(dropIn, "[Service]\nEnvironment=HTTPS_PROXY=http://" + PROXY + ":3129\n");
            diagnose("proxy/proxy_denied", "--hosts-file", hosts.toString(), "--containerd-unit-root",
                    root.toString(), NetworkLab.SERVER);
        } finally {
            lab.clearRules();
        }
    }

    @Test
    @DisplayName("proxy refuses CONNECT to 443 → proxy/proxy_denied with its status line")
    void proxyDenies() throws Exception {
        JsonNode r = diagnose("proxy/proxy_denied", "--proxy", "http://" + PROXY + ":3129", NetworkLab.SERVER);
        assertTrue(r.get("summary").asText().contains("403"), r.toString());
    }

    @Test
    @DisplayName("proxy wants credentials → proxy/proxy_auth_required; wrong ones too; right ones → none/ok; the "
            + "password appears nowhere")
    void proxyAuth() throws Exception {
        diagnose("proxy/proxy_auth_required", "--proxy", "http://" + PROXY + ":3130", NetworkLab.SERVER);
        JsonNode wrong = diagnose("proxy/proxy_auth_required", "--proxy", "http://robot:nope-" + PASSWORD + "@" + PROXY
                + ":3130", NetworkLab.SERVER);
        assertTrue(wrong.get("summary").asText().contains("credentials in the proxy URL were refused"), wrong.toString());
        diagnose("none/ok", "--proxy", "http://robot:" + PASSWORD + "@" + PROXY + ":3130", NetworkLab.SERVER);
        diagnose("none/ok", "--proxy", "http://robot:" + PASSWORD + "@" + PROXY + ":3130", NetworkLab.SERVER);
        for (String out : outputs) {
            assertFalse(out.contains(PASSWORD), "the proxy password leaked: " + out);
        }
    }

    @Test
    @DisplayName("proxy cannot reach the upstream → proxy/proxy_upstream_failed")
    void proxyUpstreamFails() throws Exception {
        diagnose("proxy/proxy_upstream_failed", "--proxy", "http://" + PROXY + ":3131", NetworkLab.SERVER + ":9");
    }

    @Test
    @DisplayName("nothing listens on the proxy port → proxy/proxy_unreachable; silent proxy → proxy/proxy_timeout")
    void proxyUnreachableOrSilent() throws Exception {
        diagnose("proxy/proxy_unreachable", "--proxy", "http://" + PROXY + ":3999", NetworkLab.SERVER);
        diagnose("proxy/proxy_timeout", "--proxy", "http://" + NetworkLab.SERVER + ":3199", NetworkLab.SERVER);
    }

    @Test
    @DisplayName("proxy whose tunnel ends at a TLS server with a foreign CA → proxy/tls_intercepted")
    void interceptionThroughTheProxy() throws Exception {
        JsonNode r = diagnose("proxy/tls_intercepted", "--proxy", "http://" + PROXY + ":3128", INTERCEPTOR);
        assertTrue(r.get("summary").asText().contains("through the proxy"), r.toString());
    }

    @Test
    @DisplayName("private ECR: registry and layer bucket resolving to endpoint addresses nobody serves → "
            + "vpc_endpoint/endpoint_unreachable with per-endpoint hints")
    void privateEcrExpansion() throws Exception {
        List<String> args = List.of("diagnose", "--json", "--timeout", "1s", "--hosts-file", "/dev/null",
                "--resolver", NetworkLab.SERVER_DNS, "--ecr-region", "us-east-1", "--ecr-account", "123456789012");
        Netns.Result r = lab.client().pullpath(Duration.ofSeconds(60), args.toArray(String[]::new));
        List<JsonNode> lines = new ArrayList<>();
        for (String line : r.out().strip().split("\n")) {
            lines.add(JSON.readTree(line));
        }
        assertEquals(3, lines.size(), r.out());
        assertEquals("123456789012.dkr.ecr.us-east-1.amazonaws.com", lines.get(0).get("target").asText());
        assertEquals("endpoint_unreachable", lines.get(0).get("reason").asText(), lines.get(0).toString());
        assertTrue(lines.get(0).get("hint").asText().contains("com.amazonaws.REGION.ecr.dkr"), lines.get(0).toString());
        assertEquals("endpoint_unreachable", lines.get(2).get("reason").asText(), lines.get(2).toString());
        assertTrue(lines.get(2).get("hint").asText().contains("S3 gateway endpoint"), lines.get(2).toString());
    }

    @Test
    @DisplayName("pullpath run with a proxy password in its config → the password appears in no log line, scrape, "
            + "/status or page")
    void daemonNeverShowsTheProxyPassword() throws Exception {
        String yaml = String.join("\n",
                "listen: 127.0.0.1:9847",
                "interval: 1s",
                "timeout: 1s",
                "fleet: {registryBudget: 100}",
                "caFiles: [\"" + caPem + "\"]",
                "hostsFile: " + hosts,
                "proxy: {url: \"http://robot:" + PASSWORD + "@" + PROXY + ":3130\"}",
                "targets:",
                "  - {name: reg, url: \"https://" + NetworkLab.SERVER + "\", registryInterval: 10s}",
                "");
        Path config = Files.writeString(lab.work().resolve("run.yaml"), yaml);
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-cp",
                System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
                "dev.pullpath.cli.Main", "run", "--config", config.toString()));
        Process agent = lab.peer(lab.client(), cmd, "running on node", Duration.ofSeconds(30));
        try {
            String metrics = "";
            java.time.Instant until = java.time.Instant.now().plusSeconds(40);
            while (!metrics.contains("pullpath_proxy_in_use{target=\"reg\"} 1")) {
                if (!java.time.Instant.now().isBefore(until)) {
                    throw new AssertionError("no proxy metric: " + metrics.lines().filter(l -> l.startsWith("pullpath_"))
                            .toList() + "\nagent log:\n" + agentLog());
                }
                Thread.sleep(200);
                metrics = lab.client().run(Duration.ofSeconds(5), "curl", "-s", "http://127.0.0.1:9847/metrics").out();
            }
            String status = lab.client().run(Duration.ofSeconds(5), "curl", "-s", "http://127.0.0.1:9847/status").out();
            String page = lab.client().run(Duration.ofSeconds(5), "curl", "-s", "http://127.0.0.1:9847/").out();
            assertTrue(status.contains("\"target\":\"reg\""), status);
            for (String text : List.of(metrics, status, page)) {
                assertFalse(text.contains(PASSWORD), "the proxy password leaked: " + text);
            }
        } finally {
            NetworkLab.stop(agent);
        }
        try (var logs = Files.list(lab.work())) {
            for (Path log : logs.filter(p -> p.getFileName().toString().endsWith(".log")).toList()) {
                String text = Files.readString(log);
                if (text.contains("running on node")) {
                    assertFalse(text.contains(PASSWORD), "the proxy password leaked into the log");
                    assertTrue(text.contains("\"target\":\"reg\""), "the log has the diagnosis lines");
                }
            }
        }
    }

    @Test
    @DisplayName("mitmproxy (Debian's) intercepting through CONNECT → proxy/tls_intercepted naming its CA")
    void mitmproxyIntercepts() throws Exception {
        Netns.assumeTool("mitmdump");
        String mitm = "198.51.100.31";
        lab.server().exec("ip", "addr", "add", mitm + "/24", "dev", "s0");
        Path confdir = Files.createDirectories(lab.work().resolve("mitm"));
        Process p = lab.peer(lab.server(), List.of("mitmdump", "--listen-host", mitm, "--listen-port", "8080",
                "--set", "confdir=" + confdir, "--ssl-insecure", "--quiet"), null, Duration.ofSeconds(5));
        try {
            assertTrue(lab.server().listensWithin(mitm + ":8080", Duration.ofSeconds(30)) && p.isAlive(),
                    "mitmdump did not listen");
            JsonNode r = diagnose("proxy/tls_intercepted", "--proxy", "http://" + mitm + ":8080", NetworkLab.SERVER);
            assertTrue(r.get("summary").asText().contains("mitmproxy"), r.toString());
        } finally {
            NetworkLab.stop(p);
        }
    }

    @Test
    @DisplayName("inside the tunnel the server resets after the ClientHello → firewall/sni_reset (the proxy's own "
            + "bytes do not count as an answer)")
    void sniResetInsideTheTunnel() throws Exception {
        JsonNode r = diagnose("firewall/sni_reset", "--proxy", "http://" + PROXY + ":3128", NetworkLab.SERVER + ":8443");
        assertTrue(r.toString().contains("\"phase\":\"proxy_tunnel\""), r.toString());
    }

    @Test
    @DisplayName("NO_PROXY covers the registry → direct path, no proxy phase")
    void noProxyBypasses() throws Exception {
        JsonNode r = diagnose("none/ok", "--hosts-file", hosts.toString(), "--proxy", "http://" + PROXY + ":3999",
                "--no-proxy", ".test,198.51.100.0/24", "registry.test");
        assertFalse(r.toString().contains("proxy_connect"), r.toString());
    }

    @Test
    @DisplayName("transparent interceptor with a foreign CA on public.ecr.aws's address → proxy/tls_intercepted")
    void transparentInterception() throws Exception {
        Path pinned = Files.writeString(lab.work().resolve("hosts-intercept"), INTERCEPTOR + " public.ecr.aws\n");
        JsonNode r = diagnose("proxy/tls_intercepted", "--hosts-file", pinned.toString(), "public.ecr.aws");
        assertTrue(r.get("summary").asText().contains("CN=Corporate Inspection Root"), r.toString());
    }

    @Test
    @DisplayName("public.ecr.aws pinned to a private address that answers → vpc_endpoint/private_dns_override "
            + "(warning, exit 0)")
    void privateOverride() throws Exception {
        Path pinned = Files.writeString(lab.work().resolve("hosts-private"), PRIVATE_SUBNET_HOST + " public.ecr.aws\n");
        JsonNode r = diagnose("vpc_endpoint/private_dns_override", "--hosts-file", pinned.toString(),
                "public.ecr.aws");
        assertTrue(r.get("ok").asBoolean(), "a warning: the path works");
        assertTrue(r.get("summary").asText().contains(PRIVATE_SUBNET_HOST), r.toString());
    }

    @Test
    @DisplayName("interface endpoint (CNAME into vpce) whose 443 is dropped → vpc_endpoint/endpoint_unreachable")
    void endpointUnreachable() throws Exception {
        lab.rule("FORWARD", "-d", ENDPOINT, "-p", "tcp", "--dport", "443", "-j", "DROP");
        try {
            JsonNode r = diagnose("vpc_endpoint/endpoint_unreachable", "--hosts-file", "/dev/null", "--resolver",
                    NetworkLab.SERVER_DNS, "api.ecr.us-east-1.amazonaws.com");
            assertTrue(r.get("summary").asText().contains("vpce.amazonaws.com"), r.toString());
        } finally {
            lab.clearRules();
        }
    }

    @Test
    @DisplayName("interface endpoint answering AccessDenied → vpc_endpoint/endpoint_policy_denied")
    void endpointPolicyDenied() throws Exception {
        diagnose("vpc_endpoint/endpoint_policy_denied", "--hosts-file", "/dev/null", "--resolver",
                NetworkLab.SERVER_DNS, "123456789012.dkr.ecr.us-east-2.amazonaws.com");
    }
}
