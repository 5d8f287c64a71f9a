package dev.pullpath.probe;

import dev.pullpath.Version;
import dev.pullpath.config.ContainerdHosts;
import dev.pullpath.config.IpLiterals;
import dev.pullpath.config.ProbeOptions;
import dev.pullpath.config.ProxySettings;
import dev.pullpath.config.Target;
import dev.pullpath.diagnosis.AddressReport;
import dev.pullpath.diagnosis.Diagnosis;
import dev.pullpath.diagnosis.Evidence;
import dev.pullpath.diagnosis.Phase;
import dev.pullpath.diagnosis.PhaseReport;
import dev.pullpath.diagnosis.Reason;
import dev.pullpath.diagnosis.TargetReport;
import io.netty.channel.Channel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The target's diagnosis from its addresses' paths: the worst address decides (an unroutable family does not, when
 * another works, as Go's dialer falls back), then what the DNS answer and the endpoint say about it, and the hint.
 * Pure functions of the walk's results.
 */
final class PathVerdicts {
    private PathVerdicts() {
    }

    static TargetReport assemble(Walk w, Target target, PhaseResult<DnsProbe.Resolution> resolved,
                                  List<AddressPath> walked, Instant checkedAt) {
        Evidence.Dns dnsEvidence = resolved.value().evidence();
        boolean endpoint = VpcEndpoints.isInterfaceEndpoint(target.host(), dnsEvidence);
        List<AddressPath> paths = endpoint
                ? walked.stream().map(p -> endpointView(p, target, dnsEvidence)).toList() : walked;
        // A family the node has no route for fails at once with ENETUNREACH, and Go's dialer (containerd's) falls
        // back to the other family at once: those addresses do not make the target fail if another works.
        boolean anyOk = paths.stream().anyMatch(p -> p.diagnosis().ok());
        java.util.function.Predicate<AddressPath> counts = p -> !(anyOk && unroutableFamily(paths, p));
        int worst = -1;
        for (int i = 0; i < paths.size(); i++) {
            if (counts.test(paths.get(i)) && (worst < 0
                    || paths.get(i).diagnosis().reason().worseThan(paths.get(worst).diagnosis().reason()))) {
                worst = i;
            }
        }
        worst = Math.max(worst, 0);
        AddressPath representative = paths.get(worst);
        Diagnosis diagnosis = representative.diagnosis();
        long failing = paths.stream().filter(p -> !p.diagnosis().ok() && counts.test(p)).count();
        if (!diagnosis.ok() && paths.size() > 1) {
            diagnosis = new Diagnosis(diagnosis.reason(), diagnosis.summary() + " (" + failing + " of "
                    + paths.size() + " addresses fail)");
        }
        List<PhaseReport> phases = new ArrayList<>();
        phases.add(resolved.report());
        phases.addAll(representative.phases());
        List<AddressReport> addresses = paths.stream().map(p -> new AddressReport(IpLiterals.text(p.address()),
                IpLiterals.family(p.address()), p.diagnosis(), p.phases())).toList();
        Evidence.Tls tlsEvidence = representative.session() != null ? representative.session().evidence()
                : paths.stream().filter(p -> p.session() != null).map(p -> p.session().evidence()).findFirst()
                .orElse(null);
        AddressPath carrier = paths.stream().filter(p -> p.http() != null).findFirst().orElse(null);
        Evidence evidence = new Evidence(resolved.value().evidence(), tlsEvidence,
                carrier == null ? null : carrier.http(), carrier == null ? null : carrier.token())
                .withTrace(diagnosis.ok() ? null : w.trace);
        diagnosis = dnsOverride(diagnosis, target, dnsEvidence, endpoint);
        diagnosis = w.providerFailure(diagnosis);
        return new TargetReport(target.name(), diagnosis, hint(diagnosis, target, w.layer), phases, addresses,
                w.withCredentialEvidence(evidence), checkedAt, null);
    }

    /** Every address of {@code p}'s family failed for want of a route (no default route, or none at all). */
    private static boolean unroutableFamily(List<AddressPath> paths, AddressPath p) {
        boolean v6 = p.address() instanceof java.net.Inet6Address;
        return paths.stream().filter(q -> (q.address() instanceof java.net.Inet6Address) == v6)
                .allMatch(q -> q.diagnosis().reason() == Reason.FIREWALL_NO_EGRESS_ROUTE
                        || (q.diagnosis().reason() == Reason.FIREWALL_NETWORK_UNREACHABLE
                        && q.diagnosis().summary().contains("ENETUNREACH (no route")));
    }

    /**
     * A connect failure to an interface endpoint's address is the endpoint's security group or the subnet's NACL;
     * an AccessDenied from it is its policy.
     */
    private static AddressPath endpointView(AddressPath p, Target target, Evidence.Dns dns) {
        Reason r = p.diagnosis().reason();
        boolean connectFailed = r.category() == dev.pullpath.diagnosis.Category.FIREWALL
                && p.phases().stream().anyMatch(ph -> !ph.ok() && ph.phase() == dev.pullpath.diagnosis.Phase.CONNECT);
        if (connectFailed) {
            return new AddressPath(p.address(), p.phases(), new Diagnosis(Reason.VPC_ENDPOINT_UNREACHABLE,
                    p.diagnosis().summary() + "; " + target.host() + " is a VPC interface endpoint ("
                            + VpcEndpoints.source(dns) + ")"), p.session(), p.connection(), p.http(), p.token());
        }
        boolean denied = r == Reason.REGISTRY_UNEXPECTED_RESPONSE && p.http() != null && p.http().statusLine() != null
                && p.http().statusLine().startsWith("403") && p.http().bodySnippet() != null
                && (p.http().bodySnippet().contains("AccessDenied")
                || p.http().bodySnippet().contains("endpoint policy"));
        if (denied) {
            return new AddressPath(p.address(), p.phases(), new Diagnosis(Reason.VPC_ENDPOINT_POLICY_DENIED,
                    p.diagnosis().summary()), p.session(), p.connection(), p.http(), p.token());
        }
        return p;
    }

    /**
     * A registry with no VPC endpoint answering private addresses: a warning while the path works; while it fails,
     * the failure stands and says where the address came from.
     */
    private static Diagnosis dnsOverride(Diagnosis d, Target target, Evidence.Dns dns, boolean endpoint) {
        if (endpoint || dns == null || !VpcEndpoints.hasNoPrivateEndpoint(target.host())) {
            return d;
        }
        List<String> privates = VpcEndpoints.privateAnswers(dns);
        if (privates.isEmpty()) {
            return d;
        }
        String what = target.host() + " has no VPC endpoint but resolves to private " + String.join(", ", privates)
                + " from " + VpcEndpoints.source(dns);
        if (d.reason() == Reason.OK) {
            return new Diagnosis(Reason.VPC_ENDPOINT_PRIVATE_DNS_OVERRIDE, what + "; the path through it works now");
        }
        return new Diagnosis(d.reason(), d.summary() + " (" + what + ")");
    }

    /**
     * A report walked on the default host because containerd ignores the node's hosts.toml for this registry: a
     * warning when that path works (the file's mirrors and settings are not in use), else the failure it meets, with
     * why containerd went there.
     */
    static TargetReport withIgnoredHostsFile(TargetReport report, String ignored, Target target) {
        Diagnosis d = report.diagnosis();
        Diagnosis warning = new Diagnosis(Reason.REGISTRY_HOSTS_CONFIG_IGNORED, ignored + "; that path works");
        Diagnosis out = d.reason() == Reason.OK ? warning : new Diagnosis(d.reason(), d.summary() + " (" + ignored + ")");
        String h = d.reason() == Reason.OK ? hint(warning, target)
                : (report.hint() == null || report.hint().isEmpty() ? "" : report.hint() + " ") + hint(warning, target);
        return new TargetReport(report.target(), out, h, report.phases(), report.addresses(), report.evidence(),
                report.checkedAt(), report.registryCheckedAt(), report.endpoints());
    }

    /**
     * The hint, with the layer host when the layer hop failed there: an existing reason (a firewall dropping its
     * SYNs, its certificate untrusted) is filled in with that host, and every one says what to allow for it.
     */
    static String hint(Diagnosis d, Target target, Evidence.Layer layer) {
        if (d.ok() || layer == null || layer.layerHost() == null || !d.summary().startsWith(LayerProbe.LAYER_HOST)) {
            return hint(d, target);
        }
        Target host = Target.parse(layer.layerHost());
        String own = d.reason().category() == dev.pullpath.diagnosis.Category.REGISTRY
                ? hint(d, target) : d.reason().hint(host.host(), host.port());
        return own + LayerHosts.advice(host.host(), target.host());
    }

    static String hint(Diagnosis d, Target target) {
        if (d.reason() == Reason.OK) {
            return "";
        }
        boolean pathReason = d.reason().category() == dev.pullpath.diagnosis.Category.FIREWALL
                || d.reason().category() == dev.pullpath.diagnosis.Category.VPC_ENDPOINT;
        return d.reason().hint(target.host(), target.port())
                + (pathReason ? dev.pullpath.config.PrivateEcr.endpointAdvice(target.host()) : "");
    }
}
