package dev.pullpath.probe;

import dev.pullpath.Version;
import dev.pullpath.config.IpLiterals;
import dev.pullpath.config.ProbeOptions;
import dev.pullpath.config.Target;
import dev.pullpath.diagnosis.AddressReport;
import dev.pullpath.diagnosis.Diagnosis;
import dev.pullpath.diagnosis.Evidence;
import dev.pullpath.diagnosis.PhaseReport;
import dev.pullpath.diagnosis.TargetReport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Walks the path a pull walks for one target: DNS, then TCP and TLS to every resolved address at once, then the
 * registry's {@code /v2/} and anonymous token on the first address that got through TLS (one registry request per
 * probe, whatever the number of addresses: a fleet must not multiply its load on the registry). The target's
 * diagnosis is the worst over its addresses; every address keeps its own.
 */
public final class PathProber implements AutoCloseable {
    private final ProbeOptions options;
    private final Transport transport;
    private final DnsProbe dns;
    private final ConnectProbe connect;
    private final TlsProbe tls;
    private final RegistryProbe registry;
    private final TokenProbe token;

    public PathProber(ProbeOptions options, int ioThreads) {
        this.options = options;
        TrustAnchors anchors = TrustAnchors.load(options.caFiles());
        this.transport = new Transport(ioThreads);
        long timeout = options.timeoutMillis();
        this.dns = new DnsProbe(options, transport.group());
        this.connect = new ConnectProbe(transport, timeout);
        this.tls = new TlsProbe(anchors, timeout);
        this.registry = new RegistryProbe(timeout);
        this.token = new TokenProbe(timeout);
    }

    /**
     * The path to one address as far as it went. {@code session} is open when TLS succeeded and HTTP has not yet
     * run; {@code http} and {@code token} are set on the address that carried the registry hops.
     */
    private record AddressPath(InetAddress address, List<PhaseReport> phases, Diagnosis diagnosis,
                               TlsProbe.Session session, Evidence.Http http, Evidence.Token token) {

        AddressPath then(PhaseResult<?> step, Evidence.Http http, Evidence.Token token) {
            List<PhaseReport> more = new ArrayList<>(phases);
            more.add(step.report());
            return new AddressPath(address, List.copyOf(more), step.diagnosis(), session, http, token);
        }
    }

    public CompletableFuture<TargetReport> probe(Target target) {
        String checkedAt = Instant.now().toString();
        return dns.resolve(target.host()).thenCompose(resolved -> {
            if (!resolved.ok()) {
                return CompletableFuture.completedFuture(new TargetReport(target.name(), resolved.failure(),
                        hint(resolved.failure(), target), List.of(resolved.report()), List.of(),
                        new Evidence(resolved.value() == null ? null : resolved.value().evidence(), null, null, null),
                        checkedAt));
            }
            List<InetAddress> addresses = capPerFamily(resolved.value().addresses());
            List<CompletableFuture<AddressPath>> walks = addresses.stream().map(a -> walk(a, target)).toList();
            return CompletableFuture.allOf(walks.toArray(CompletableFuture[]::new))
                    .thenCompose(v -> registryHops(target, walks.stream().map(CompletableFuture::join).toList()))
                    .thenApply(paths -> assemble(target, resolved, paths, checkedAt));
        });
    }

    private CompletableFuture<AddressPath> walk(InetAddress address, Target target) {
        return connect.connect(new InetSocketAddress(address, target.port())).thenCompose(connected -> {
            AddressPath start = new AddressPath(address, List.of(), Diagnosis.OK, null, null, null);
            if (!connected.ok()) {
                return CompletableFuture.completedFuture(start.then(connected, null, null));
            }
            return tls.handshake(connected.value(), target.host(), target.port()).thenApply(handshake -> {
                AddressPath p = start.then(connected, null, null).then(handshake, null, null);
                return new AddressPath(address, p.phases, p.diagnosis, handshake.value(), null, null);
            });
        });
    }

    /** Runs /v2/ and the token hop on the first address through TLS; closes every other connection. */
    private CompletableFuture<List<AddressPath>> registryHops(Target target, List<AddressPath> paths) {
        int chosen = -1;
        for (int i = 0; i < paths.size(); i++) {
            AddressPath p = paths.get(i);
            if (p.diagnosis.ok() && chosen < 0) {
                chosen = i;
            } else if (p.session != null && p.session.channel() != null) {
                p.session.channel().close();
            }
        }
        if (chosen < 0) {
            return CompletableFuture.completedFuture(paths);
        }
        int index = chosen;
        AddressPath path = paths.get(index);
        TlsProbe.Session session = path.session;
        String where = DnsProbe.hostPort(new InetSocketAddress(path.address, target.port()));
        HttpConnection http = HttpConnection.open(session.channel(), session.alpn(), target.authority(),
                Version.userAgent(), options.maxBodyBytes());
        return registry.check(http, where).thenCompose(check -> {
            AddressPath afterHttp = path.then(check, check.value().evidence(), null);
            if (!check.ok() || check.value().bearer() == null) {
                return CompletableFuture.completedFuture(afterHttp);
            }
            return token.fetch(check.value().bearer(), http, target, where, this::dial)
                    .thenApply(t -> afterHttp.then(t, afterHttp.http, t.value()));
        }).whenComplete((p, e) -> http.close()).thenApply(updated -> {
            List<AddressPath> out = new ArrayList<>(paths);
            out.set(index, updated);
            return out;
        });
    }

    /** Opens an HTTP connection to a host of the path (a token realm), trying its addresses in order. */
    private CompletableFuture<HttpConnection> dial(String host, int port) {
        return dns.resolve(host).thenCompose(resolved -> {
            if (!resolved.ok()) {
                throw new Dialer.DialException(resolved.failure());
            }
            return dialAddresses(host, port, capPerFamily(resolved.value().addresses()), 0, null);
        });
    }

    private CompletableFuture<HttpConnection> dialAddresses(String host, int port, List<InetAddress> addresses,
                                                            int index, Diagnosis lastFailure) {
        if (index >= addresses.size()) {
            throw new Dialer.DialException(lastFailure);
        }
        return connect.connect(new InetSocketAddress(addresses.get(index), port)).thenCompose(connected -> {
            if (!connected.ok()) {
                return dialAddresses(host, port, addresses, index + 1, connected.failure());
            }
            return tls.handshake(connected.value(), host, port).thenCompose(handshake -> {
                if (!handshake.ok()) {
                    return dialAddresses(host, port, addresses, index + 1, handshake.failure());
                }
                String authority = (host.contains(":") ? "[" + host + "]" : host)
                        + (port == Target.HTTPS_PORT ? "" : ":" + port);
                return CompletableFuture.completedFuture(HttpConnection.open(handshake.value().channel(),
                        handshake.value().alpn(), authority, Version.userAgent(), options.maxBodyBytes()));
            });
        });
    }

    private TargetReport assemble(Target target, PhaseResult<DnsProbe.Resolution> resolved, List<AddressPath> paths,
                                  String checkedAt) {
        int worst = 0;
        for (int i = 1; i < paths.size(); i++) {
            if (paths.get(i).diagnosis.reason().worseThan(paths.get(worst).diagnosis.reason())) {
                worst = i;
            }
        }
        AddressPath representative = paths.get(worst);
        Diagnosis diagnosis = representative.diagnosis;
        long failing = paths.stream().filter(p -> !p.diagnosis.ok()).count();
        if (!diagnosis.ok() && paths.size() > 1) {
            diagnosis = new Diagnosis(diagnosis.reason(), diagnosis.summary() + " (" + failing + " of "
                    + paths.size() + " addresses fail)");
        }
        List<PhaseReport> phases = new ArrayList<>();
        phases.add(resolved.report());
        phases.addAll(representative.phases);
        List<AddressReport> addresses = paths.stream().map(p -> new AddressReport(IpLiterals.text(p.address),
                IpLiterals.family(p.address), p.diagnosis, p.phases)).toList();
        Evidence.Tls tlsEvidence = representative.session != null ? representative.session.evidence()
                : paths.stream().filter(p -> p.session != null).map(p -> p.session.evidence()).findFirst().orElse(null);
        AddressPath carrier = paths.stream().filter(p -> p.http != null).findFirst().orElse(null);
        Evidence evidence = new Evidence(resolved.value().evidence(), tlsEvidence,
                carrier == null ? null : carrier.http, carrier == null ? null : carrier.token);
        return new TargetReport(target.name(), diagnosis, hint(diagnosis, target), phases, addresses, evidence,
                checkedAt);
    }

    private List<InetAddress> capPerFamily(List<InetAddress> all) {
        List<InetAddress> v4 = all.stream().filter(a -> a instanceof java.net.Inet4Address).distinct()
                .limit(options.maxAddresses()).toList();
        List<InetAddress> v6 = all.stream().filter(a -> a instanceof java.net.Inet6Address).distinct()
                .limit(options.maxAddresses()).toList();
        List<InetAddress> out = new ArrayList<>(v4);
        out.addAll(v6);
        return out;
    }

    private static String hint(Diagnosis d, Target target) {
        return d.ok() ? "" : d.reason().hint(target.host(), target.port());
    }

    @Override
    public void close() {
        transport.close();
    }
}
