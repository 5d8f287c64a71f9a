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
    private final ProbeOptions defaults;
    private final Transport transport;
    private final TrustAnchors anchors;
    private final javax.net.ssl.X509ExtendedTrustManager trust;
    private final TokenCache tokens;

    /**
     * @param defaults  options for {@link #probe(Target)}; their CA files are the trust of every probe
     * @param ioThreads event-loop threads shared by all probes
     * @param tokens    where anonymous tokens are kept between probes, or null to fetch one per probe
     */
    public PathProber(ProbeOptions defaults, int ioThreads, TokenCache tokens) {
        this.defaults = defaults;
        this.anchors = TrustAnchors.load(defaults.caFiles());
        this.trust = anchors.trustManager();
        this.transport = new Transport(ioThreads);
        this.tokens = tokens;
    }

    public PathProber(ProbeOptions defaults, int ioThreads) {
        this(defaults, ioThreads, null);
    }

    /** The whole path with the default options. */
    public CompletableFuture<TargetReport> probe(Target target) {
        return probe(target, defaults, Depth.REGISTRY);
    }

    /** Walks the path to {@code depth} with {@code options}' timeout, resolver and bounds. */
    public CompletableFuture<TargetReport> probe(Target target, ProbeOptions options, Depth depth) {
        return new Walk(options, depth).probe(target);
    }

    /** One probe: the phases, made with this probe's timeout, and the state they share. */
    private final class Walk {
        private final ProbeOptions options;
        private final Depth depth;
        private final DnsProbe dns;
        private final ConnectProbe connect;
        private final TlsProbe tls;
        private final RegistryProbe registry;
        private final TokenProbe token;

        Walk(ProbeOptions options, Depth depth) {
            long timeout = options.timeoutMillis();
            this.options = options;
            this.depth = depth;
            this.dns = new DnsProbe(options, transport.group());
            this.connect = new ConnectProbe(transport, timeout);
            this.tls = new TlsProbe(trust, anchors.source(), timeout);
            this.registry = new RegistryProbe(timeout);
            this.token = new TokenProbe(timeout, tokens);
        }

        CompletableFuture<TargetReport> probe(Target target) {
            String checkedAt = Instant.now().toString();
            return dns.resolve(target.host()).thenCompose(resolved -> {
                if (!resolved.ok()) {
                    return CompletableFuture.completedFuture(new TargetReport(target.name(), resolved.failure(),
                            hint(resolved.failure(), target), List.of(resolved.report()), List.of(),
                            new Evidence(resolved.value() == null ? null : resolved.value().evidence(), null, null, null),
                            checkedAt, null));
                }
                List<InetAddress> addresses = capPerFamily(resolved.value().addresses());
                if (depth == Depth.DNS) {
                    return CompletableFuture.completedFuture(new TargetReport(target.name(), Diagnosis.OK, "",
                            List.of(resolved.report()), List.of(), new Evidence(resolved.value().evidence(), null,
                            null, null), checkedAt, null));
                }
                List<CompletableFuture<AddressPath>> walks = addresses.stream().map(a -> walk(a, target)).toList();
                return CompletableFuture.allOf(walks.toArray(CompletableFuture[]::new))
                        .thenCompose(v -> registryHops(target, walks.stream().map(CompletableFuture::join).toList()))
                        .thenApply(paths -> assemble(target, resolved, paths, checkedAt));
            });
        }

        private CompletableFuture<AddressPath> walk(InetAddress address, Target target) {
            return connect.connect(new InetSocketAddress(address, target.port())).thenCompose(connected -> {
                AddressPath start = new AddressPath(address, List.of(), Diagnosis.OK, null, null, null, null);
                if (!connected.ok()) {
                    return CompletableFuture.completedFuture(start.then(connected, null, null));
                }
                if (depth == Depth.TCP) {
                    connected.value().close();
                    return CompletableFuture.completedFuture(start.then(connected, null, null));
                }
                return tls.handshake(connected.value(), target.host(), target.port()).thenApply(handshake -> {
                    AddressPath p = start.then(connected, null, null).then(handshake, null, null);
                    // HTTP goes on the pipeline in the handshake's own event-loop turn: what the server sends right
                    // after it (an h2 SETTINGS frame, a close) must meet a decoder, whichever address carries /v2/.
                    HttpConnection http = handshake.ok() && depth == Depth.REGISTRY
                            ? HttpConnection.open(handshake.value().channel(), handshake.value().alpn(),
                            target.authority(), Version.userAgent(), options.maxBodyBytes()) : null;
                    return new AddressPath(address, p.phases, p.diagnosis, handshake.value(), http, null, null);
                });
            });
        }

        /** Runs /v2/ and the token hop on the first address through TLS; closes every other connection. */
        private CompletableFuture<List<AddressPath>> registryHops(Target target, List<AddressPath> paths) {
            int chosen = -1;
            for (int i = 0; i < paths.size(); i++) {
                AddressPath p = paths.get(i);
                if (p.diagnosis.ok() && chosen < 0 && depth == Depth.REGISTRY) {
                    chosen = i;
                } else {
                    p.close();
                }
            }
            if (chosen < 0) {
                return CompletableFuture.completedFuture(paths);
            }
            int index = chosen;
            AddressPath path = paths.get(index);
            String where = DnsProbe.hostPort(new InetSocketAddress(path.address, target.port()));
            HttpConnection http = path.connection;
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
                    checkedAt, null);
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
    }

    /**
     * The path to one address as far as it went. {@code session} is open when TLS succeeded and HTTP has not yet
     * run; {@code http} and {@code token} are set on the address that carried the registry hops.
     */
    private record AddressPath(InetAddress address, List<PhaseReport> phases, Diagnosis diagnosis,
                               TlsProbe.Session session, HttpConnection connection, Evidence.Http http,
                               Evidence.Token token) {

        AddressPath then(PhaseResult<?> step, Evidence.Http http, Evidence.Token token) {
            List<PhaseReport> more = new ArrayList<>(phases);
            more.add(step.report());
            return new AddressPath(address, List.copyOf(more), step.diagnosis(), session, connection, http, token);
        }

        void close() {
            if (connection != null) {
                connection.close();
            } else if (session != null && session.channel() != null) {
                session.channel().close();
            }
        }
    }

    private static String hint(Diagnosis d, Target target) {
        return d.ok() ? "" : d.reason().hint(target.host(), target.port());
    }

    @Override
    public void close() {
        transport.close();
    }
}
