package dev.pullpath.network;

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
 * A path-MTU black hole as it happens: a low-MTU link between two routers (a tunnel, a VPN), and the router in
 * front of it filtering the ICMP fragmentation-needed / packet-too-big it sends. The ClientHello is small and
 * passes; the server's certificate flight does not. curl, on the same path from the same namespace, decides what
 * the truth is: it stalls exactly where pullpath says the path stalls.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PathMtuBlackHoleLabTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    static final NetworkLab.Extension LAB = new NetworkLab.Extension(2);

    private NetworkLab lab;
    private Path hosts;
    private Path caPem;
    private final List<String> timings = new ArrayList<>();

    @BeforeAll
    void peers() throws Exception {
        lab = LAB.get();
        Netns.assumeTool("curl", "ping");
        // The link between the routers loses and regains IPv6 as its MTU moves: no duplicate detection to wait out.
        lab.router(1).exec("sysctl", "-q", "-w", "net.ipv6.conf.n1.accept_dad=0");
        lab.router(2).exec("sysctl", "-q", "-w", "net.ipv6.conf.p1.accept_dad=0");
        Path dir = lab.work();
        TestPki.Ca ca = TestPki.newCa("CN=pullpath lab CA");
        caPem = dir.resolve("ca.pem");
        ca.writePem(caPem);
        TestPki.Issued cert = ca.issueFor("registry.test", "registry6.test");
        cert.writeChainPem(dir.resolve("chain.pem"));
        cert.writeKeyPem(dir.resolve("key.pem"));
        hosts = Files.writeString(dir.resolve("hosts"), NetworkLab.SERVER + " registry.test\n"
                + NetworkLab.SERVER_V6 + " registry6.test\n");
        String chain = dir.resolve("chain.pem").toString();
        String key = dir.resolve("key.pem").toString();
        lab.javaPeer(lab.server(), "dev.pullpath.testing.LabPeers", List.of("::",
                "registry:443:BEARER:" + chain + ":" + key + ":registry.test", "silent:8444"), "ready");
    }

    /**
     * Forgets every path MTU the lab's ends learned. The client learns one from the near router's
     * fragmentation-needed (that one is not filtered) as soon as it sends a packet too big for the low link, and then
     * advertises a smaller MSS, which heals the black hole for its later connections: a real effect, but not the
     * state under test. Learned MTUs hang on the routes ({@code ip route flush cache} does not drop IPv4's), so the
     * default routes are made anew.
     */
    private void forgetLearnedMtu() {
        for (String[] r : List.of(new String[] {"client", NetworkLab.ROUTER_INSIDE, "fd00:a::1"},
                new String[] {"server", NetworkLab.ROUTER_OUTSIDE, "2001:db8:b::1"})) {
            Netns ns = r[0].equals("client") ? lab.client() : lab.server();
            ns.exec("ip", "route", "del", "default");
            ns.exec("ip", "route", "add", "default", "via", r[1]);
            ns.exec("ip", "-6", "route", "del", "default");
            ns.exec("ip", "-6", "route", "add", "default", "via", r[2]);
        }
    }

    @AfterEach
    void restore() {
        lab.clearRules();
        linkMtu(1500);
    }

    @AfterAll
    void report() {
        timings.forEach(System.out::println);
    }

    /**
     * Sets the MTU of the link between the two routers. Below 1280 the kernel takes IPv6 off the link, with its
     * addresses and routes; they are put back when it comes up to 1280 or more.
     */
    private void linkMtu(int mtu) {
        lab.router(1).exec("ip", "link", "set", "n1", "mtu", String.valueOf(mtu));
        lab.router(2).exec("ip", "link", "set", "p1", "mtu", String.valueOf(mtu));
        if (mtu >= 1280) {
            lab.router(1).exec("ip", "-6", "addr", "replace", "fd00:a:1::1/64", "dev", "n1", "nodad");
            lab.router(2).exec("ip", "-6", "addr", "replace", "fd00:a:1::2/64", "dev", "p1", "nodad");
            lab.router(1).exec("ip", "-6", "route", "replace", "default", "via", "fd00:a:1::2");
            lab.router(2).exec("ip", "-6", "route", "replace", "fd00:a::/32", "via", "fd00:a:1::1");
            awaitIpv6Path();
        }
    }

    /**
     * Until the IPv6 path answers again: a link that comes back to IPv6 gets a new link-local address, and neighbour
     * discovery between the routers waits for it, so a SYN sent at once can be lost (a connect_timeout that is the
     * lab's doing).
     */
    private void awaitIpv6Path() {
        for (int i = 0; i < 50; i++) {
            if (lab.client().run(Duration.ofSeconds(5), "ping", "-6", "-c", "1", "-W", "1", "-s", "56",
                    NetworkLab.SERVER_V6).exitCode() == 0) {
                return;
            }
        }
        throw new IllegalStateException("the lab's IPv6 path did not come back");
    }

    private void filterTooBig() {
        lab.router(2).exec("iptables", "-A", "OUTPUT", "-p", "icmp", "--icmp-type", "fragmentation-needed", "-j",
                "DROP");
        lab.router(2).exec("ip6tables", "-A", "OUTPUT", "-p", "icmpv6", "--icmpv6-type", "packet-too-big", "-j",
                "DROP");
    }

    private JsonNode diagnose(String target, String expected) throws Exception {
        forgetLearnedMtu();
        long t0 = System.nanoTime();
        Netns.Result r = lab.client().pullpath(Duration.ofSeconds(60), "diagnose", "--json", "--timeout", "2s",
                "--no-proxy", "*", "--hosts-file", hosts.toString(), "--ca-file", caPem.toString(), target);
        JsonNode json = JSON.readTree(r.out().strip());
        String got = Outcomes.of(json);
        timings.add(String.format("path mtu: %-20s %-26s %6d ms", target, got, (System.nanoTime() - t0) / 1_000_000));
        assertEquals(expected, got, json::toPrettyString);
        return json;
    }

    /** curl's exit code on the same path: 0 got an HTTP answer, 28 timed out. */
    private int curl(String host, String address) {
        forgetLearnedMtu();
        Netns.Result r = lab.client().run(Duration.ofSeconds(20), "curl", "-sS", "-o", "/dev/null", "--noproxy", "*",
                "--max-time", "4", "--cacert", caPem.toString(), "--resolve", host + ":443:" + address,
                "https://" + host + "/v2/");
        return r.exitCode();
    }

    @Test
    @DisplayName("600-byte link, fragmentation-needed filtered → firewall/pmtu_black_hole; curl stalls too")
    void blackHoleIpv4() throws Exception {
        linkMtu(600);
        filterTooBig();
        JsonNode json = diagnose("registry.test", "firewall/pmtu_black_hole");
        for (int i = 0; i < 4; i++) {
            diagnose("registry.test", "firewall/pmtu_black_hole"); // the verdict repeats, it is not a one-off stall
        }
        assertTrue(json.get("summary").asText().contains("completes with MSS 536"), json.get("summary").asText());
        assertTrue(json.get("hint").asText().contains("ICMP type 3 code 4"), json.get("hint").asText());
        assertEquals(28, curl("registry.test", NetworkLab.SERVER), "curl times out on the same path");
    }

    @Test
    @DisplayName("the same 600-byte link with fragmentation-needed allowed → none/ok; curl gets its answer")
    void icmpAllowed() throws Exception {
        linkMtu(600);
        diagnose("registry.test", "none/ok");
        assertEquals(0, curl("registry.test", NetworkLab.SERVER));
    }

    @Test
    @DisplayName("a server that never answers, behind the same black hole → still firewall/tls_stalled")
    void silentServerStaysStalled() throws Exception {
        linkMtu(600);
        filterTooBig();
        JsonNode json = diagnose("registry.test:8444", "firewall/tls_stalled");
        assertTrue(json.get("phases").toString().contains("with MSS 536 fails too"), json.toPrettyString());
    }

    @Test
    @DisplayName("IPv6: 1280-byte link, packet-too-big filtered → firewall/pmtu_black_hole with MSS 1220; curl stalls")
    void blackHoleIpv6() throws Exception {
        linkMtu(1280);
        filterTooBig();
        JsonNode json = diagnose("registry6.test", "firewall/pmtu_black_hole");
        assertTrue(json.get("summary").asText().contains("completes with MSS 1220"), json.get("summary").asText());
        assertEquals(28, curl("registry6.test", "[" + NetworkLab.SERVER_V6 + "]"));
    }
}
