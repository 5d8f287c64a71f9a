package dev.pullpath.cli;

import dev.pullpath.testing.Outcomes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pullpath.testing.Netns;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Route failures the kernel reports, reproduced in a namespace of the test's own that has no link at all: the
 * prober runs inside it, so its SYNs cannot leave the machine (they are not even sent).
 */
class UnreachableRoutesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void needsNamespaces() {
        Netns.assumeAvailable();
    }

    private static JsonNode diagnoseInside(Netns ns, String target) throws Exception {
        Netns.Result r = ns.pullpath(Duration.ofSeconds(60), "diagnose", "--json", "--timeout", "1s",
                "--hosts-file", "/dev/null", target);
        assertEquals(1, r.exitCode(), r.err());
        return JSON.readTree(r.out().strip());
    }

    @Test
    @DisplayName("no default route, public target → firewall/no_egress_route (a subnet without NAT)")
    void noDefaultRouteToAPublicAddressIsNoEgressRoute() throws Exception {
        try (Netns ns = Netns.create()) {
            JsonNode r = diagnoseInside(ns, "203.0.113.10");
            Outcomes.assertOutcome("firewall/no_egress_route", r);
            assertTrue(r.get("summary").asText().contains("no default IPv4 route"), r.toString());
            JsonNode v6 = diagnoseInside(ns, "[2001:db8::10]");
            assertEquals("no_egress_route", v6.get("reason").asText(), v6.toString());
            assertTrue(v6.get("summary").asText().startsWith("[2001:db8::10]:443"), "RFC 5952 text: " + v6);
        }
    }

    @Test
    @DisplayName("no route to a private address → firewall/network_unreachable")
    void noRouteToAPrivateAddressIsNetworkUnreachable() throws Exception {
        try (Netns ns = Netns.create()) {
            JsonNode r = diagnoseInside(ns, "10.1.2.3");
            Outcomes.assertOutcome("firewall/network_unreachable", r);
            assertTrue(r.get("summary").asText().contains("ENETUNREACH"), r.toString());
        }
    }

    @Test
    @DisplayName("unreachable route → firewall/host_unreachable")
    void unreachableRouteIsHostUnreachable() throws Exception {
        try (Netns ns = Netns.create()) {
            ns.exec("ip", "route", "add", "unreachable", "198.51.100.0/24");
            JsonNode r = diagnoseInside(ns, "198.51.100.7");
            Outcomes.assertOutcome("firewall/host_unreachable", r);
            assertTrue(r.get("summary").asText().contains("198.51.100.7:443: EHOSTUNREACH (an unreachable route"),
                    r.toString());
        }
    }
}
