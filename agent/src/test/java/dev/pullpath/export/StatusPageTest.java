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
                since.toString(), null);
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
