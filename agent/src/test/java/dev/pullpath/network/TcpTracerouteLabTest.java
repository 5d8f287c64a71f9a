package dev.pullpath.network;

import dev.pullpath.testing.Outcomes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pullpath.testing.NetworkLab;
import dev.pullpath.testing.Netns;
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
 * Where SYNs die, on three routers in a row that each decrement the TTL and answer time-exceeded. A drop in a
 * router's forward filter comes after its TTL check, so that router still answers its own hop and the trace goes
 * silent at the next; a drop before routing (the raw table, as a stateless filter in front of the router) silences
 * the router's own hop.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TcpTracerouteLabTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    static final NetworkLab.Extension LAB = new NetworkLab.Extension(3);

    private NetworkLab lab;
    private Path hosts;
    private final List<String> timings = new ArrayList<>();

    @BeforeAll
    void lab() throws Exception {
        lab = LAB.get();
        hosts = Files.writeString(lab.work().resolve("hosts"), NetworkLab.SERVER + " registry.test\n"
                + NetworkLab.SERVER_V6 + " registry6.test\n");
        // A peer that would answer, so that "silent" can only be the routers' doing.
        lab.javaPeer(lab.server(), "dev.pullpath.testing.LabPeers", List.of("::", "reset:443"), "ready");
    }

    @AfterEach
    void clear() {
        for (int k = 1; k <= 3; k++) {
            lab.router(k).exec("iptables", "-t", "raw", "-F");
            lab.router(k).exec("ip6tables", "-t", "raw", "-F");
        }
        lab.clearRules();
    }

    @AfterAll
    void report() {
        timings.forEach(System.out::println);
    }

    private JsonNode diagnose(String target, String... flags) throws Exception {
        List<String> args = new ArrayList<>(List.of("diagnose", "--json", "--timeout", "2s", "--no-proxy", "*",
                "--hosts-file", hosts.toString()));
        args.addAll(List.of(flags));
        args.add(target);
        long t0 = System.nanoTime();
        Netns.Result r = lab.client().pullpath(Duration.ofSeconds(60), args.toArray(String[]::new));
        JsonNode json = JSON.readTree(r.out().strip());
        double connectMs = 0;
        for (JsonNode p : json.get("phases")) {
            if (p.get("phase").asText().equals("connect")) {
                connectMs = p.get("durationMs").asDouble();
            }
        }
        timings.add(String.format("traceroute: %-16s %s %s, diagnose %d ms, connect phase %.0f ms", target,
                String.join(" ", flags), json.get("reason").asText(), (System.nanoTime() - t0) / 1_000_000,
                connectMs));
        assertEquals("firewall/connect_timeout", Outcomes.of(json),
                json::toPrettyString);
        assertEquals(1, r.exitCode(), r.err());
        return json;
    }

    private static List<String> answered(JsonNode trace) {
        List<String> out = new ArrayList<>();
        for (JsonNode h : trace.get("hops")) {
            if (h.get("answer").asText().equals("time_exceeded")) {
                out.add(h.get("address").asText());
            }
        }
        return out;
    }

    @Test
    @DisplayName("router 2 drops SYNs in its forward filter → hops 1 and 2 answer, silent from hop 3")
    void forwardDropOnSecondRouter() throws Exception {
        lab.router(2).exec("iptables", "-A", "FORWARD", "-p", "tcp", "--dport", "443", "-j", "DROP");
        JsonNode json = diagnose("registry.test");
        JsonNode trace = json.get("evidence").get("trace");
        assertEquals(List.of(NetworkLab.routerTowardClient(1, false), NetworkLab.routerTowardClient(2, false)),
                answered(trace), trace::toPrettyString);
        assertEquals(3, trace.get("silentFromHop").asInt());
        assertFalse(trace.get("reached").asBoolean());
        String expected = "SYN to " + NetworkLab.SERVER + ":443 answered up to hop 2 ("
                + NetworkLab.routerTowardClient(2, false) + "), silent from hop 3";
        assertTrue(trace.get("summary").asText().startsWith(expected), trace::toPrettyString);
        assertTrue(json.get("summary").asText().contains(expected), "the diagnosis says it: " + json.get("summary"));
    }

    @Test
    @DisplayName("router 2 drops SYNs before routing (raw table) → hop 1 answers, silent from hop 2, the dropping one")
    void dropBeforeRoutingOnSecondRouter() throws Exception {
        lab.router(2).exec("iptables", "-t", "raw", "-A", "PREROUTING", "-p", "tcp", "--dport", "443", "-j", "DROP");
        JsonNode trace = diagnose("registry.test").get("evidence").get("trace");
        assertEquals(List.of(NetworkLab.routerTowardClient(1, false)), answered(trace), trace::toPrettyString);
        assertEquals(2, trace.get("silentFromHop").asInt());
    }

    @Test
    @DisplayName("router 3 drops SYNs in its forward filter → all three routers answer, silent from hop 4")
    void threeRoutersAnswer() throws Exception {
        lab.router(3).exec("iptables", "-A", "FORWARD", "-p", "tcp", "--dport", "443", "-j", "DROP");
        JsonNode trace = diagnose("registry.test").get("evidence").get("trace");
        assertEquals(List.of(NetworkLab.routerTowardClient(1, false), NetworkLab.routerTowardClient(2, false),
                NetworkLab.routerTowardClient(3, false)), answered(trace), trace::toPrettyString);
        assertEquals(4, trace.get("silentFromHop").asInt());
    }

    @Test
    @DisplayName("IPv6: router 2 drops SYNs → hop limits 1 and 2 answer with ICMPv6 time exceeded, silent from hop 3")
    void ipv6Path() throws Exception {
        lab.router(2).exec("ip6tables", "-A", "FORWARD", "-p", "tcp", "--dport", "443", "-j", "DROP");
        JsonNode trace = diagnose("registry6.test").get("evidence").get("trace");
        assertEquals(List.of(NetworkLab.routerTowardClient(1, true), NetworkLab.routerTowardClient(2, true)),
                answered(trace), trace::toPrettyString);
        assertEquals(3, trace.get("silentFromHop").asInt());
    }

    @Test
    @DisplayName("--no-traceroute → the same connect_timeout, no trace, no extra time")
    void switchedOff() throws Exception {
        lab.router(2).exec("iptables", "-A", "FORWARD", "-p", "tcp", "--dport", "443", "-j", "DROP");
        JsonNode json = diagnose("registry.test", "--no-traceroute");
        assertNull(json.get("evidence").get("trace"), json::toPrettyString);
        assertFalse(json.get("summary").asText().contains("silent from"), json.get("summary").asText());
    }
}
