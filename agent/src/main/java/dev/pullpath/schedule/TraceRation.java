package dev.pullpath.schedule;

import dev.pullpath.diagnosis.Evidence;
import dev.pullpath.diagnosis.TargetReport;
import java.time.Duration;
import java.time.Instant;

/**
 * How often the daemon may traceroute one target: a fleet of thousands of nodes tracing every 15 s would be an
 * ICMP storm on the routers they all share. A trace is allowed when none was taken for {@link #SPACING}; it
 * is taken only by a probe whose connect times out, so in practice once when a failure starts and then at most
 * every ten minutes while it lasts. Between traces, the failing reports carry the last trace of the same failure.
 * One per target, used under its job's lock.
 */
final class TraceRation {
    static final Duration SPACING = Duration.ofMinutes(10);

    private Instant lastTracedAt;
    private Evidence.Trace current;

    /** Whether the next probe may trace. */
    boolean allowed(Instant now) {
        return lastTracedAt == null || !now.isBefore(lastTracedAt.plus(SPACING));
    }

    /** Notes the probe's trace, or gives the report the trace of the failure it continues. */
    TargetReport record(TargetReport report, Instant now) {
        Evidence.Trace taken = report.evidence() == null ? null : report.evidence().trace();
        if (taken != null) {
            lastTracedAt = now;
            current = taken;
            return report;
        }
        if (report.ok() || current == null || report.diagnosis().reason() != dev.pullpath.diagnosis.Reason
                .FIREWALL_CONNECT_TIMEOUT) {
            current = null; // the failure the trace was about has ended, or changed
            return report;
        }
        return report.withTrace(current);
    }
}
