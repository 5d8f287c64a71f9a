package dev.pullpath.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pullpath.diagnosis.Diagnosis;
import dev.pullpath.diagnosis.Evidence;
import dev.pullpath.diagnosis.Phase;
import dev.pullpath.diagnosis.PhaseReport;
import dev.pullpath.diagnosis.Reason;
import dev.pullpath.diagnosis.TargetReport;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The shell view of one report, without a network: what an SRE reads first. */
class HumanReportTest {
    private static final Instant AT = Instant.parse("2026-12-02T10:00:00Z");

    private static TargetReport report(Reason reason, String summary, Evidence evidence) {
        return new TargetReport("registry.test", new Diagnosis(reason, summary), reason.hint("registry.test", 443),
                List.of(new PhaseReport(Phase.DNS, true, 1.2, "registry.test -> 198.51.100.10"),
                        new PhaseReport(Phase.CONNECT, reason == Reason.OK, 2000.4, summary)), List.of(), evidence,
                AT, null);
    }

    @Test
    @DisplayName("a failure → FAIL with category/reason, every hop's time, the diagnosis and the hint")
    void failure() {
        String text = new HumanReport(false, 100).render(report(Reason.FIREWALL_CONNECT_TIMEOUT,
                "198.51.100.10:443: no SYN-ACK within 2000ms (SYN dropped)", null));
        assertTrue(text.startsWith("registry.test  FAIL  firewall/connect_timeout\n"), text);
        assertTrue(text.contains("2000.4 ms  FAIL"), text);
        assertTrue(text.contains("diagnosis: 198.51.100.10:443: no SYN-ACK"), text);
        assertTrue(text.contains("hint: SYN unanswered"), text);
        assertFalse(text.contains("\u001b["), "no colour when not asked: " + text);
    }

    @Test
    @DisplayName("a warning → WARN, not FAIL; ok → OK with no diagnosis or hint")
    void warningAndOk() {
        assertTrue(new HumanReport(false, 100).render(report(Reason.REGISTRY_MIRROR_UNAVAILABLE, "mirror down", null))
                .startsWith("registry.test  WARN  registry/mirror_unavailable"));
        String ok = new HumanReport(false, 100).render(report(Reason.OK, "reachable", null));
        assertTrue(ok.startsWith("registry.test  OK\n"), ok);
        assertFalse(ok.contains("hint:"), ok);
    }

    @Test
    @DisplayName("a traced connect_timeout → the hop table: each hop's address, RTT and answer, * where none")
    void traceTable() {
        Evidence.Trace trace = new Evidence.Trace("198.51.100.10:443", List.of(
                new Evidence.TraceHop(1, "10.0.0.1", 0.4, "time_exceeded"),
                new Evidence.TraceHop(2, null, 1000.2, "silent")), 2, false,
                "SYN to 198.51.100.10:443 answered up to hop 1 (10.0.0.1), silent from hop 2", AT);
        String text = new HumanReport(false, 120).render(report(Reason.FIREWALL_CONNECT_TIMEOUT, "dropped",
                new Evidence(null, null, null, null).withTrace(trace)));
        assertTrue(text.contains("traceroute (TCP SYN to 198.51.100.10:443):"), text);
        assertTrue(text.matches("(?s).*\\n\\s+1  10\\.0\\.0\\.1\\s+0\\.4 ms  time_exceeded\\n.*"), text);
        assertTrue(text.matches("(?s).*\\n\\s+2  \\*\\s+1000\\.2 ms  silent\\n.*"), text);
    }
}
