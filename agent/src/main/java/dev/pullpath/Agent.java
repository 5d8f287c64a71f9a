package dev.pullpath;

import dev.pullpath.config.AgentConfig;
import dev.pullpath.config.ConfigLoader;
import dev.pullpath.config.ConfigWatcher;
import dev.pullpath.config.TargetConfig;
import dev.pullpath.export.AgentHttpServer;
import dev.pullpath.export.AgentMetrics;
import dev.pullpath.export.FleetMetrics;
import dev.pullpath.export.ProbeMetrics;
import dev.pullpath.export.StateChangeLog;
import dev.pullpath.probe.PathProber;
import dev.pullpath.probe.TokenCache;
import dev.pullpath.schedule.FleetCadence;
import dev.pullpath.schedule.FleetSize;
import dev.pullpath.schedule.FleetSizeWatch;
import dev.pullpath.schedule.ProbeScheduler;
import dev.pullpath.schedule.Prober;
import dev.pullpath.schedule.SchedulerTimer;
import dev.pullpath.schedule.StatusBoard;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon ({@code pullpath run}) put together: prober, scheduler, status board, metrics, logs, HTTP server and
 * the configuration watcher. Everything it starts, {@link #close()} stops, within about two seconds.
 */
public final class Agent implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Agent.class);
    /** The configuration is checked on inotify's word at once, and this often in case it says nothing. */
    private static final Duration WATCH_PERIOD = Duration.ofSeconds(30);

    private final Clock clock = Clock.systemUTC();
    private final ConfigLoader loader;
    private final AgentMetrics metrics;
    private final StatusBoard board;
    private final TokenCache tokens;
    private final ProbeScheduler scheduler;
    private final AgentHttpServer http;
    private final ConfigWatcher watcher;
    private final ScheduledExecutorService retirement;
    private final Instant started = Instant.now();
    private volatile PathProber prober;
    private final java.util.Set<PathProber> retiring = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile AgentConfig config;
    /** The node condition, Events and pod diagnoses; null unless kubernetes.enabled (then fabric8 is never loaded). */
    private volatile AutoCloseable kubernetes;
    /** One API server client for the reporter and the fleet's discovery, made when the first of them starts. */
    private final dev.pullpath.kubernetes.ApiClient kubeApi = new dev.pullpath.kubernetes.ApiClient();
    /** The fleet size's discovery and its sources (a fabric8 client among them), null when only configured. */
    private final java.util.List<AutoCloseable> fleetDiscovery = new java.util.ArrayList<>();

    private Agent(AgentConfig config, ConfigLoader loader) {
        this.config = config;
        this.loader = loader;
        this.metrics = new AgentMetrics(config.node(), config.zone());
        this.board = new StatusBoard(clock);
        this.tokens = new TokenCache(clock);
        this.prober = new PathProber(config.probe(), 1, tokens);
        FleetCadence fleet = new FleetCadence(config.fleet().registryBudget(),
                FleetSize.configured(config.fleet().size(), clock.instant()));
        this.scheduler = new ProbeScheduler(Prober.of(prober), board, clock, RandomGenerator.getDefault(),
                SchedulerTimer.system("pullpath-scheduler"), fleet);
        FleetMetrics.register(metrics.registry(), scheduler);
        this.retirement = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pullpath-retire");
            t.setDaemon(true);
            return t;
        });
        board.listen(new ProbeMetrics(metrics.registry(), config.phaseHistograms()));
        board.listen(new StateChangeLog(config.node()));
        AgentHttpServer server = null;
        try {
            server = AgentHttpServer.start(config.listen(), new AgentHttpServer.Sources(metrics.registry(), board,
                    scheduler, this::healthy, clock));
            scheduler.apply(config);
            metrics.configLoaded(true);
        } catch (RuntimeException e) {
            scheduler.close();
            prober.close();
            metrics.close();
            throw e;
        }
        this.http = server;
        if (config.kubernetes().enabled()) {
            try {
                kubernetes = dev.pullpath.kubernetes.KubernetesReporter.start(kubeApi, config, board, () -> prober,
                        () -> this.config, scheduler::borrowRegistryCheck, metrics.registry());
            } catch (RuntimeException e) {
                // No in-cluster configuration (no token, no KUBERNETES_SERVICE_HOST): probing goes on without it.
                Throwable root = e;
                while (root.getCause() != null) {
                    root = root.getCause();
                }
                LOG.error("kubernetes.enabled, but no Kubernetes client could be made; running without the node "
                        + "condition and Events: {} ({})", e.getMessage(), root.toString());
            }
        }
        discoverFleet(config.fleet(), fleet);
        this.watcher = config.file() == null ? null
                : new ConfigWatcher(config.file(), loader, this::reload, this::refuse).start(WATCH_PERIOD);
    }

    /**
     * The fleet size from the DaemonSet and/or the headless Service, refreshed; without either, fleet.size holds.
     * A source that cannot be made is logged and skipped: the configured size is the fallback.
     */
    private void discoverFleet(dev.pullpath.config.FleetOptions options, FleetCadence fleet) {
        java.util.List<FleetSizeWatch.Source> sources = new java.util.ArrayList<>();
        // The Service's EndpointSlices first: one list gives the size and this node's rank (its registry slots).
        // Only where the agent talks to the API server anyway; elsewhere (DNS only) the cadence stays random.
        if (options.service() != null && (options.daemonSet() != null || config.kubernetes().enabled())) {
            try {
                dev.pullpath.kubernetes.EndpointSliceMembers slices = dev.pullpath.kubernetes.EndpointSliceMembers
                        .inCluster(kubeApi, options.namespace(), options.service(), config.node(), clock);
                fleetDiscovery.add(slices);
                sources.add(slices);
            } catch (RuntimeException e) {
                LOG.error("fleet.service: no Kubernetes client could be made ({}); registry checks at random "
                        + "instants, not on slots", e.getMessage());
            }
        }
        if (options.daemonSet() != null) {
            try {
                dev.pullpath.kubernetes.DaemonSetSize ds = dev.pullpath.kubernetes.DaemonSetSize.inCluster(kubeApi,
                        options.namespace(), options.daemonSet());
                fleetDiscovery.add(ds);
                sources.add(ds);
            } catch (RuntimeException e) {
                LOG.error("fleet.daemonSet: no Kubernetes client could be made ({}); the fleet size comes from {}",
                        e.getMessage(), options.service() != null ? "DNS" : "fleet.size");
            }
        }
        if (options.service() != null) {
            sources.add(new dev.pullpath.schedule.HeadlessServiceCount(options.service(), options.dnsServer()));
        }
        if (!sources.isEmpty()) {
            fleetDiscovery.add(0, new FleetSizeWatch(fleet, sources, options.refresh(), clock,
                    RandomGenerator.getDefault()).start());
        }
    }

    public static Agent start(AgentConfig config, ConfigLoader loader) {
        Agent agent = new Agent(config, loader);
        LOG.info("pullpath {} running on node {}: {} target(s), listening on {}, configuration from {}",
                Version.get(), config.node(), config.targets().size(),
                dev.pullpath.config.Target.parse("https://" + bracket(agent.address()) + ":" + agent.address().getPort())
                        .name().substring("https://".length()),
                config.source());
        logProxyNotes(config);
        dev.pullpath.config.FleetOptions fleet = config.fleet();
        LOG.info("fleet: {} requests/s to each registry for the whole fleet, size {} until discovered ({}); each "
                + "registry target's interval is this node's share", fleet.registryBudget(), fleet.size(),
                fleet.discovers() ? "from " + fleet.discoverySources() : "nothing discovered");
        return agent;
    }

    private static String bracket(InetSocketAddress a) {
        String host = dev.pullpath.config.IpLiterals.text(a.getAddress());
        return host.contains(":") ? "[" + host + "]" : host;
    }

    public InetSocketAddress address() {
        return http.address();
    }

    public boolean ready() {
        return scheduler.ready();
    }

    public AgentConfig config() {
        return config;
    }

    private void reload(AgentConfig next) {
        AgentConfig previous = config;
        if (!next.listen().equals(previous.listen())) {
            LOG.warn("listen address changed to {}: that takes a restart; still serving on {}", next.listen(),
                    address());
        }
        if (next.phaseHistograms() != previous.phaseHistograms() || !next.node().equals(previous.node())
                || !next.zone().equals(previous.zone())) {
            LOG.warn("phaseHistograms, node and zone changes take a restart; the metrics keep phaseHistograms={}, "
                    + "node={}, zone={}", previous.phaseHistograms(), previous.node(), previous.zone());
        }
        if (!next.kubernetes().equals(previous.kubernetes())) {
            LOG.warn("kubernetes settings changed: that takes a restart; keeping {}", previous.kubernetes());
        }
        fleetReload(previous.fleet(), next.fleet());
        if (!next.probe().caFiles().equals(previous.probe().caFiles())) {
            PathProber old = prober;
            prober = new PathProber(next.probe(), 1, tokens);
            scheduler.prober(Prober.of(prober));
            // Probes still running on the old prober were started with the old timeouts.
            long drain = previous.targets().stream().map(TargetConfig::timeout).max(Duration::compareTo)
                    .orElse(Duration.ofSeconds(5)).toMillis() * 10;
            retiring.add(old);
            retirement.schedule(() -> {
                if (retiring.remove(old)) {
                    old.close();
                }
            }, drain, TimeUnit.MILLISECONDS);
        }
        config = next;
        scheduler.apply(next);
        metrics.configLoaded(true);
        LOG.info("configuration reloaded from {}: {} target(s)", next.source(), next.targets().size());
        logProxyNotes(next);
    }

    /**
     * The budget applies at once (the scheduler rescales every target's wait); a new fleet.size replaces a configured
     * size in force; where the size is discovered from takes a restart.
     */
    private void fleetReload(dev.pullpath.config.FleetOptions before, dev.pullpath.config.FleetOptions after) {
        FleetCadence fleet = scheduler.fleet();
        if (after.size() != before.size() && fleet.size().source().equals(FleetSize.CONFIGURED)) {
            fleet.size(FleetSize.configured(after.size(), clock.instant()));
        }
        if (!before.sameDiscovery(after)) {
            LOG.warn("fleet size discovery settings changed: that takes a restart; the size stays {} from {}",
                    fleet.size().nodes(), fleet.size().source());
        }
    }

    /** Which proxy the probes walk and why, once per load: a proxy that differs from containerd's is a wrong answer. */
    private static void logProxyNotes(AgentConfig config) {
        LOG.info("proxy: {}", config.probe().proxies().describe());
        config.probe().proxies().problems().forEach(p -> LOG.warn("proxy: {}", p));
    }

    private void refuse(String problem) {
        metrics.configLoaded(false);
        LOG.error("new configuration refused, the running one stays: {}", problem);
    }

    /**
     * Alive while every target keeps being probed: a wedged schedule is worth a restart. A target not probed yet
     * gets the same grace from the agent's start.
     */
    boolean healthy() {
        AgentConfig c = config;
        java.util.Map<String, Instant> last = scheduler.lastProbes();
        Instant now = clock.instant();
        for (TargetConfig t : c.targets()) {
            Duration grace = t.interval().plus(t.timeout().multipliedBy(10)).multipliedBy(3);
            Instant seen = Objects.requireNonNullElse(last.get(t.name()), started);
            if (Duration.between(seen, now).compareTo(grace) > 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        if (kubernetes != null) {
            try {
                kubernetes.close();
            } catch (Exception e) {
                LOG.debug("closing the Kubernetes reporter", e);
            }
        }
        if (watcher != null) {
            watcher.close();
        }
        for (AutoCloseable c : fleetDiscovery) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.debug("closing the fleet size discovery", e);
            }
        }
        scheduler.close();
        http.close();
        retirement.shutdownNow();
        prober.close();
        retiring.forEach(PathProber::close);
        retiring.clear();
        metrics.close();
    }
}
