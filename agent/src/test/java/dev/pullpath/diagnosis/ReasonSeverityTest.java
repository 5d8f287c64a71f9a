package dev.pullpath.diagnosis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The severity and the verdict are fields of each reason, and these are the rules they keep. */
class ReasonSeverityTest {

    @Test
    @DisplayName("every reason has its own rank: two addresses' reasons always have a worse one")
    void ranksAreUnique() {
        Set<Integer> seen = new HashSet<>();
        for (Reason r : Reason.values()) {
            assertTrue(seen.add(r.rank()), r + " shares rank " + r.rank());
        }
    }

    @Test
    @DisplayName("every failure ranks worse than every warning, and every warning worse than ok")
    void failuresBeforeWarningsBeforeOk() {
        for (Reason a : Reason.values()) {
            for (Reason b : Reason.values()) {
                if (a.verdict() == Verdict.FAIL && b.verdict() != Verdict.FAIL) {
                    assertTrue(a.worseThan(b), a + " must hide " + b);
                }
                if (a.verdict() == Verdict.WARN && b == Reason.OK) {
                    assertTrue(a.worseThan(b), a + " must hide ok");
                }
            }
        }
    }

    @Test
    @DisplayName("a hop earlier on the path hides a later one: DNS before connect before TLS before the registry")
    void earlierHopRanksWorse() {
        assertTrue(Reason.DNS_NXDOMAIN.worseThan(Reason.FIREWALL_CONNECT_TIMEOUT));
        assertTrue(Reason.FIREWALL_CONNECT_TIMEOUT.worseThan(Reason.FIREWALL_TLS_STALLED));
        assertTrue(Reason.FIREWALL_TLS_STALLED.worseThan(Reason.FIREWALL_PMTU_BLACK_HOLE));
        assertTrue(Reason.TLS_UNTRUSTED_CERTIFICATE.worseThan(Reason.AUTH_ANONYMOUS_DENIED));
        assertTrue(Reason.AUTH_TOKEN_FAILED.worseThan(Reason.REGISTRY_RATE_LIMITED));
        for (Reason r : Reason.values()) {
            if (r.category() == Category.DNS) {
                Arrays.stream(Reason.values()).filter(o -> o.category() == Category.TLS || o.category() == Category.AUTH
                        || o.category() == Category.REGISTRY).forEach(o -> assertTrue(r.worseThan(o), r + " vs " + o));
            }
        }
    }

    @Test
    @DisplayName("the verdict: ok → OK, a warning → WARN, anything else → FAIL")
    void verdicts() {
        assertEquals(Verdict.OK, Reason.OK.verdict());
        assertEquals(Verdict.WARN, Reason.REGISTRY_MIRROR_UNAVAILABLE.verdict());
        assertEquals(Verdict.WARN, Reason.VPC_ENDPOINT_PRIVATE_DNS_OVERRIDE.verdict());
        assertEquals(Verdict.FAIL, Reason.FIREWALL_PMTU_BLACK_HOLE.verdict());
        for (Reason r : Reason.values()) {
            assertEquals(r.ok(), r.verdict() != Verdict.FAIL, r.toString());
        }
    }
}
