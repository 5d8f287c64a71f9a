package dev.pullpath.export;

import dev.pullpath.config.IpLiterals;
import dev.pullpath.config.TargetConfig;
import dev.pullpath.diagnosis.AddressScope;
import dev.pullpath.diagnosis.Evidence;
import dev.pullpath.diagnosis.PhaseReport;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.schedule.StatusBoard;
import dev.pullpath.schedule.TargetStatus;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The probe metrics, each registered beside the measurement that feeds it. Labels are bounded by construction:
 * the configured target name, the phase, and the taxonomy's category/reason; never an address, an error string or
 * a URL. See docs/metrics.md for every series and the fleet arithmetic.
 */
public final class ProbeMetrics implements StatusBoard.Listener {
    /** Five bounds: a loopback hop, a same-region hop, a cross-region hop, a slow hop, a timeout. */
    static final double[] DURATION_BOUNDS = {0.01, 0.05, 0.25, 1, 5};
    static final String TOTAL = "total";

    private final Gauge success;
    private final Histogram duration;
    private final Counter failures;
    private final Gauge status;
    private final Gauge certNotAfter;
    private final Gauge dnsAnswers;
    private final Gauge lastProbe;
    private final Gauge proxyInUse;
    private final Gauge credentialExpiry;
    private final boolean phaseHistograms;
    /** Each target's credential series: several targets may name the same registry. */
    private final Map<String, Map<CredentialSeries, Double>> credentialSeries = new ConcurrentHashMap<>();
    /** The credential series on the exposition now, to remove the ones no target holds any more. */
    private Set<CredentialSeries> exportedCredentials = new HashSet<>();
    /** The status series and DNS answer series each target currently has, to remove them when they change. */
    private final Map<String, String[]> statusLabels = new ConcurrentHashMap<>();
    private final Map<String, Set<AnswerSeries>> dnsSeries = new ConcurrentHashMap<>();

    /** The labels of one credential expiry series (it has no target label: targets may share a registry). */
    private record CredentialSeries(String registry, String source) {
    }

    /** The labels of one pullpath_dns_answers series besides the target. */
    private record AnswerSeries(String family, String scope) {
    }

    /** Every phase label, from the plan itself: the help text cannot fall behind a new hop. */
    static final String PHASES = java.util.Arrays.stream(dev.pullpath.diagnosis.Phase.values())
            .map(dev.pullpath.diagnosis.Phase::label).collect(java.util.stream.Collectors.joining(", "));

    /**
     * The blackbox-style answer of {@code /probe}: one probe's success, diagnosis and phase times, in a registry of
     * its own (the agent's series are not touched by a caller's probe).
     */
    public static PrometheusRegistry ofOneProbe(TargetReport r) {
        PrometheusRegistry one = new PrometheusRegistry();
        Gauge.builder().withoutExemplars().name("pullpath_probe_success").help("1 when the probe found the path working")
                .register(one).set(r.ok() ? 1 : 0);
        Gauge.builder().withoutExemplars().name("pullpath_probe_status").help("This probe's diagnosis, value 1")
                .labelNames("category", "reason").register(one).labelValues(r.category(), r.reason()).set(1);
        Gauge phases = Gauge.builder().withoutExemplars().name("pullpath_probe_phase_duration_seconds")
                .help("Time of each hop of this probe (phase: " + PHASES + ")").labelNames("phase").register(one);
        double total = 0;
        for (dev.pullpath.diagnosis.PhaseReport p : r.phases()) {
            phases.labelValues(p.phase().label()).set(p.durationSeconds());
            total += p.durationSeconds();
        }
        Gauge.builder().withoutExemplars().name("pullpath_probe_total_duration_seconds").help("Time of the whole probe")
                .register(one).set(total);
        return one;
    }

    /** {@code /probe?debug=true}: the probe phase by phase, as blackbox_exporter's debug output, then its JSON. */
    static String debugLog(TargetReport r) {
        StringBuilder b = new StringBuilder();
        boolean clean = r.verdict() == dev.pullpath.diagnosis.Verdict.OK;
        b.append("target ").append(r.target()).append(": ").append(clean ? "ok" : r.verdict() + " "
                + r.category() + "/" + r.reason()).append('\n');
        for (dev.pullpath.diagnosis.PhaseReport p : r.phases()) {
            b.append(String.format(java.util.Locale.ROOT, "%-8s %9.3f ms  %-4s  %s%n", p.phase().label(),
                    p.durationMs(), p.ok() ? "ok" : "FAIL", p.detail()));
        }
        if (!clean) {
            b.append("summary: ").append(r.summary()).append('\n').append("hint: ").append(r.hint()).append('\n');
        }
        b.append('\n').append(ReportJson.line(r)).append('\n');
        return b.toString();
    }

    public ProbeMetrics(PrometheusRegistry registry, boolean phaseHistograms) {
        this.phaseHistograms = phaseHistograms;
        success = Gauge.builder().withoutExemplars().name("pullpath_probe_success")
                .help("1 when the last probe found the whole configured path working, else 0")
                .labelNames("target").register(registry);
        duration = Histogram.builder().withoutExemplars().name("pullpath_probe_duration_seconds").unit(Unit.SECONDS)
                .help("Time of each hop of the pull path (phase: " + PHASES + "; or total)")
                .classicOnly().classicUpperBounds(DURATION_BOUNDS)
                .labelNames("target", "phase").register(registry);
        failures = Counter.builder().withoutExemplars().name("pullpath_probe_failures_total")
                .help("Probes that diagnosed a failure, by category and reason (docs/taxonomy.md)")
                .labelNames("target", "category", "reason").register(registry);
        status = Gauge.builder().withoutExemplars().name("pullpath_probe_status")
                .help("The current diagnosis of each target: one series per target, value 1")
                .labelNames("target", "category", "reason").register(registry);
        certNotAfter = Gauge.builder().withoutExemplars().name("pullpath_tls_cert_not_after_seconds").unit(Unit.SECONDS)
                .help("Earliest notAfter of the certificate chain the target presented, Unix time")
                .labelNames("target").register(registry);
        dnsAnswers = Gauge.builder().withoutExemplars().name("pullpath_dns_answers")
                .help("Addresses the target's name resolved to, by family and address scope")
                .labelNames("target", "family", "scope").register(registry);
        proxyInUse = Gauge.builder().withoutExemplars().name("pullpath_proxy_in_use")
                .help("1 when the target is reached through an HTTPS proxy (HTTPS_PROXY or the config), else 0")
                .labelNames("target").register(registry);
        credentialExpiry = Gauge.builder().withoutExemplars().name("pullpath_credential_expiry_timestamp_seconds")
                .unit(Unit.SECONDS)
                .help("When a stored login a pull of the registry would send expires (decoded from the ECR token), "
                        + "Unix time; source is the store (helm, docker, docker/docker-credential-NAME, "
                        + "kubelet-credential-provider/NAME)")
                .labelNames("registry", "source").register(registry);
        lastProbe = Gauge.builder().withoutExemplars().name("pullpath_last_probe_timestamp_seconds").unit(Unit.SECONDS)
                .help("When the target was last probed, Unix time")
                .labelNames("target").register(registry);
    }

    @Override
    public void onProbe(TargetConfig target, TargetReport probed, TargetStatus previous, TargetStatus current) {
        String name = target.name();
        TargetReport report = current.report();
        success.labelValues(name).set(report.ok() ? 1 : 0);
        // Durations are of what ran in this probe, not of registry hops carried over from an earlier one. Without
        // per-phase histograms, one histogram of the whole probe (phase="total") keeps a fifth of the series.
        double total = 0;
        for (PhaseReport p : probed.phases()) {
            total += p.durationSeconds();
            if (phaseHistograms) {
                duration.labelValues(name, p.phase().label()).observe(p.durationSeconds());
            }
        }
        if (!phaseHistograms) {
            duration.labelValues(name, TOTAL).observe(total);
        }
        if (probed.verdict() != dev.pullpath.diagnosis.Verdict.OK) {
            failures.labelValues(name, probed.category(), probed.reason()).inc();
        }
        String[] labels = {name, report.category(), report.reason()};
        String[] old = statusLabels.put(name, labels);
        if (old != null && !java.util.Arrays.equals(old, labels)) {
            status.remove(old);
        }
        status.labelValues(labels).set(1);
        Evidence.Tls tls = probed.evidence() == null ? null : probed.evidence().tls();
        if (tls != null && tls.earliestNotAfter() != null) {
            certNotAfter.labelValues(name).set(tls.earliestNotAfter().getEpochSecond());
        }
        recordAnswers(name, probed);
        recordCredentials(name, target.target().authority(), report);
        proxyInUse.labelValues(name).set(probed.evidence() != null && probed.evidence().proxy() != null ? 1 : 0);
        lastProbe.labelValues(name).set(probed.checkedAt().toEpochMilli() / 1000.0);
    }

    /**
     * The logins the last registry check found, with an expiry: the earliest per store. Reports between two
     * registry checks carry the last check's evidence, so a series lives as long as the login does.
     */
    private void recordCredentials(String name, String registryName, TargetReport report) {
        Map<CredentialSeries, Double> now = new HashMap<>();
        if (report.evidence() != null && report.evidence().credentials() != null) {
            for (Evidence.Credential c : report.evidence().credentials()) {
                if (c.expiresAt() != null) {
                    double at = c.expiresAt().getEpochSecond();
                    now.merge(new CredentialSeries(registryName, c.source()), at, Math::min);
                }
            }
        }
        boolean registryChecked = report.phases().stream().anyMatch(p -> p.phase().registryHop());
        if (!registryChecked && credentialSeries.containsKey(name)) {
            return; // a cheap probe that failed before the registry: what the last check found still holds
        }
        credentialSeries.put(name, now);
        syncCredentialSeries();
    }

    private synchronized void syncCredentialSeries() {
        Map<CredentialSeries, Double> all = new HashMap<>();
        credentialSeries.values().forEach(m -> m.forEach((k, v) -> all.merge(k, v, Math::min)));
        for (CredentialSeries key : exportedCredentials) {
            if (!all.containsKey(key)) {
                credentialExpiry.remove(key.registry(), key.source());
            }
        }
        all.forEach((key, at) -> credentialExpiry.labelValues(key.registry(), key.source()).set(at));
        exportedCredentials = new HashSet<>(all.keySet());
    }

    private void recordAnswers(String name, TargetReport probed) {
        Evidence.Dns dns = probed.evidence() == null ? null : probed.evidence().dns();
        if (dns == null) {
            return;
        }
        Map<AnswerSeries, Integer> counts = new HashMap<>();
        for (String a : dns.answers()) {
            if (IpLiterals.isLiteral(a)) {
                java.net.InetAddress address = IpLiterals.parse(a);
                counts.merge(new AnswerSeries(IpLiterals.family(address), AddressScope.of(address).label()), 1,
                        Integer::sum);
            }
        }
        Set<AnswerSeries> before = dnsSeries.getOrDefault(name, Set.of());
        for (AnswerSeries gone : before) {
            if (!counts.containsKey(gone)) {
                dnsAnswers.remove(name, gone.family(), gone.scope());
            }
        }
        counts.forEach((key, n) -> dnsAnswers.labelValues(name, key.family(), key.scope()).set(n));
        dnsSeries.put(name, new HashSet<>(counts.keySet()));
    }

    @Override
    public void onRemoved(String name) {
        success.remove(name);
        certNotAfter.remove(name);
        lastProbe.remove(name);
        proxyInUse.remove(name);
        String[] old = statusLabels.remove(name);
        if (old != null) {
            status.remove(old);
        }
        for (AnswerSeries key : dnsSeries.getOrDefault(name, Set.of())) {
            dnsAnswers.remove(name, key.family(), key.scope());
        }
        dnsSeries.remove(name);
        if (credentialSeries.remove(name) != null) {
            syncCredentialSeries();
        }
        for (dev.pullpath.diagnosis.Phase p : dev.pullpath.diagnosis.Phase.values()) {
            duration.remove(name, p.label());
        }
        duration.remove(name, TOTAL);
        for (dev.pullpath.diagnosis.Reason r : dev.pullpath.diagnosis.Reason.values()) {
            failures.remove(name, r.category().label(), r.code());
        }
    }
}
