package dev.pullpath.probe;

import dev.pullpath.Version;
import dev.pullpath.config.ContainerdHosts;
import dev.pullpath.config.CredentialSettings;
import dev.pullpath.config.IpLiterals;
import dev.pullpath.config.ProbeOptions;
import dev.pullpath.config.ProxySettings;
import dev.pullpath.config.Target;
import dev.pullpath.credentials.CredentialStores;
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
    /** The stores behind the options' credential settings (the kubelet provider's cache lives in them). */
    private final CredentialStoresBySettings logins = new CredentialStoresBySettings();
    /** Where probes start: they read files and may run credential helpers, which must not hold an event loop. */
    private final java.util.concurrent.ExecutorService blocking;

    /** A hosts.toml host's own trust (its {@code ca} files on top of the node's), and the files' mtimes. */
    record Trust(TrustAnchors anchors, javax.net.ssl.X509ExtendedTrustManager manager, List<Long> stamps) {
    }

    /** What every walk of this prober shares: the event loops, the node's trust, the token cache. */
    record Shared(Transport transport, TrustAnchors anchors, javax.net.ssl.X509ExtendedTrustManager trust,
                  TokenCache tokens) {
    }

    private final Shared shared;

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
        this.shared = new Shared(transport, anchors, trust, tokens);
        this.blocking = StartPool.create();
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
        return probe(target, options, depth, image, credentialStores(options.credentials()));
    }

    /**
     * ... asking {@code stores} for logins instead of the stores of the options' settings (a pod diagnosis adds the
     * pod's imagePullSecrets to those: {@code credentialStores(options.credentials()).plus(secrets)}).
     */
    public CompletableFuture<TargetReport> probe(Target target, ProbeOptions options, Depth depth,
                                                 ManifestProbe.Image image, CredentialStores stores) {
        // hosts.toml, CA files, credential stores and their helpers block: never on the caller's event loop.
        return CompletableFuture.supplyAsync(() -> start(target, options, depth, image, stores), blocking)
                .thenCompose(java.util.function.Function.identity());
    }

    /** The credential stores these settings name, the same ones for every probe while the settings hold. */
    public CredentialStores credentialStores(CredentialSettings settings) {
        return logins.storesFor(settings);
    }

    private CompletableFuture<TargetReport> start(Target target, ProbeOptions options, Depth depth,
                                                  ManifestProbe.Image image, CredentialStores stores) {
        java.util.Optional<ContainerdHosts> hosts = ContainerdHosts.find(options.containerdCertsDir(),
                target.authority(), options.containerdVersion());
        if (hosts.isEmpty()) {
            Walk walk = new Walk(shared, options, depth, null, null, null);
            walk.image = depth.includes(Phase.MANIFEST) ? image : null;
            walk.logins = stores;
            walk.pace = pace(options);
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
            return CompletableFuture.completedFuture(new TargetReport(target.name(), d, PathVerdicts.hint(d, target), List.of(),
                    List.of(), null, Instant.now(), null));
        }
        List<ContainerdHosts.Endpoint> route = hosts.get().endpoints();
        String ignored = hosts.get().ignored();
        return bounded(probeRoute(target, options, depth, image, stores, pace(options), route, trusts, 0,
                new ArrayList<>())
                .thenApply(report -> ignored == null ? report : PathVerdicts.withIgnoredHostsFile(report, ignored,
                        target)), options, route.size());
    }

    /**
     * However a probe's phases go, it ends within this: DNS, TCP, TLS, HTTP, token (twice) and slack, and the layer
     * hop's own bound, for each of the {@code hosts} of its pull path in turn. Every phase has its own timeout;
     * this catches a bug.
     */
    public static java.time.Duration bound(java.time.Duration phaseTimeout, int hosts) {
        return phaseTimeout.multipliedBy((8L + LayerProbe.BUDGET_TIMEOUTS) * hosts).plusSeconds(5);
    }

    /** The bound of the longest pull path a probe with {@code options} can walk: for callers that read no files. */
    public static java.time.Duration maxBound(ProbeOptions options) {
        return bound(options, options.containerdCertsDir() == null ? 1 : ContainerdHosts.MAX_HOSTS);
    }

    /** {@link #bound(java.time.Duration, int)}, plus the pauses of the request pace the options ask for. */
    static java.time.Duration bound(ProbeOptions options, int hosts) {
        return bound(options.timeout(), hosts).plus(options.registryPace().multipliedBy(
                (long) RegistryExchange.MAX_REQUESTS * hosts));
    }

    /** One pace for all the hosts of a probe's pull path: a mirror's requests and the server's follow each other. */
    private RequestPace pace(ProbeOptions options) {
        return RequestPace.of(options.registryPace(), transport.group());
    }

    private static CompletableFuture<TargetReport> bounded(CompletableFuture<TargetReport> probe, ProbeOptions options,
                                                           int hosts) {
        return Deadlines.within(probe, bound(options, hosts).toMillis(), "the probe");
    }

    /**
     * containerd's order: each host of hosts.toml until one answers, the server last. Hosts after the first that
     * works are not probed, as a pull would not reach them.
     */
    private CompletableFuture<TargetReport> probeRoute(Target target, ProbeOptions options, Depth depth,
                                                       ManifestProbe.Image image, CredentialStores stores,
                                                       RequestPace pace, List<ContainerdHosts.Endpoint> route,
                                                       List<Trust> trusts, int index, List<TargetReport> tried) {
        ContainerdHosts.Endpoint endpoint = route.get(index);
        Walk walk = new Walk(shared, options, depth, endpoint, trusts.get(index), namespaceFor(endpoint, target));
        walk.image = depth.includes(Phase.MANIFEST) ? image : null;
        walk.logins = stores;
        walk.pace = pace;
        return walk.probe(endpoint.target(target.name())).thenCompose(report -> {
            tried.add(report);
            if (report.ok() || index + 1 >= route.size()) {
                return CompletableFuture.completedFuture(routeReport(target, route, tried));
            }
            return CompletableFuture.supplyAsync(() -> probeRoute(target, options, depth, image, stores, pace,
                    route, trusts, index + 1, tried), blocking).thenCompose(java.util.function.Function.identity());
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
                : PathVerdicts.hint(d, target), decided.phases(), decided.addresses(), decided.evidence(), decided.checkedAt(),
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


    @Override
    public void close() {
        blocking.shutdownNow();
        transport.close();
    }
}
