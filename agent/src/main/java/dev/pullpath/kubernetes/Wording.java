package dev.pullpath.kubernetes;

import dev.pullpath.diagnosis.Phase;
import dev.pullpath.diagnosis.PhaseReport;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.schedule.RegistryAllowance;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;

/** How a diagnosis reads in {@code kubectl describe}: CamelCase reasons, one-paragraph messages. */
final class Wording {
    /** Kubernetes keeps Event messages short; the API server rejects a condition message past 32 KiB. */
    static final int MAX_MESSAGE = 1024;
    /** The reason of a pod diagnosis whose registry hops did not run: this node's share of the budget was spent. */
    static final String BUDGET_SPENT = "RegistryBudgetSpent";

    private Wording() {
    }

    /** {@code firewall/connect_timeout} becomes {@code FirewallConnectTimeout}, as Kubernetes reasons are spelled. */
    static String reason(TargetReport r) {
        return camel(r.category()) + camel(r.reason());
    }

    static String camel(String label) {
        StringBuilder b = new StringBuilder();
        for (String part : label.split("[_/\\-.]")) {
            if (!part.isEmpty()) {
                b.append(part.substring(0, 1).toUpperCase(Locale.ROOT)).append(part.substring(1));
            }
        }
        return b.toString();
    }

    /** The hop that failed: the first phase not ok, else (a hosts.toml problem, a warning) the last one. */
    static String hop(TargetReport r) {
        for (PhaseReport p : r.phases()) {
            if (!p.ok()) {
                return p.phase().label();
            }
        }
        return r.phases().isEmpty() ? "config" : r.phases().get(r.phases().size() - 1).phase().label();
    }

    /**
     * The host that decided: the layer host when the layer hop failed there (the registry answered with its
     * redirect: naming the registry would send the reader to the wrong firewall rule), else the first host of the
     * containerd route that failed, else the target.
     */
    static String host(TargetReport r) {
        boolean layerFailed = r.phases().stream().anyMatch(p -> !p.ok() && p.phase() == Phase.LAYER);
        if (layerFailed && r.evidence() != null && r.evidence().layer() != null
                && r.evidence().layer().layerHost() != null) {
            return r.evidence().layer().layerHost();
        }
        if (r.endpoints() != null) {
            return r.endpoints().stream().filter(e -> !e.ok()).map(e -> e.endpoint()).findFirst()
                    .orElse(r.target());
        }
        return r.target();
    }

    /** "pullpath on NODE: category/reason at HOP HOST: SUMMARY. HINT" */
    static String diagnosis(String node, TargetReport r) {
        String summary = r.summary().endsWith(".") ? r.summary() : r.summary() + ".";
        return "pullpath on " + node + ": " + r.category() + "/" + r.reason() + " at " + hop(r) + " " + host(r) + ": "
                + summary + " " + r.hint();
    }

    /**
     * "pullpath on NODE: dns, connect, tls ok at HOST; registry hops not re-run: this node's share of the fleet's
     * registry budget (fleet.registryBudget) is spent until T; the last registry check of HOST at T0 said
     * category/reason." Only the hops that ran are called ok; the node's last check is quoted as its own, at its
     * time, and may have been of another image.
     */
    static String budgeted(String node, TargetReport cheap, RegistryAllowance.Grant grant) {
        String ran = String.join(", ", cheap.phases().stream().map(p -> p.phase().label()).distinct().toList());
        TargetReport last = grant.lastCheck();
        String quoted = last == null ? "this node has no registry check of " + cheap.target() + " of its own yet"
                : "the last registry check of " + cheap.target() + " at " + seconds(last.checkedAt()) + " said "
                        + (last.ok() ? "ok" : last.category() + "/" + last.reason());
        return "pullpath on " + node + ": " + ran + " ok at " + host(cheap) + "; registry hops not re-run: this "
                + "node's share of the fleet's registry budget (fleet.registryBudget) is spent until "
                + seconds(grant.spentUntil()) + "; " + quoted + ".";
    }

    private static Instant seconds(Instant t) {
        return t.truncatedTo(ChronoUnit.SECONDS);
    }

    static String bounded(String message) {
        String m = message.replaceAll("[\\r\\n]+", " ");
        return m.length() <= MAX_MESSAGE ? m : m.substring(0, MAX_MESSAGE - 3) + "...";
    }
}
