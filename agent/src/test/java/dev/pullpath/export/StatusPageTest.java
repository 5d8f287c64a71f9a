package dev.pullpath.export;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pullpath.config.Target;
import dev.pullpath.config.TargetConfig;
import dev.pullpath.config.TargetKind;
import dev.pullpath.diagnosis.Diagnosis;
import dev.pullpath.diagnosis.Phase;
import dev.pullpath.diagnosis.PhaseReport;
import dev.pullpath.diagnosis.Reason;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.schedule.TargetStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The page's HTML without a browser: what the remote side controls is escaped; rows come worst first. */
class StatusPageTest {
    private static final Instant NOW = Instant.parse("2026-12-02T03:00:00Z");

    private static TargetStatus status(String name, Reason reason, String summary, String hint, Instant since,
                                       List<PhaseReport> phases) {
        TargetConfig config = new TargetConfig(name, Target.parse(name + ".test"), TargetKind.REGISTRY,
                Duration.ofSeconds(30), Duration.ofMinutes(5), Duration.ofSeconds(5), Map.of());
        TargetReport report = new TargetReport(name, new Diagnosis(reason, summary), hint, phases, List.of(), null,
                since, null);
        return new TargetStatus(config, report, since, 3);
    }

    @Test
    @DisplayName("a summary, detail and hint carrying markup (a hostile registry's body) are shown as text")
    void remoteTextIsEscaped() {
        String hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'";
        String html = StatusPage.render("node-<b>", "zone", List.of(status("evil", Reason.FIREWALL_CONNECT_REFUSED,
                hostile, hostile, NOW.minusSeconds(90), List.of(new PhaseReport(Phase.CONNECT, false, 1.0, hostile)))),
                true, NOW);
        assertFalse(html.contains("<script"), html);
        assertFalse(html.contains("<img"), html);
        assertFalse(html.contains("node-<b>"), html);
        assertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), html);
        assertTrue(html.contains("failed at <b>connect</b>"), html);
        assertTrue(html.contains("(90s ago)"), html);
    }

    @Test
    @DisplayName("a traced connect_timeout → the page shows where the SYNs stop, hop by hop")
    void traceShown() {
        TargetStatus s = status("dropped", Reason.FIREWALL_CONNECT_TIMEOUT, "no SYN-ACK", "allow 443",
                NOW.minusSeconds(60), List.of(new PhaseReport(Phase.CONNECT, false, 5000.0, "no SYN-ACK")));
        dev.pullpath.diagnosis.Evidence.Trace trace = new dev.pullpath.diagnosis.Evidence.Trace("198.51.100.10:443",
                List.of(new dev.pullpath.diagnosis.Evidence.TraceHop(1, "10.0.0.1", 0.4, "time_exceeded"),
                        new dev.pullpath.diagnosis.Evidence.TraceHop(2, null, 1000.2, "silent")), 2, false,
                "SYN to 198.51.100.10:443 answered up to hop 1 (10.0.0.1), silent from hop 2", NOW);
        TargetReport traced = s.report().withTrace(trace);
        String html = StatusPage.render("n", "", List.of(new TargetStatus(s.config(), traced, s.since(), 3)), true,
                NOW);
        assertTrue(html.contains("<b>traceroute:</b> SYN to 198.51.100.10:443 answered up to hop 1 (10.0.0.1), "
                + "silent from hop 2"), html);
        assertTrue(html.contains("<li value=\"1\">10.0.0.1 0.4 ms time_exceeded</li>"), html);
        assertTrue(html.contains("<li value=\"2\">* 1000.2 ms silent</li>"), html);
    }

    @Test
    @DisplayName("failures before warnings before healthy targets; within one state the longest-standing first")
    void worstFirstThenLongestStanding() {
        List<TargetStatus> statuses = List.of(
                status("fine", Reason.OK, "reachable", "", NOW.minusSeconds(3600), List.of()),
                status("cache", Reason.REGISTRY_MIRROR_UNAVAILABLE, "mirror down", "fix it", NOW.minusSeconds(60),
                        List.of()),
                status("recent", Reason.FIREWALL_CONNECT_REFUSED, "refused", "allow", NOW.minusSeconds(30), List.of()),
                status("old", Reason.TLS_CERTIFICATE_EXPIRED, "expired", "renew", NOW.minusSeconds(7200), List.of()));
        String html = StatusPage.render("n", "", statuses, true, NOW);
        int old = html.indexOf("data-target=\"old\"");
        int recent = html.indexOf("data-target=\"recent\"");
        int cache = html.indexOf("data-target=\"cache\"");
        int fine = html.indexOf("data-target=\"fine\"");
        assertTrue(old > 0 && old < recent && recent < cache && cache < fine, html);
        assertTrue(html.contains("<title>2 failing · pullpath on n</title>"), html);
        assertTrue(html.contains("2 failing, 1 warning, 1 ok of 4 targets"), html);
        assertTrue(html.contains("href=\"" + StatusPage.RUNBOOK + "#tls\""), html);
        assertTrue(html.contains("(2h ago)"), html);
    }

    @Test
    @DisplayName("no targets and the first round still running are said, not left blank")
    void emptyAndNotReady() {
        String html = StatusPage.render("n", "", List.of(), false, NOW);
        assertTrue(html.contains("no targets configured"), html);
        assertTrue(html.contains("first round of probes still running"), html);
    }
}
