package dev.pullpath.schedule;

import dev.pullpath.config.TargetConfig;
import dev.pullpath.config.TargetKind;
import dev.pullpath.diagnosis.Reason;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.probe.Depth;

/**
 * What {@code /probe} runs: an unconfigured target the whole path; a configured registry the version check
 * ({@code GET /v2/}, as a blackbox http_2xx probe does) but no token, unless its registry is rate limiting this node,
 * when only the cheap hops run and the scheduler's backoff stands.
 */
final class OnDemandDepth {
    private OnDemandDepth() {
    }

    /** @param lastFull the scheduler's last registry check of the configured target, or null */
    static Depth of(TargetConfig t, boolean configured, TargetReport lastFull) {
        if (!configured || t.kind() != TargetKind.REGISTRY) {
            return Depth.of(t.kind(), !configured);
        }
        boolean limited = lastFull != null && lastFull.outcome() == Reason.REGISTRY_RATE_LIMITED;
        return limited ? Depth.TLS : Depth.HTTP;
    }
}
