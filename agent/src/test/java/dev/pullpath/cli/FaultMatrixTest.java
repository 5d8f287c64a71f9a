package dev.pullpath.cli;

import dev.pullpath.testing.Outcomes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pullpath.testing.NetworkLab;
import dev.pullpath.testing.Netns;
import dev.pullpath.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Each fault the way it happens on a node: a real router with iptables between the client (where pullpath runs)
 * and the registry's host, real peers there, and {@code diagnose --json} run inside the client namespace.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FaultMatrixTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    static final NetworkLab.Extension LAB = new NetworkLab.Extension();

    private NetworkLab lab;
    private Path hosts;
    private Path caPem;
    private final List<String> timings = new ArrayList<>();

    @BeforeAll
    void startPeers() throws Exception {
        lab = LAB.get();
        Netns.assumeTool("dnsmasq", "openssl");
        Path dir = lab.work();
        TestPki.Ca ca = TestPki.newCa("CN=pullpath lab CA");
        caPem = dir.resolve("ca.pem");
        ca.writePem(caPem);
        TestPki.Issued good = ca.issueFor("registry.test", "dual.test", "ds.test");
        good.writeChainPem(dir.resolve("good.pem"));
        good.writeKeyPem(dir.resolve("good.key"));
        hosts = Files.writeString(dir.resolve("hosts"), "127.0.0.1 localhost\n"
                + NetworkLab.SERVER + " registry.test\n"
                + NetworkLab.SERVER + " dual.test\n" + NetworkLab.SERVER_SECOND + " dual.test\n"
                + NetworkLab.SERVER + " ds.test\n" + NetworkLab.SERVER_V6 + " ds.test\n");
        String chain = dir.resolve("good.pem").toString();
        String key = dir.resolve("good.key").toString();
        lab.javaPeer(lab.server(), "dev.pullpath.testing.LabPeers", List.of("0.0.0.0",
                "registry:443:BEARER:" + chain + ":" + key + ":registry.test",
                "registry:4429:429:" + chain + ":" + key + ":registry.test",
                "registry:4503:503:" + chain + ":" + key + ":registry.test",
                "registry:4200:HTML_200:" + chain + ":" + key + ":registry.test",
                "reset:8443", "silent:8444", "dns:5353:servfail"), "ready");
        // Debian's dnsmasq as the node's resolver: NXDOMAIN, REFUSED (names it has no upstream for), SERVFAIL
        // (forwarded from an upstream that fails: the in-test DNS server, as dnsmasq makes no SERVFAIL itself).
        lab.resolver("--address=/registry.test/" + NetworkLab.SERVER, "--address=/missing.test/",
                "--server=/broken.test/" + NetworkLab.SERVER + "#5353");
    }

    @AfterAll
    void reportTimings() {
        timings.forEach(System.out::println);
    }

    @AfterEach
    void clearFaults() {
        lab.clearRules();
    }

    private JsonNode diagnose(String target, String expected) throws Exception {
        long t0 = System.nanoTime();
        Netns.Result r = lab.client().pullpath(Duration.ofSeconds(60), "diagnose", "--json", "--timeout", "1s",
                "--hosts-file", hosts.toString(), "--ca-file", caPem.toString(), target);
        JsonNode json = JSON.readTree(r.out().strip());
        String got = Outcomes.of(json);
        timings.add(String.format("fault matrix: %-32s %-30s %6d ms", target, got, (System.nanoTime() - t0) / 1_000_000));
        assertEquals(expected, got, () -> json.toPrettyString());
        assertEquals("none/ok".equals(expected) ? 0 : 1, r.exitCode(), r.err());
        return json;
    }

    private JsonNode resolve(String name, String expected) throws Exception {
        long t0 = System.nanoTime();
        Netns.Result r = lab.client().pullpath(Duration.ofSeconds(60), "diagnose", "--json", "--timeout", "1s",
                "--hosts-file", "/dev/null", "--resolver", NetworkLab.SERVER_DNS, "--ca-file", caPem.toString(), name);
        JsonNode json = JSON.readTree(r.out().strip());
        String got = Outcomes.of(json);
        timings.add(String.format("fault matrix: %-32s %-30s %6d ms", "dns " + name, got,
                (System.nanoTime() - t0) / 1_000_000));
        assertEquals(expected, got, json::toPrettyString);
        return json;
    }

    @Test
    @DisplayName("dnsmasq answers NXDOMAIN / SERVFAIL / REFUSED → dns/nxdomain, servfail, refused")
    void dnsAnswers() throws Exception {
        resolve("registry.test", "none/ok");
        resolve("missing.test", "dns/nxdomain");
        resolve("broken.test", "dns/servfail");
        resolve("elsewhere.test", "dns/refused");
    }

    @Test
    @DisplayName("router drops DNS → dns/timeout")
    void dnsDropped() throws Exception {
        lab.rule("FORWARD", "-p", "udp", "--dport", "53", "-j", "DROP");
        lab.rule("FORWARD", "-p", "tcp", "--dport", "53", "-j", "DROP");
        JsonNode r = resolve("registry.test", "dns/timeout");
        assertTrue(r.get("summary").asText().contains(NetworkLab.SERVER_DNS + ":53"), r.toString());
    }

    @Test
    @DisplayName("healthy path → none/ok")
    void healthy() throws Exception {
        diagnose("registry.test", "none/ok");
    }

    @Test
    @DisplayName("router DROPs 443 → firewall/connect_timeout")
    void dropped() throws Exception {
        lab.rule("FORWARD", "-p", "tcp", "--dport", "443", "-j", "DROP");
        JsonNode r = diagnose("registry.test", "firewall/connect_timeout");
        assertTrue(r.get("summary").asText().contains(NetworkLab.SERVER + ":443"), r.toString());
    }

    @Test
    @DisplayName("router REJECTs with tcp-reset → firewall/connect_refused")
    void resetByRouter() throws Exception {
        lab.rule("FORWARD", "-p", "tcp", "--dport", "443", "-j", "REJECT", "--reject-with", "tcp-reset");
        diagnose("registry.test", "firewall/connect_refused");
    }

    @Test
    @DisplayName("router REJECTs icmp-admin-prohibited → firewall/admin_prohibited naming the router")
    void adminProhibited() throws Exception {
        lab.rule("FORWARD", "-p", "tcp", "--dport", "443", "-j", "REJECT", "--reject-with", "icmp-admin-prohibited");
        JsonNode r = diagnose("registry.test", "firewall/admin_prohibited");
        assertTrue(r.get("summary").asText().contains("rejected by " + NetworkLab.ROUTER_INSIDE)
                || r.get("summary").asText().contains("rejected by " + NetworkLab.ROUTER_OUTSIDE), r.toString());
        assertTrue(r.get("summary").asText().contains("type 3 code 13"), r.toString());
    }

    @Test
    @DisplayName("router REJECTs icmp-host-unreachable → firewall/host_unreachable")
    void hostUnreachable() throws Exception {
        lab.rule("FORWARD", "-p", "tcp", "--dport", "443", "-j", "REJECT", "--reject-with", "icmp-host-unreachable");
        JsonNode r = diagnose("registry.test", "firewall/host_unreachable");
        assertTrue(r.get("summary").asText().contains("reported by"), r.toString());
    }

    @Test
    @DisplayName("router REJECTs icmp-net-unreachable → firewall/network_unreachable")
    void netUnreachable() throws Exception {
        lab.rule("FORWARD", "-p", "tcp", "--dport", "443", "-j", "REJECT", "--reject-with", "icmp-net-unreachable");
        diagnose("registry.test", "firewall/network_unreachable");
    }

    @Test
    @DisplayName("client has no default route, target public → firewall/no_egress_route")
    void noEgressRoute() throws Exception {
        lab.client().exec("ip", "route", "del", "default");
        try {
            diagnose("registry.test", "firewall/no_egress_route");
        } finally {
            lab.client().exec("ip", "route", "add", "default", "via", NetworkLab.ROUTER_INSIDE);
        }
    }

    @Test
    @DisplayName("dual-stack name, node without an IPv6 route → none/ok: Go falls back to IPv4 at once")
    void noIpv6RouteIsNotAFailure() throws Exception {
        lab.client().exec("ip", "-6", "route", "del", "default");
        try {
            JsonNode r = diagnose("ds.test", "none/ok");
            assertEquals(2, r.get("addresses").size(), r.toString());
            assertEquals("no_egress_route", r.get("addresses").get(1).get("reason").asText(), r.toString());
        } finally {
            lab.client().exec("ip", "-6", "route", "add", "default", "via", "fd00:a::1");
        }
    }

    @Test
    @DisplayName("server resets right after the ClientHello → firewall/sni_reset")
    void sniReset() throws Exception {
        diagnose("registry.test:8443", "firewall/sni_reset");
    }

    @Test
    @DisplayName("server silent after the ClientHello → firewall/tls_stalled")
    void tlsStalled() throws Exception {
        diagnose("registry.test:8444", "firewall/tls_stalled");
    }

    @Test
    @DisplayName("429 / 503 / HTML 200 on /v2/ → registry/rate_limited, server_error, unexpected_response")
    void registryAnswers() throws Exception {
        diagnose("registry.test:4429", "registry/rate_limited");
        diagnose("registry.test:4503", "registry/server_error");
        diagnose("registry.test:4200", "registry/unexpected_response");
    }

    @Test
    @DisplayName("two addresses, one dropped, one healthy → worst wins, addresses[] shows both")
    void oneOfTwoAddressesDropped() throws Exception {
        lab.rule("FORWARD", "-d", NetworkLab.SERVER_SECOND, "-p", "tcp", "--dport", "443", "-j", "DROP");
        JsonNode r = diagnose("dual.test", "firewall/connect_timeout");
        JsonNode addresses = r.get("addresses");
        assertEquals(2, addresses.size(), r.toString());
        assertTrue(addresses.get(0).get("ok").asBoolean(), r.toString());
        assertEquals("connect_timeout", addresses.get(1).get("reason").asText());
    }

    @Test
    @DisplayName("expired / wrong-host / unknown self-signed certificate from openssl s_server → tls reasons")
    void certificatesFromOpenssl() throws Exception {
        Path dir = lab.work();
        Instant now = Instant.now();
        record Case(String name, TestPki.Issued identity, String expected) {
        }
        TestPki.Ca trusted = TestPki.newCa("CN=pullpath lab CA 2");
        Path trustedPem = dir.resolve("ca2.pem");
        trusted.writePem(trustedPem);
        List<Case> cases = List.of(
                new Case("expired", trusted.issue("registry.test", List.of("registry.test"), List.of(),
                        now.minus(Duration.ofDays(10)), now.minus(Duration.ofDays(1))), "tls/certificate_expired"),
                new Case("wronghost", trusted.issueFor("other.test"), "tls/hostname_mismatch"),
                new Case("selfsigned", TestPki.selfSigned("registry.test", "registry.test"),
                        "tls/untrusted_certificate"));
        int port = 9443;
        for (Case c : cases) {
            Path cert = dir.resolve(c.name + ".pem");
            Path key = dir.resolve(c.name + ".key");
            TestPki.writePem(cert, c.identity.certificate());
            c.identity.writeKeyPem(key);
            Process p = lab.peer(lab.server(), List.of("openssl", "s_server", "-quiet", "-accept",
                    NetworkLab.SERVER + ":" + port, "-cert", cert.toString(), "-key", key.toString()), null,
                    Duration.ofSeconds(10));
            try {
                awaitListening(port);
                long t0 = System.nanoTime();
                Netns.Result r = lab.client().pullpath(Duration.ofSeconds(60), "diagnose", "--json", "--timeout",
                        "1s", "--hosts-file", hosts.toString(), "--ca-file", trustedPem.toString(),
                        "registry.test:" + port);
                JsonNode json = JSON.readTree(r.out().strip());
                String got = Outcomes.of(json);
                timings.add(String.format("fault matrix: %-32s %-30s %6d ms", "openssl " + c.name, got,
                        (System.nanoTime() - t0) / 1_000_000));
                assertEquals(c.expected, got, json::toPrettyString);
            } finally {
                NetworkLab.stop(p);
            }
            port++;
        }
    }

    private void awaitListening(int port) throws Exception {
        assertTrue(lab.server().listensWithin(":" + port + " ", Duration.ofSeconds(10)),
                "openssl s_server did not listen on " + port);
    }
}
