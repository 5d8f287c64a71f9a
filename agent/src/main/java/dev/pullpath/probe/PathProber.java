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
import java.nio.file.Path;
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
    /** Trust for hosts.toml hosts with their own {@code ca}: built once per set of files and their mtimes. */
    private final java.util.Map<List<Path>, Trust> extraTrust = new java.util.concurrent.ConcurrentHashMap<>();
    /** Where probes start: they read files and may run credential helpers, which must not hold an event loop. */
    private final java.util.concurrent.ExecutorService blocking;

    private record Trust(TrustAnchors anchors, javax.net.ssl.X509ExtendedTrustManager manager, List<Long> stamps) {
    }

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
        java.util.concurrent.ThreadPoolExecutor pool = new java.util.concurrent.ThreadPoolExecutor(4, 4, 30,
                java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.LinkedBlockingQueue<>(),
                r -> {
                    Thread t = new Thread(r, "pullpath-probe-start");
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
        this.blocking = pool;
    }

    public PathProber(ProbeOptions defaults, int ioThreads) {
        this(defaults, ioThreads, null);
    }

    public ProbeOptions defaults() {
        return defaults;
    }

    /** The whole path with the default options. */
    public CompletableFuture<TargetReport> probe(Target target) {
        return probe(target, defaults, Depth.REGISTRY);
    }

    /** Walks the path to {@code depth} with {@code options}' timeout, resolver and bounds. */
    public CompletableFuture<TargetReport> probe(Target target, ProbeOptions options, Depth depth) {
        return probe(target, options, depth, null);
    }

    /** ... and, with {@code image}, ends with the HEAD of its manifest, as a pull starts. */
    public CompletableFuture<TargetReport> probe(Target target, ProbeOptions options, Depth depth,
                                                 ManifestProbe.Image image) {
        // hosts.toml, CA files, credential stores and their helpers block: never on the caller's event loop.
        return CompletableFuture.supplyAsync(() -> start(target, options, depth, image), blocking)
                .thenCompose(java.util.function.Function.identity());
    }

    private CompletableFuture<TargetReport> start(Target target, ProbeOptions options, Depth depth,
                                                  ManifestProbe.Image image) {
        java.util.Optional<ContainerdHosts> hosts = ContainerdHosts.find(options.containerdCertsDir(),
                target.authority());
        if (hosts.isEmpty()) {
            Walk walk = new Walk(options, depth, null, null, null);
            walk.image = depth == Depth.REGISTRY ? image : null;
            return bounded(walk.probe(target), options, 1);
        }
        String problem = hosts.get().problem();
        List<Trust> trusts = new ArrayList<>();
        for (ContainerdHosts.Endpoint endpoint : hosts.get().endpoints()) {
            try {
                trusts.add(trustFor(endpoint)); // containerd reads every host's CA files before the first request
            } catch (dev.pullpath.config.ConfigException e) {
                problem = problem != null ? problem : hosts.get().file() + ": " + endpoint.url() + ": "
                        + e.getMessage();
            }
        }
        if (problem != null) {
            Diagnosis d = new Diagnosis(Reason.REGISTRY_HOSTS_CONFIG_INVALID, problem);
            return CompletableFuture.completedFuture(new TargetReport(target.name(), d, hint(d, target), List.of(),
                    List.of(), null, Instant.now().toString(), null));
        }
        List<ContainerdHosts.Endpoint> route = hosts.get().endpoints();
        return bounded(probeRoute(target, options, depth, image, route, trusts, 0, new ArrayList<>()), options,
                route.size());
    }

    /**
     * However a probe's phases go, it ends within this: DNS, TCP, TLS, HTTP, token (twice) and slack, for each of
     * the {@code hosts} of its pull path in turn. Every phase has its own timeout; this catches a bug.
     */
    public static java.time.Duration bound(java.time.Duration phaseTimeout, int hosts) {
        return phaseTimeout.multipliedBy(8L * hosts).plusSeconds(5);
    }

    /** The bound of the longest pull path a probe with {@code options} can walk: for callers that read no files. */
    public static java.time.Duration maxBound(ProbeOptions options) {
        return bound(options.timeout(), options.containerdCertsDir() == null ? 1 : ContainerdHosts.MAX_HOSTS);
    }

    private static CompletableFuture<TargetReport> bounded(CompletableFuture<TargetReport> probe, ProbeOptions options,
                                                           int hosts) {
        return probe.orTimeout(bound(options.timeout(), hosts).toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /**
     * containerd's order: each host of hosts.toml until one answers, the server last. Hosts after the first that
     * works are not probed, as a pull would not reach them.
     */
    private CompletableFuture<TargetReport> probeRoute(Target target, ProbeOptions options, Depth depth,
                                                       ManifestProbe.Image image, List<ContainerdHosts.Endpoint> route,
                                                       List<Trust> trusts, int index, List<TargetReport> tried) {
        ContainerdHosts.Endpoint endpoint = route.get(index);
        Walk walk = new Walk(options, depth, endpoint, trusts.get(index), namespaceFor(endpoint, target));
        walk.image = depth == Depth.REGISTRY ? image : null;
        return walk.probe(endpoint.target(target.name())).thenCompose(report -> {
            tried.add(report);
            if (report.ok() || index + 1 >= route.size()) {
                return CompletableFuture.completedFuture(routeReport(target, route, tried));
            }
            return CompletableFuture.supplyAsync(() -> probeRoute(target, options, depth, image, route, trusts,
                    index + 1, tried), blocking).thenCompose(java.util.function.Function.identity());
        });
    }

    /**
     * containerd adds {@code ns=<registry>} to requests sent to a host other than the image's registry (a proxy,
     * in its words), except Docker Hub's own API host.
     */
    private static String namespaceFor(ContainerdHosts.Endpoint endpoint, Target target) {
        String hostAuthority = endpoint.target(target.name()).authority();
        boolean dockerHub = target.authority().equals("docker.io") && hostAuthority.equals("registry-1.docker.io");
        return hostAuthority.equals(target.authority()) || dockerHub ? null : target.authority();
    }

    /**
     * The target's diagnosis over the hosts tried: the host that served the pull decides, with a warning when
     * mirrors before it failed; when none served it, the first host's failure, as containerd reports it.
     */
    private static TargetReport routeReport(Target target, List<ContainerdHosts.Endpoint> route,
                                            List<TargetReport> tried) {
        List<dev.pullpath.diagnosis.EndpointReport> endpoints = new ArrayList<>();
        for (int i = 0; i < tried.size(); i++) {
            TargetReport r = tried.get(i);
            endpoints.add(new dev.pullpath.diagnosis.EndpointReport(route.get(i).describe(), r.ok(), r.category(),
                    r.reason(), r.summary()));
        }
        TargetReport last = tried.get(tried.size() - 1);
        TargetReport decided = last.ok() ? last : tried.get(0);
        Diagnosis d = decided.diagnosis();
        if (last.ok() && tried.size() > 1) {
            TargetReport mirror = tried.get(0);
            d = new Diagnosis(Reason.REGISTRY_MIRROR_UNAVAILABLE, route.get(0).url() + " fails (" + mirror.category()
                    + "/" + mirror.reason() + ": " + mirror.summary() + "); pulls fall back to " + route.get(
                    tried.size() - 1).url());
        } else if (!last.ok() && tried.size() > 1) {
            d = new Diagnosis(d.reason(), d.summary() + " (every host of the pull path fails: " + String.join(", ",
                    endpoints.stream().map(e -> e.endpoint() + " -> " + e.category() + "/" + e.reason()).toList())
                    + ")");
        }
        return new TargetReport(target.name(), d, d == decided.diagnosis() ? decided.hint()
                : hint(d, target), decided.phases(), decided.addresses(), decided.evidence(), decided.checkedAt(),
                decided.registryCheckedAt()).withEndpoints(endpoints);
    }

    private Trust trustFor(ContainerdHosts.Endpoint endpoint) {
        if (endpoint.caFiles().isEmpty()) {
            return null;
        }
        List<Path> files = new ArrayList<>(defaults.caFiles());
        files.addAll(endpoint.caFiles());
        List<Long> stamps = files.stream().map(f -> f.toFile().lastModified()).toList();
        // One entry per set of files, replaced when one of them changes: a rotated CA does not pile up.
        return extraTrust.compute(files, (k, old) -> {
            if (old != null && old.stamps().equals(stamps)) {
                return old;
            }
            TrustAnchors a = TrustAnchors.load(files);
            return new Trust(a, a.trustManager(), stamps);
        });
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
        private final ProxyTunnel proxyTunnel;
        private final AuthProbe auth;
        private final ManifestProbe manifest;
        private final TcpTraceroute traceroute;
        private final PathMtuCheck pathMtu;
        /** The trace of the address whose connect timed out first, when this probe may trace. */
        private final java.util.Map<InetAddress, Evidence.Trace> traces = new java.util.concurrent.ConcurrentHashMap<>();
        private final java.util.concurrent.atomic.AtomicBoolean traceTaken = new java.util.concurrent.atomic.AtomicBoolean();
        /** How this walk's own host is talked to (its hosts.toml settings); other hosts get the defaults. */
        private final HttpConnection.HostSettings hostSettings;
        private final boolean plainHttp;
        private String authority;
        private ManifestProbe.Image image;
        /** Stored logins for the target (found before the walk, off the event loop) and what each got back. */
        private List<dev.pullpath.credentials.Credential> credentials = List.of();
        private final java.util.Map<dev.pullpath.credentials.Credential, String> checked =
                new java.util.concurrent.ConcurrentHashMap<>();

        /**
         * @param endpoint  the hosts.toml host this walk goes to, or null for the target itself
         * @param own       that host's trust when it names its own CA files, else null (the prober's)
         * @param namespace the registry a mirror serves ({@code ns} on its requests), or null
         */
        Walk(ProbeOptions options, Depth depth, ContainerdHosts.Endpoint endpoint, Trust own, String namespace) {
            long timeout = options.timeoutMillis();
            this.options = options;
            this.depth = depth;
            this.dns = new DnsProbe(options, transport.group());
            this.connect = new ConnectProbe(transport, timeout);
            TlsProbe base = own == null ? new TlsProbe(trust, anchors.source(), anchors.operatorAnchors(), timeout)
                    : new TlsProbe(own.manager(), own.anchors().source(), own.anchors().operatorAnchors(), timeout);
            this.tls = endpoint != null && endpoint.skipVerify() ? base.skippingVerification() : base;
            this.hostSettings = endpoint == null ? HttpConnection.HostSettings.REGISTRY
                    : new HttpConnection.HostSettings(endpoint.apiRoot(), endpoint.headers(), namespace);
            this.plainHttp = endpoint != null && endpoint.plainHttp();
            this.registry = new RegistryProbe(timeout);
            this.token = new TokenProbe(timeout, tokens);
            this.proxyTunnel = new ProxyTunnel(timeout);
            this.auth = new AuthProbe(timeout);
            this.manifest = new ManifestProbe(timeout);
            this.pathMtu = new PathMtuCheck(transport, tls, timeout);
            this.traceroute = options.traceroute() && TcpTraceroute.available()
                    ? new TcpTraceroute(transport, timeout) : null;
        }

        /**
         * HEAD of the image's manifest, anonymously and then with each stored login. It decides only while the path
         * so far works: an earlier failure stays the diagnosis.
         */
        private CompletableFuture<AddressPath> withManifest(AddressPath path, HttpConnection http, Target target,
                                                            String where) {
            if (image == null) {
                return CompletableFuture.completedFuture(path);
            }
            CompletableFuture<AddressPath> chain = manifest.check(image, null, "anonymous", http, target, where,
                    this::dial).thenApply(m -> keepFirstFailure(path, m));
            for (dev.pullpath.credentials.Credential c : credentials.stream()
                    .filter(dev.pullpath.credentials.Credential::usable).filter(c -> c.username() != null)
                    .limit(4).toList()) {
                chain = chain.thenCompose(p -> manifest.check(image, c.basicAuthorization(), c.describe(), http, target, where,
                        this::dial).thenApply(m -> keepFirstFailure(p, m)));
            }
            return chain;
        }

        private AddressPath keepFirstFailure(AddressPath p, PhaseResult<?> step) {
            AddressPath next = p.then(step, p.http, p.token);
            return p.diagnosis.ok() ? next : new AddressPath(next.address, next.phases, p.diagnosis, next.session,
                    next.connection, next.http, next.token);
        }

        /** Repeats the registry check with each stored login (at most four), after the anonymous one. */
        private CompletableFuture<AddressPath> withCredentials(AddressPath path, HttpConnection http, Target target,
                                                               String where) {
            List<dev.pullpath.credentials.Credential> usable = credentials.stream()
                    .filter(dev.pullpath.credentials.Credential::usable).limit(4).toList();
            CompletableFuture<AddressPath> chain = CompletableFuture.completedFuture(path);
            for (dev.pullpath.credentials.Credential c : usable) {
                chain = chain.thenCompose(p -> auth.check(c, http, target, where, this::dial).thenApply(a -> {
                    checked.put(c, a.value() == null ? "" : a.value());
                    // The worst login decides: a client holding it pulls with it.
                    AddressPath next = p.then(a, p.http, p.token);
                    return a.ok() && !p.diagnosis.ok() && p.phases.stream().anyMatch(ph -> ph.phase() == Phase.AUTH)
                            ? new AddressPath(next.address, next.phases, p.diagnosis, next.session, next.connection,
                            next.http, next.token) : next;
                }));
            }
            return chain;
        }

        /**
         * A kubelet credential provider that failed: the kubelet then pulls without credentials, which a registry
         * that needs them refuses. It decides unless an earlier hop already failed.
         */
        private Diagnosis providerFailure(Diagnosis d) {
            if (!d.ok()) {
                return d;
            }
            return credentials.stream().filter(c -> c.source().startsWith("kubelet-credential-provider")
                    && c.problem() != null).findFirst()
                    .map(c -> new Diagnosis(Reason.AUTH_PROVIDER_FAILED, c.describe()))
                    .orElse(d);
        }

        /** The credentials as evidence: where each is, its user and expiry, what the registry said to it. */
        private Evidence withCredentialEvidence(Evidence e) {
            List<Evidence.Credential> found = credentials.stream().map(c -> new Evidence.Credential(c.source(),
                    c.location(), c.username(), c.expiresAt() == null ? null : c.expiresAt().toString(),
                    c.problem(), checked.get(c))).toList();
            return e.withCredentials(found);
        }

        CompletableFuture<TargetReport> probe(Target target) {
            String checkedAt = Instant.now().toString();
            authority = target.authority();
            if (depth == Depth.REGISTRY) {
                credentials = options.credentials().find(target.authority());
            }
            java.util.Optional<ProxySettings.Proxy> proxy = plainHttp ? java.util.Optional.empty()
                    : options.proxies().proxyFor(target.host(), target.port());
            if (proxy.isPresent() && depth != Depth.DNS) {
                return viaProxy(target, proxy.get(), checkedAt);
            }
            return dns.resolve(target.host()).thenCompose(resolved -> {
                if (!resolved.ok()) {
                    return CompletableFuture.completedFuture(new TargetReport(target.name(), resolved.failure(),
                            hint(resolved.failure(), target), List.of(resolved.report()), List.of(),
                            withCredentialEvidence(new Evidence(resolved.value() == null ? null
                                    : resolved.value().evidence(), null, null, null)), checkedAt, null));
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
                    return traced(start.then(connected, null, null), target.port());
                }
                if (depth == Depth.TCP || (plainHttp && depth == Depth.TLS)) {
                    connected.value().close();
                    return CompletableFuture.completedFuture(start.then(connected, null, null));
                }
                if (plainHttp) {
                    // An http:// mirror: the registry hops go over TCP as it is, as containerd sends them.
                    AddressPath p = start.then(connected, null, null);
                    Channel channel = connected.value();
                    CompletableFuture<AddressPath> opened = new CompletableFuture<>();
                    channel.eventLoop().execute(() -> opened.complete(new AddressPath(address, p.phases, p.diagnosis,
                            null, HttpConnection.open(channel, null, target.authority(), Version.userAgent(),
                            options.maxBodyBytes(), hostSettings), null, null)));
                    return opened;
                }
                return tls.handshake(connected.value(), target.host(), target.port()).thenCompose(handshake -> pathMtu
                        .recheck(new InetSocketAddress(address, target.port()), target.host(), handshake))
                        .thenApply(handshake -> {
                    AddressPath p = start.then(connected, null, null).then(handshake, null, null);
                    // HTTP goes on the pipeline in the handshake's own event-loop turn: what the server sends right
                    // after it (an h2 SETTINGS frame, a close) must meet a decoder, whichever address carries /v2/.
                    HttpConnection http = handshake.ok() && depth.reachesHttp()
                            ? http(handshake.value(), target.authority()) : null;
                    return new AddressPath(address, p.phases, p.diagnosis, handshake.value(), http, null, null);
                });
            });
        }

        /**
         * A connect that timed out, followed by a TCP traceroute of its address when this probe may trace: the
         * summary then says how far SYNs get. One trace per probe: the first address to time out.
         */
        private CompletableFuture<AddressPath> traced(AddressPath failed, int port) {
            if (traceroute == null || failed.diagnosis.reason() != Reason.FIREWALL_CONNECT_TIMEOUT
                    || !traceTaken.compareAndSet(false, true)) {
                return CompletableFuture.completedFuture(failed);
            }
            return traceroute.trace(new InetSocketAddress(failed.address, port)).thenApply(trace -> {
                traces.put(failed.address, trace);
                return new AddressPath(failed.address, failed.phases, new Diagnosis(failed.diagnosis.reason(),
                        failed.diagnosis.summary() + "; " + trace.summary()), null, null, null, null);
            });
        }

        /**
         * HTTP stages on a session whose handshake just completed, in that turn. hosts.toml settings (headers, API
         * root) go to the walk's own host only: a token realm elsewhere never sees a mirror's headers.
         */
        private HttpConnection http(TlsProbe.Session session, String to) {
            return HttpConnection.open(session.channel(), session.alpn(), to, Version.userAgent(),
                    options.maxBodyBytes(), to.equals(authority) ? hostSettings : HttpConnection.HostSettings.REGISTRY);
        }

        /** Runs /v2/ and the token hop on the first address through TLS; closes every other connection. */
        private CompletableFuture<List<AddressPath>> registryHops(Target target, List<AddressPath> paths) {
            int chosen = -1;
            for (int i = 0; i < paths.size(); i++) {
                AddressPath p = paths.get(i);
                if (p.diagnosis.ok() && chosen < 0 && depth.reachesHttp()) {
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
            return registryExchange(path, path.connection, target, where).thenApply(updated -> {
                List<AddressPath> out = new ArrayList<>(paths);
                out.set(index, updated);
                return out;
            });
        }

        /**
         * {@code GET /v2/} on {@code http}, then, on the whole path, the anonymous token, each stored login and the
         * manifest; closes the connection when done.
         */
        private CompletableFuture<AddressPath> registryExchange(AddressPath path, HttpConnection http, Target target,
                                                                String where) {
            return registry.check(http, where).thenCompose(check -> {
                AddressPath afterHttp = path.then(check, check.value().evidence(), null);
                if (!check.ok() || check.value().bearer() == null || depth != Depth.REGISTRY) {
                    return CompletableFuture.completedFuture(afterHttp);
                }
                return token.fetch(check.value().bearer(), http, target, where, this::dial)
                        .thenApply(t -> afterHttp.then(t, afterHttp.http, t.value()));
            }).thenCompose(p -> depth == Depth.REGISTRY && p.phases.stream().anyMatch(ph -> ph.phase() == Phase.HTTP
                    && ph.ok()) ? withCredentials(p, http, target, where)
                    .thenCompose(q -> withManifest(q, http, target, where))
                    : CompletableFuture.completedFuture(p))
                    .whenComplete((p, e) -> http.close());
        }

        /** Opens an HTTP connection to a host of the path (a token realm), trying its addresses in order. */
        private CompletableFuture<HttpConnection> dial(String host, int port) {
            java.util.Optional<ProxySettings.Proxy> proxy = options.proxies().proxyFor(host, port);
            if (proxy.isPresent()) {
                Target t = new Target(host, host, port);
                return tunnel(t, proxy.get(), Depth.TLS).thenApply(p -> {
                    if (!p.diagnosis().ok() || p.session() == null) {
                        throw new Dialer.DialException(p.diagnosis());
                    }
                    return http(p.session(), t.authority());
                });
            }
            return dns.resolve(host).thenCompose(resolved -> {
                if (!resolved.ok()) {
                    throw new Dialer.DialException(resolved.failure());
                }
                return dialAddresses(host, port, capPerFamily(resolved.value().addresses()), 0, null);
            });
        }

        /** The path through an HTTPS proxy as far as it went; {@code session} is open when TLS succeeded. */
        private record Tunnelled(List<PhaseReport> phases, Diagnosis diagnosis, InetAddress proxyAddress,
                                 TlsProbe.Session session, HttpConnection connection, Evidence.Dns dns,
                                 Evidence.Proxy proxy) {
        }

        /**
         * As containerd goes through a proxy: the proxy's name is resolved, its addresses tried in order, CONNECT
         * names the target (which the node does not resolve), and TLS to the target runs inside the tunnel.
         */
        private CompletableFuture<Tunnelled> tunnel(Target target, ProxySettings.Proxy proxy, Depth to) {
            String shown = proxy.redacted();
            return dns.resolve(proxy.host()).thenCompose(resolved -> {
                List<PhaseReport> phases = new ArrayList<>(List.of(resolved.report()));
                Evidence.Dns dnsEvidence = resolved.value() == null ? null : resolved.value().evidence();
                if (!resolved.ok()) {
                    return CompletableFuture.completedFuture(new Tunnelled(phases, new Diagnosis(
                            Reason.PROXY_UNREACHABLE, "proxy " + shown + ": its name does not resolve: "
                            + resolved.failure().summary()), null, null, null, dnsEvidence,
                            new Evidence.Proxy(shown, null, null, null, null)));
                }
                if (proxy.isSocks() || proxy.tlsToProxy()) {
                    return CompletableFuture.completedFuture(new Tunnelled(phases, new Diagnosis(
                            Reason.PROXY_UNREACHABLE, "proxy " + shown + ": only http:// proxies are probed by this "
                            + "release"), null, null, null, dnsEvidence, new Evidence.Proxy(shown, null, null, null,
                            null)));
                }
                List<InetAddress> addresses = capPerFamily(resolved.value().addresses());
                return connectInOrder(addresses, proxy.port(), 0, null).thenCompose(connected -> {
                    PhaseReport c = connected.report();
                    phases.add(new PhaseReport(Phase.PROXY_CONNECT, c.ok(), c.durationMs(), c.ok() ? c.detail()
                            + " (proxy " + shown + ")" : "proxy " + shown + ": " + c.detail()));
                    if (!connected.ok()) {
                        return CompletableFuture.completedFuture(new Tunnelled(phases, new Diagnosis(
                                Reason.PROXY_UNREACHABLE, "proxy " + shown + ": " + connected.failure().summary()),
                                null, null, null, dnsEvidence, new Evidence.Proxy(shown, null, null, null, null)));
                    }
                    Channel channel = connected.value();
                    InetSocketAddress remote = (InetSocketAddress) channel.remoteAddress();
                    String where = DnsProbe.hostPort(remote);
                    return proxyTunnel.open(channel, shown, where, target, proxy.proxyAuthorization().orElse(null))
                            .thenCompose(opened -> {
                                phases.add(opened.report());
                                Evidence.Proxy proxyEvidence = opened.value();
                                if (!opened.ok() || to == Depth.TCP) {
                                    if (opened.ok()) {
                                        channel.close();
                                    }
                                    return CompletableFuture.completedFuture(new Tunnelled(phases,
                                            opened.diagnosis(), remote.getAddress(), null, null, dnsEvidence,
                                            proxyEvidence));
                                }
                                return tls.handshake(channel, target.host(), target.port(), true).thenApply(h -> {
                                    phases.add(h.report());
                                    HttpConnection http = h.ok() && to.reachesHttp()
                                            ? http(h.value(), target.authority()) : null;
                                    return new Tunnelled(phases, h.diagnosis(), remote.getAddress(), h.value(), http,
                                            dnsEvidence, proxyEvidence);
                                });
                            });
                });
            });
        }

        /** Tries addresses in order until one connects, as Go's dialer does for a proxy. */
        private CompletableFuture<PhaseResult<Channel>> connectInOrder(List<InetAddress> addresses, int port,
                                                                       int index, PhaseResult<Channel> last) {
            if (index >= addresses.size()) {
                return CompletableFuture.completedFuture(last);
            }
            return connect.connect(new InetSocketAddress(addresses.get(index), port)).thenCompose(r -> r.ok()
                    ? CompletableFuture.completedFuture(r) : connectInOrder(addresses, port, index + 1, r));
        }

        private CompletableFuture<TargetReport> viaProxy(Target target, ProxySettings.Proxy proxy, String checkedAt) {
            return tunnel(target, proxy, depth).thenCompose(t -> {
                AddressPath path = new AddressPath(t.proxyAddress == null ? null : t.proxyAddress, t.phases.subList(1,
                        t.phases.size()), t.diagnosis, t.session, t.connection, null, null);
                CompletableFuture<AddressPath> done;
                if (t.connection == null) {
                    if (t.session != null && t.session.channel() != null && depth == Depth.TLS) {
                        t.session.channel().close();
                    }
                    done = CompletableFuture.completedFuture(path);
                } else {
                    String where = "via proxy " + proxy.redacted();
                    done = registryExchange(path, t.connection, target, where);
                }
                return done.thenApply(p -> {
                    List<PhaseReport> phases = new ArrayList<>(List.of(t.phases.get(0)));
                    phases.addAll(p.phases);
                    List<AddressReport> addresses = p.address == null ? List.of()
                            : List.of(new AddressReport(IpLiterals.text(p.address), IpLiterals.family(p.address),
                            p.diagnosis, p.phases));
                    Evidence evidence = withCredentialEvidence(new Evidence(t.dns, t.session == null ? null
                            : t.session.evidence(), p.http, p.token, t.proxy));
                    return new TargetReport(target.name(), p.diagnosis, hint(p.diagnosis, target), phases, addresses,
                            evidence, checkedAt, null);
                });
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
                    return CompletableFuture.completedFuture(http(handshake.value(), new Target(host, host, port)
                            .authority()));
                });
            });
        }

        private TargetReport assemble(Target target, PhaseResult<DnsProbe.Resolution> resolved,
                                      List<AddressPath> walked, String checkedAt) {
            Evidence.Dns dnsEvidence = resolved.value().evidence();
            boolean endpoint = VpcEndpoints.isInterfaceEndpoint(target.host(), dnsEvidence);
            List<AddressPath> paths = endpoint
                    ? walked.stream().map(p -> endpointView(p, target, dnsEvidence)).toList() : walked;
            // A family the node has no route for fails at once with ENETUNREACH, and Go's dialer (containerd's) falls
            // back to the other family at once: those addresses do not make the target fail if another works.
            boolean anyOk = paths.stream().anyMatch(p -> p.diagnosis.ok());
            java.util.function.Predicate<AddressPath> counts = p -> !(anyOk && unroutableFamily(paths, p));
            int worst = -1;
            for (int i = 0; i < paths.size(); i++) {
                if (counts.test(paths.get(i)) && (worst < 0
                        || paths.get(i).diagnosis.reason().worseThan(paths.get(worst).diagnosis.reason()))) {
                    worst = i;
                }
            }
            worst = Math.max(worst, 0);
            AddressPath representative = paths.get(worst);
            Diagnosis diagnosis = representative.diagnosis;
            long failing = paths.stream().filter(p -> !p.diagnosis.ok() && counts.test(p)).count();
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
                    carrier == null ? null : carrier.http, carrier == null ? null : carrier.token)
                    .withTrace(diagnosis.ok() ? null : traces.getOrDefault(representative.address,
                            traces.values().stream().findFirst().orElse(null)));
            diagnosis = dnsOverride(diagnosis, target, dnsEvidence, endpoint);
            diagnosis = providerFailure(diagnosis);
            return new TargetReport(target.name(), diagnosis, hint(diagnosis, target), phases, addresses,
                    withCredentialEvidence(evidence), checkedAt, null);
        }

        /** Every address of {@code p}'s family failed for want of a route (no default route, or none at all). */
    private static boolean unroutableFamily(List<AddressPath> paths, AddressPath p) {
        boolean v6 = p.address instanceof java.net.Inet6Address;
        return paths.stream().filter(q -> (q.address instanceof java.net.Inet6Address) == v6)
                .allMatch(q -> q.diagnosis.reason() == Reason.FIREWALL_NO_EGRESS_ROUTE
                        || (q.diagnosis.reason() == Reason.FIREWALL_NETWORK_UNREACHABLE
                        && q.diagnosis.summary().contains("ENETUNREACH (no route")));
    }

    /**
     * A connect failure to an interface endpoint's address is the endpoint's security group or the subnet's NACL;
     * an AccessDenied from it is its policy.
     */
    private static AddressPath endpointView(AddressPath p, Target target, Evidence.Dns dns) {
        Reason r = p.diagnosis.reason();
        boolean connectFailed = r.category() == dev.pullpath.diagnosis.Category.FIREWALL
                && p.phases.stream().anyMatch(ph -> !ph.ok() && ph.phase() == dev.pullpath.diagnosis.Phase.CONNECT);
        if (connectFailed) {
            return new AddressPath(p.address, p.phases, new Diagnosis(Reason.VPC_ENDPOINT_UNREACHABLE,
                    p.diagnosis.summary() + "; " + target.host() + " is a VPC interface endpoint ("
                            + VpcEndpoints.source(dns) + ")"), p.session, p.connection, p.http, p.token);
        }
        boolean denied = r == Reason.REGISTRY_UNEXPECTED_RESPONSE && p.http != null && p.http.statusLine() != null
                && p.http.statusLine().startsWith("403") && p.http.bodySnippet() != null
                && (p.http.bodySnippet().contains("AccessDenied") || p.http.bodySnippet().contains("endpoint policy"));
        if (denied) {
            return new AddressPath(p.address, p.phases, new Diagnosis(Reason.VPC_ENDPOINT_POLICY_DENIED,
                    p.diagnosis.summary()), p.session, p.connection, p.http, p.token);
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
        if (d.reason() == Reason.OK) {
            return "";
        }
        boolean pathReason = d.reason().category() == dev.pullpath.diagnosis.Category.FIREWALL
                || d.reason().category() == dev.pullpath.diagnosis.Category.VPC_ENDPOINT;
        return d.reason().hint(target.host(), target.port())
                + (pathReason ? dev.pullpath.config.PrivateEcr.endpointAdvice(target.host()) : "");
    }

    @Override
    public void close() {
        blocking.shutdownNow();
        transport.close();
    }
}
