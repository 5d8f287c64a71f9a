package dev.pullpath.export;

import static net.logstash.logback.argument.StructuredArguments.entries;

import dev.pullpath.config.TargetConfig;
import dev.pullpath.diagnosis.PhaseReport;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.schedule.StatusBoard;
import dev.pullpath.schedule.TargetStatus;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node-level log of diagnoses, as JSON lines: one line per probe at debug, one per change of state at info
 * (recovery) or warn (a failure starts, or its reason changes). Every line carries the node, the target, the
 * category/reason, the summary, the hint and the phase times: enough to act on without a dashboard.
 */
public final class StateChangeLog implements StatusBoard.Listener {
    private static final Logger LOG = LoggerFactory.getLogger("pullpath.diagnosis");

    private final String node;

    public StateChangeLog(String node) {
        this.node = node;
    }

    @Override
    public void onProbe(TargetConfig target, TargetReport probed, TargetStatus previous, TargetStatus current) {
        TargetReport now = current.report();
        Map<String, Object> fields = fields(target, now);
        if (LOG.isDebugEnabled()) {
            LOG.debug("probe {} {}/{}", target.name(), now.category(), now.reason(), entries(fields));
        }
        TargetReport before = previous == null ? null : previous.report();
        boolean changed = before == null || !before.category().equals(now.category())
                || !before.reason().equals(now.reason());
        if (!changed) {
            return;
        }
        if (before != null) {
            fields.put("previousCategory", before.category());
            fields.put("previousReason", before.reason());
            fields.put("previousSince", previous.since().toString());
        }
        if (now.verdict() == dev.pullpath.diagnosis.Verdict.OK) {
            LOG.info("{} {}: path works", target.name(), before == null ? "first probe" : "recovered", entries(fields));
        } else {
            LOG.warn("{} {}: {}/{}: {}", target.name(),
                    now.verdict() == dev.pullpath.diagnosis.Verdict.WARN ? "warning" : "failing", now.category(),
                    now.reason(), now.summary(), entries(fields));
        }
    }

    @Override
    public void onRemoved(String target) {
        LOG.info("{} removed from the configuration", target, entries(Map.of("node", node, "target", target)));
    }

    private Map<String, Object> fields(TargetConfig target, TargetReport r) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("node", node);
        f.put("target", target.name());
        f.put("ok", r.ok());
        f.put("category", r.category());
        f.put("reason", r.reason());
        f.put("summary", r.summary());
        if (r.verdict() != dev.pullpath.diagnosis.Verdict.OK) {
            f.put("hint", r.hint());
        }
        Map<String, Double> phases = new LinkedHashMap<>();
        for (PhaseReport p : r.phases()) {
            phases.put(p.phase().label(), p.durationMs());
        }
        f.put("phaseMs", phases);
        if (!target.labels().isEmpty()) {
            f.put("labels", target.labels());
        }
        return f;
    }
}
