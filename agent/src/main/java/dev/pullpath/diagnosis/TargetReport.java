package dev.pullpath.diagnosis;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import java.time.Instant;
import java.util.List;

/**
 * The diagnosis of one target: the single result model. {@code diagnose --json}, {@code /status}, the logs and
 * the metrics are all views of this record.
 *
 * @param target      the target as the user named it ({@code host:port})
 * @param diagnosis   the worst outcome over the target's addresses
 * @param hint        the reason's hint for this target
 * @param phases      the hops of the path the diagnosis is about, in order
 * @param addresses   every probed address with its own outcome
 * @param evidence    what each hop saw (answers, chain, status line); never a secret
 * @param checkedAt   when the probe started, RFC 3339
 * @param registryCheckedAt when the registry hops shown here ran, if not in this probe (the daemon runs them less
 *                    often than the cheap hops), else null
 * @param endpoints   with a containerd hosts.toml for the target: each host the pull path tried, in order; the
 *                    phases, addresses and evidence are those of the host that decided. Else null
 */
@JsonPropertyOrder({"target", "ok", "category", "reason", "summary", "hint", "endpoints", "phases", "addresses",
        "evidence", "checkedAt", "registryCheckedAt"})
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TargetReport(
        String target,
        @JsonIgnore Diagnosis diagnosis,
        String hint,
        List<PhaseReport> phases,
        List<AddressReport> addresses,
        Evidence evidence,
        @JsonSerialize(using = ToStringSerializer.class) Instant checkedAt,
        @JsonSerialize(using = ToStringSerializer.class) Instant registryCheckedAt,
        List<EndpointReport> endpoints) implements Diagnosed {

    public TargetReport {
        phases = List.copyOf(phases);
        addresses = List.copyOf(addresses);
        endpoints = endpoints == null ? null : List.copyOf(endpoints);
    }

    public TargetReport(String target, Diagnosis diagnosis, String hint, List<PhaseReport> phases,
                        List<AddressReport> addresses, Evidence evidence, Instant checkedAt, Instant registryCheckedAt) {
        this(target, diagnosis, hint, phases, addresses, evidence, checkedAt, registryCheckedAt, null);
    }

    /** The same report, with the hosts of its containerd pull path. */
    public TargetReport withEndpoints(List<EndpointReport> tried) {
        return new TargetReport(target, diagnosis, hint, phases, addresses, evidence, checkedAt, registryCheckedAt,
                tried);
    }

    /**
     * This probe's cheap hops (DNS, TCP, TLS) completed with the registry hops of an earlier full probe: the view
     * the daemon shows between two registry checks. A failure on the cheap hops stands on its own; otherwise the
     * earlier registry outcome (rate limited, token refused...) still holds.
     */
    public TargetReport withRegistryHopsOf(TargetReport full) {
        if (full == null || !ok()) {
            return this;
        }
        List<PhaseReport> merged = new java.util.ArrayList<>(phases);
        // A probe that ran GET /v2/ itself (an on-demand one) keeps its own; the later hops come from the check.
        java.util.Set<Phase> own = phases.stream().map(PhaseReport::phase).collect(java.util.stream.Collectors.toSet());
        full.phases.stream().filter(p -> p.phase().registryHop() && !own.contains(p.phase())).forEach(merged::add);
        // A failure in the registry hops holds until the next check, whatever its category (a token realm behind
        // a firewall is a firewall failure of the registry hops).
        boolean registryFailed = full.phases.stream().anyMatch(p -> !p.ok() && p.phase().registryHop());
        Evidence e = evidence == null ? new Evidence(null, null, null, null) : evidence;
        Evidence fe = full.evidence == null ? new Evidence(null, null, null, null) : full.evidence;
        return new TargetReport(target, registryFailed ? full.diagnosis : diagnosis,
                registryFailed ? full.hint : hint, merged, addresses, new Evidence(e.dns(), e.tls(),
                e.http() != null ? e.http() : fe.http(),
                fe.token(), e.proxy(), fe.credentials(), e.trace(), fe.layer()), checkedAt, full.checkedAt, endpoints);
    }

    /**
     * This failing report with the trace an earlier probe of the same failure took: the daemon traces a target at most
     * every few minutes, and until the next trace the last one is still the best answer to "where".
     */
    public TargetReport withTrace(Evidence.Trace trace) {
        if (trace == null || ok() || (evidence != null && evidence.trace() != null)) {
            return this;
        }
        Evidence e = evidence == null ? new Evidence(null, null, null, null) : evidence;
        Diagnosis d = new Diagnosis(diagnosis.reason(), diagnosis.summary() + "; " + trace.summary() + " (traced at "
                + trace.tracedAt() + ")");
        return new TargetReport(target, d, hint, phases, addresses, e.withTrace(trace), checkedAt, registryCheckedAt,
                endpoints);
    }
}
