package dev.pullpath.export;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pullpath.diagnosis.Diagnosis;
import dev.pullpath.diagnosis.Phase;
import dev.pullpath.diagnosis.PhaseReport;
import dev.pullpath.diagnosis.Reason;
import dev.pullpath.diagnosis.TargetReport;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Where the phases are named for users, every phase is named: a new hop cannot leave the help or docs behind. */
class PhaseHelpTest {

    @Test
    @DisplayName("the duration histogram's help and docs/metrics.md name every phase of the plan")
    void everyPhaseNamed() throws Exception {
        String docs = Files.readString(Path.of("..", "docs", "metrics.md"));
        for (Phase p : Phase.values()) {
            assertTrue(ProbeMetrics.PHASES.contains(p.label()), p.label());
            assertTrue(docs.contains("`" + p.label() + "`"), "docs/metrics.md does not name phase " + p.label());
        }
    }

    @Test
    @DisplayName("/probe's one-probe registry: success, the diagnosis, each phase's time and the total")
    void oneProbe() throws Exception {
        TargetReport r = new TargetReport("reg", new Diagnosis(Reason.FIREWALL_CONNECT_TIMEOUT, "dropped"), "allow",
                List.of(new PhaseReport(Phase.DNS, true, 2.0, "ok"), new PhaseReport(Phase.CONNECT, false, 1000.0,
                        "dropped")), List.of(), null, java.time.Instant.parse("2026-12-02T10:00:00Z"), null);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new PrometheusTextFormatWriter(false).write(out, ProbeMetrics.ofOneProbe(r).scrape());
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("pullpath_probe_success 0.0"), text);
        assertTrue(text.contains("pullpath_probe_status{category=\"firewall\",reason=\"connect_timeout\"} 1.0"), text);
        assertTrue(text.contains("pullpath_probe_phase_duration_seconds{phase=\"connect\"} 1.0"), text);
        assertTrue(text.contains("pullpath_probe_total_duration_seconds 1.002"), text);
    }
}
