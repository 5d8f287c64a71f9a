package dev.pullpath.schedule;

import dev.pullpath.config.TargetConfig;
import dev.pullpath.diagnosis.TargetReport;
import java.time.Instant;

/**
 * What the agent currently knows about one target: the last diagnosis (cheap hops of the last probe, registry
 * hops of the last full probe), and since when that category/reason has held.
 */
public record TargetStatus(TargetConfig config, TargetReport report, Instant since, long probes) {
}
