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
 * One probe of one host: its hops, made with this probe's timeout, and the state they share (the stored logins
 * found for it, what each got back, the trace taken). {@link AddressWalk}, {@link ProxiedWalk},
 * {@link RegistryExchange} and {@link PathVerdicts} each do one part of the walk on it.
 */
final class Walk {
    final ProbeOptions options;
    final Depth depth;
    final DnsProbe dns;
    final ConnectProbe connect;
    final TlsProbe tls;
    final RegistryProbe registry;
    final TokenProbe token;
    final ProxyTunnel proxyTunnel;
    final AuthProbe auth;
    final ManifestProbe manifest;
    final LayerProbe layers;
    /** What the layer hop saw, when it ran: the evidence, and the host a layer-host failure names in its hint. */
    volatile Evidence.Layer layer;
    final TcpTraceroute traceroute;
    final PathMtuCheck pathMtu;
    /** The trace of the address whose connect timed out first, when this probe may trace. */
    final java.util.concurrent.atomic.AtomicBoolean traceTaken = new java.util.concurrent.atomic.AtomicBoolean();
    volatile Evidence.Trace trace;
    /** How this walk's own host is talked to (its hosts.toml settings); other hosts get the defaults. */
    final HttpConnection.HostSettings hostSettings;
    final boolean plainHttp;
    String authority;
    ManifestProbe.Image image;
    /** Where the stored logins are looked up (set by the prober before the walk starts). */
    dev.pullpath.credentials.CredentialStores logins = dev.pullpath.credentials.CredentialStores.none();
    /** Stored logins for the target (found before the walk, off the event loop) and what each got back. */
    List<dev.pullpath.credentials.Credential> credentials = List.of();
    final java.util.Map<dev.pullpath.credentials.Credential, String> checked =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** The pace of this probe's requests (one for all the hosts of its pull path: set by the prober). */
    RequestPace pace = RequestPace.NONE;
    /** Set when the probe starts: what its hops share. */
    ProbeContext ctx;
    final AddressWalk addresses = new AddressWalk(this);
    final RegistryExchange exchange = new RegistryExchange(this);
    final ProxiedWalk proxied = new ProxiedWalk(this);

    /**
     * @param endpoint  the hosts.toml host this walk goes to, or null for the target itself
     * @param own       that host's trust when it names its own CA files, else null (the prober's)
     * @param namespace the registry a mirror serves ({@code ns} on its requests), or null
     */
    Walk(PathProber.Shared shared, ProbeOptions options, Depth depth, ContainerdHosts.Endpoint endpoint,
         PathProber.Trust own, String namespace) {
        Transport transport = shared.transport();
        long timeout = options.timeoutMillis();
        this.options = options;
        this.depth = depth;
        this.dns = new DnsProbe(options, transport.group());
        this.connect = new ConnectProbe(transport, timeout);
        TlsProbe base = own == null
                ? new TlsProbe(shared.trust(), shared.anchors().source(), shared.anchors().operatorAnchors(), timeout)
                : new TlsProbe(own.manager(), own.anchors().source(), own.anchors().operatorAnchors(), timeout);
        this.tls = endpoint != null && endpoint.skipVerify() ? base.skippingVerification() : base;
        this.hostSettings = endpoint == null ? HttpConnection.HostSettings.REGISTRY
                : new HttpConnection.HostSettings(endpoint.apiRoot(), endpoint.headers(), namespace);
        this.plainHttp = endpoint != null && endpoint.plainHttp();
        this.registry = new RegistryProbe(timeout);
        this.token = new TokenProbe(timeout, shared.tokens());
        this.proxyTunnel = new ProxyTunnel(timeout);
        this.auth = new AuthProbe(timeout);
        this.manifest = new ManifestProbe(timeout);
        this.layers = new LayerProbe(timeout);
        this.pathMtu = new PathMtuCheck(transport, tls, timeout);
        this.traceroute = options.traceroute() && TcpTraceroute.available()
                ? new TcpTraceroute(transport, timeout) : null;
    }

    CompletableFuture<TargetReport> probe(Target target) {
        Instant checkedAt = Instant.now();
        authority = target.authority();
        RequestPace walkPace = pace;
        ctx = new ProbeContext(options, depth, target, options.timeoutMillis(), new Dialer() {
            @Override
            public CompletableFuture<HttpConnection> dial(String host, int port) {
                return Walk.this.dial(host, port);
            }

            @Override
            public RequestPace pace() {
                return walkPace;
            }
        });
        if (depth.includes(Phase.AUTH)) {
            credentials = logins.find(target.authority());
        }
        java.util.Optional<ProxySettings.Proxy> proxy = plainHttp ? java.util.Optional.empty()
                : options.proxies().proxyFor(target.host(), target.port());
        if (proxy.isPresent() && depth.includes(Phase.PROXY_CONNECT)) {
            return proxied.viaProxy(target, proxy.get(), checkedAt);
        }
        return dns.run(target.host(), ctx).thenCompose(resolved -> {
            if (!resolved.ok()) {
                return CompletableFuture.completedFuture(new TargetReport(target.name(), resolved.failure(),
                        PathVerdicts.hint(resolved.failure(), target), List.of(resolved.report()), List.of(),
                        withCredentialEvidence(new Evidence(resolved.value() == null ? null
                                : resolved.value().evidence(), null, null, null)), checkedAt, null));
            }
            List<InetAddress> resolvedAddresses = capPerFamily(resolved.value().addresses());
            if (!depth.includes(Phase.CONNECT)) {
                return CompletableFuture.completedFuture(new TargetReport(target.name(), Diagnosis.OK, "",
                        List.of(resolved.report()), List.of(), new Evidence(resolved.value().evidence(), null,
                        null, null), checkedAt, null));
            }
            List<CompletableFuture<AddressPath>> walks = resolvedAddresses.stream()
                    .map(a -> addresses.walk(a, target)).toList();
            return CompletableFuture.allOf(walks.toArray(CompletableFuture[]::new))
                    .thenCompose(v -> exchange.registryHops(target,
                            walks.stream().map(CompletableFuture::join).toList()))
                    .thenApply(paths -> PathVerdicts.assemble(this, target, resolved, paths, checkedAt));
        });
    }

    /**
     * HTTP stages on a session whose handshake just completed, in that turn. hosts.toml settings (headers, API
     * root) go to the walk's own host only: a token realm elsewhere never sees a mirror's headers.
     */
    HttpConnection http(TlsProbe.Session session, String to) {
        return HttpConnection.open(session.channel(), to, Version.userAgent(),
                options.maxBodyBytes(), to.equals(authority) ? hostSettings : HttpConnection.HostSettings.REGISTRY);
    }

    /** Opens an HTTP connection to a host of the path (a token realm), trying its addresses in order. */
    CompletableFuture<HttpConnection> dial(String host, int port) {
        java.util.Optional<ProxySettings.Proxy> proxy = options.proxies().proxyFor(host, port);
        if (proxy.isPresent()) {
            Target t = new Target(host, host, port);
            return proxied.tunnel(t, proxy.get(), Depth.TLS).thenApply(p -> {
                if (!p.diagnosis().ok() || p.session() == null) {
                    throw new Dialer.DialException(p.diagnosis());
                }
                return http(p.session(), t.authority());
            });
        }
        return dns.run(host, ctx).thenCompose(resolved -> {
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
        return connect.run(new InetSocketAddress(addresses.get(index), port), ctx).thenCompose(connected -> {
            if (!connected.ok()) {
                return dialAddresses(host, port, addresses, index + 1, connected.failure());
            }
            return tls.run(new TlsProbe.Peer(connected.value(), host, port, false), ctx).thenCompose(handshake -> {
                if (!handshake.ok()) {
                    return dialAddresses(host, port, addresses, index + 1, handshake.failure());
                }
                return CompletableFuture.completedFuture(http(handshake.value(), new Target(host, host, port)
                        .authority()));
            });
        });
    }

    /**
     * A kubelet credential provider that failed: the kubelet then pulls without credentials, which a registry
     * that needs them refuses. It decides unless an earlier hop already failed.
     */
    Diagnosis providerFailure(Diagnosis d) {
        if (!d.ok()) {
            return d;
        }
        return credentials.stream().filter(c -> c.source().startsWith("kubelet-credential-provider")
                && c.problem() != null).findFirst()
                .map(c -> new Diagnosis(Reason.AUTH_PROVIDER_FAILED, c.describe()))
                .orElse(d);
    }

    /**
     * The credentials as evidence: where each is, its user and expiry, what the registry said to it; and the
     * layer hop's requests, when it ran.
     */
    Evidence withCredentialEvidence(Evidence e) {
        List<Evidence.Credential> found = credentials.stream().map(c -> new Evidence.Credential(c.source(),
                c.location(), c.username(), c.expiresAt(), c.problem(), checked.get(c))).toList();
        return e.withCredentials(found).withLayer(layer);
    }

    List<InetAddress> capPerFamily(List<InetAddress> all) {
        List<InetAddress> v4 = all.stream().filter(a -> a instanceof java.net.Inet4Address).distinct()
                .limit(options.maxAddresses()).toList();
        List<InetAddress> v6 = all.stream().filter(a -> a instanceof java.net.Inet6Address).distinct()
                .limit(options.maxAddresses()).toList();
        List<InetAddress> out = new ArrayList<>(v4);
        out.addAll(v6);
        return out;
    }
}
