package dev.pullpath.schedule;

import dev.pullpath.config.AgentConfig;
import dev.pullpath.config.ProbeOptions;
import dev.pullpath.config.TargetConfig;
import dev.pullpath.diagnosis.Phase;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.probe.Deadlines;
import dev.pullpath.probe.Depth;
import dev.pullpath.probe.PathProber;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Probes every configured target on its own interval, so that a fleet never probes in lockstep and never hammers a
 * registry:
 * <ul>
 *   <li>the first probe of a target runs within a quarter second of start (cheap hops only, no registry request,
 *       so the agent is ready fast; the spread only keeps a node's own targets apart),
 *       the second after a random part of its interval (which spreads a fleet's nodes over the interval), and
 *       every later one after its interval ±10 %;
 *   <li>a target's next probe is scheduled when its previous one has finished, so a probe never overlaps itself;
 *   <li>at most {@code maxConcurrentProbes} run at once, the others queue;
 *   <li>the cheap hops (DNS, TCP, TLS) run every interval on every node: they do not touch the registry's API;
 *   <li>the registry hops ({@code /v2/}, token, logins, manifest, layer) at the fleet's cadence
 *       ({@link FleetCadence}: the fleet's budget divided among its nodes), the first at a random point of the
 *       whole interval, a target's phase kept across reloads, backing off while the registry answers 429
 *       ({@link RegistryCadence}).
 * </ul>
 * Time and probes come through two seams, {@link SchedulerTimer} and {@link Prober}, so that the fleet simulation
 * ({@code bench/fleet-sim.sh}) runs this code for thousands of nodes on a virtual clock.
 */
public final class ProbeScheduler implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProbeScheduler.class);
    private static final Duration FIRST_PROBE_WINDOW = Duration.ofMillis(250);

    private volatile Prober prober;
    private final StatusBoard board;
    private final Clock clock;
    private final RandomGenerator random;
    private final SchedulerTimer timer;
    private final FleetCadence fleet;
    private final Map<String, Job> jobs = new ConcurrentHashMap<>();
    private final Admission admission = new Admission(() -> this.config.maxConcurrentProbes(), () -> this.closed);
    private volatile AgentConfig config;
    private final OnDemandProbes onDemand;
    private volatile boolean closed;
    private volatile boolean ready;
    private final Map<String, Instant> lastProbe = new ConcurrentHashMap<>();
    /** Per registry host: the checks pod diagnoses borrowed, which the schedule skips. */
    private final Map<String, RegistryAllowance> allowances = new ConcurrentHashMap<>();

    /** A scheduler on the system's timer for a node alone (fleet size 1, the default budget). */
    public ProbeScheduler(PathProber prober, StatusBoard board, Clock clock, RandomGenerator random) {
        this(Prober.of(prober), board, clock, random, SchedulerTimer.system("pullpath-scheduler"),
                FleetCadence.standalone(clock));
    }

    /** {@code clock} and {@code timer} must tell the same time; {@code fleet} is shared with fleet-size discovery. */
    public ProbeScheduler(Prober prober, StatusBoard board, Clock clock, RandomGenerator random, SchedulerTimer timer,
                          FleetCadence fleet) {
        this.prober = prober;
        this.board = board;
        this.clock = clock;
        this.random = random;
        this.timer = timer;
        this.fleet = fleet;
        this.onDemand = new OnDemandProbes(clock);
    }

    /**
     * Starts, or moves to, {@code next}. Unchanged targets keep their schedule; a target whose endpoint and kind
     * are unchanged (its labels, interval or timeout edited) keeps its registry state, backoff included, so that a
     * ConfigMap edit rolled to a whole fleet does not make every node ask the registry at once.
     */
    public synchronized void apply(AgentConfig next) {
        this.config = next;
        fleet.budget(next.fleet().registryBudget());
        onDemand.limit(next.maxConcurrentProbes());
        Set<String> wanted = new HashSet<>();
        for (TargetConfig t : next.targets()) {
            wanted.add(t.name());
            Job existing = jobs.get(t.name());
            if (existing != null && existing.target.equals(t)) {
                continue;
            }
            Job job = new Job(t);
            if (existing != null) {
                existing.cancel();
                if (existing.target.target().equals(t.target()) && existing.target.kind() == t.kind()) {
                    job.inherit(existing);
                }
            }
            jobs.put(t.name(), job);
            Duration startWindow = t.interval().compareTo(FIRST_PROBE_WINDOW) < 0 ? t.interval() : FIRST_PROBE_WINDOW;
            job.scheduleIn(fraction(startWindow, random.nextDouble()));
        }
        for (String name : Set.copyOf(jobs.keySet())) {
            if (!wanted.contains(name)) {
                jobs.remove(name).cancel();
                lastProbe.remove(name);
                board.remove(name);
            }
        }
        admission.drain();
    }

    /** Probes started from now on use {@code next}; the caller closes the previous one when it has drained. */
    public void prober(Prober next) {
        this.prober = next;
    }

    /**
     * True once every configured target has been probed at least once; then it stays true, so that a reload
     * adding a target does not take the pod out of service for a second.
     */
    public boolean ready() {
        if (!ready && !jobs.isEmpty() && lastProbe.keySet().containsAll(jobs.keySet())) {
            ready = true;
        }
        return ready;
    }

    /** When each target's last probe was recorded; a target missing here has not been probed yet. */
    public Map<String, Instant> lastProbes() {
        return Map.copyOf(lastProbe);
    }

    public AgentConfig config() {
        return config;
    }

    public FleetCadence fleet() {
        return fleet;
    }

    /** Where a registry target's checks stand; null for a target that is not a registry's. */
    public RegistrySchedule registrySchedule(String target) {
        Job job = jobs.get(target);
        return job == null || job.target.kind() != dev.pullpath.config.TargetKind.REGISTRY ? null : job.schedule();
    }

    /**
     * A pod diagnosis's claim on {@code registry}'s hops now: granted, it borrows this node's next scheduled check
     * of that registry, which is then skipped ({@link RegistryAllowance}). A fleet of one shares no budget: granted,
     * nothing borrowed, as before.
     */
    public RegistryAllowance.Grant borrowRegistryCheck(dev.pullpath.config.Target registry) {
        if (fleet.size().nodes() == 1) {
            return RegistryAllowance.Grant.ALONE;
        }
        String authority = registry.authority();
        var scheduled = jobs.values().stream().filter(j -> !j.cancelled && j.target.kind() == dev.pullpath.config
                .TargetKind.REGISTRY && j.authority.equals(authority))
                .map(Job::scheduled).toList();
        return allowances.computeIfAbsent(authority, a -> new RegistryAllowance())
                .borrow(clock.instant(), fleet, scheduled);
    }

    /**
     * Probes {@code target} now, outside the schedule (for {@code /probe}; see {@link OnDemandProbes}): never the
     * registry hops of a configured target, at most one probe per target per {@code onDemandSpacing}. Null when as
     * many on-demand probes as the concurrency limit are already running.
     */
    public CompletableFuture<TargetReport> probeNow(TargetConfig target) {
        Job job = jobs.get(target.name());
        boolean configured = job != null && job.target.equals(target);
        return onDemand.probe(target, config.onDemandSpacing(), prober, options(target),
                configured ? job::lastFull : null);
    }

    private ProbeOptions options(TargetConfig t) {
        ProbeOptions o = config.probe().withTimeout(t.timeout());
        return t.proxies() == null ? o : o.withProxies(t.proxies());
    }

    private static Duration fraction(Duration d, double f) {
        return Duration.ofNanos((long) (d.toNanos() * f));
    }

    /** {@code d} scaled by a random factor in [1 - spread, 1 + spread]. */
    private Duration jitter(Duration d, double spread) {
        return fraction(d, 1 - spread + 2 * spread * random.nextDouble());
    }

    /** One target's schedule and the state its probes carry forward. */
    private final class Job implements Admission.Probe {
        final TargetConfig target;
        /** The registry's host:port, built once: the schedule compares and looks it up several times a probe. */
        final String authority;
        volatile boolean cancelled;
        private SchedulerTimer.Scheduled next;
        private RegistryCadence registry;
        /** Read by the other targets of the same registry, which share its budget: volatile, no lock taken. */
        private volatile TargetReport lastFull;
        private long runs;
        private TraceRation traces = new TraceRation();

        /**
         * The first registry check anywhere in the whole interval, at start as after a reload: a fleet started
         * together checks as evenly as ever. A fleet of one has nobody to burst with: within two intervals.
         */
        Job(TargetConfig target) {
            this.target = target;
            this.authority = target.target().authority();
            this.registry = RegistryCadence.starting(this::registryInterval, clock.instant(), random,
                    fleet.size().nodes() == 1 ? target.interval().multipliedBy(2) : FleetCadence.LONGEST)
                    .slotted(this::slot, clock.instant(), fleet.rankWithin());
        }

        /** This node's slot for the target's registry at or after {@code t}; null while the rank is unknown. */
        private Instant slot(Instant t, Duration interval) {
            return fleet.slotAtOrAfter(t, interval, authority);
        }

        /**
         * This node's interval for the target: the fleet's, for all the requests this node's targets of the same
         * registry send per check (they share one budget).
         */
        Duration registryInterval() {
            int requests = 0;
            for (Job j : jobs.values()) {
                if (j.target.kind() == target.kind() && j.authority.equals(authority) && !j.cancelled) {
                    requests += RequestsPerCheck.of(j.target, j.lastFull);
                }
            }
            return fleet.interval(target.registryInterval(), Math.max(requests, RequestsPerCheck.of(target, lastFull)));
        }

        synchronized RegistrySchedule schedule() {
            Instant due = registry.dueAt(clock.instant());
            FleetRank rank = registry.onSlots() ? fleet.rank() : null;
            return new RegistrySchedule(registry.checkedOnce(), due, registry.interval(),
                    RequestsPerCheck.of(target, lastFull), rank,
                    rank == null ? null : fleet.previousSlot(due, registry.interval()), registry.lastCheckAt());
        }

        synchronized void inherit(Job previous) {
            synchronized (previous) {
                registry = previous.registry.forTarget(this::registryInterval);
                lastFull = previous.lastFull;
                runs = previous.runs;
                traces = previous.traces;
            }
        }

        synchronized RegistryAllowance.Scheduled scheduled() {
            return new RegistryAllowance.Scheduled(schedule(), lastFull);
        }

        /**
         * Whether a pod diagnosis already ran this due check's registry hops: then the check is skipped, its due
         * instant consumed. The target keeps its own last check rather than take the diagnosis's as its own: that
         * walked another image (and perhaps the pod's logins), whose verdict (a missing tag) is not this target's.
         */
        private boolean borrowed() {
            RegistryAllowance a = allowances.get(authority);
            if (a == null || !a.repay()) {
                return false;
            }
            registry.skipped(clock.instant());
            return true;
        }

        synchronized TargetReport lastFull() {
            return lastFull;
        }

        synchronized void scheduleIn(Duration delay) {
            if (!cancelled && !closed) {
                next = timer.schedule(delay, () -> admission.admit(this));
            }
        }

        synchronized void cancel() {
            cancelled = true;
            if (next != null) {
                next.cancel();
            }
        }

        @Override
        public boolean cancelled() {
            return cancelled;
        }

        @Override
        public void run() {
            boolean registryDue;
            synchronized (this) {
                registryDue = target.kind() == dev.pullpath.config.TargetKind.REGISTRY && registry.due(clock.instant())
                        && !borrowed();
            }
            Depth depth = Depth.of(target.kind(), registryDue);
            CompletableFuture<TargetReport> probe;
            try {
                ProbeOptions options = registryDue ? options(target).withRegistryPace(fleet.requestPace(
                        RequestsPerCheck.of(target, lastFull))) : options(target);
                // The target's image (image:, or public.ecr.aws's default) adds the manifest and layer hops when the
                // registry hops are due; PathProber drops it at a cheaper depth.
                probe = Deadlines.within(prober.probe(target.target(), options.withTraceroute(options.traceroute()
                        && tracingAllowed()), depth, target.image() == null ? null
                        : dev.pullpath.probe.ManifestProbe.parse(target.image(), target.target().host())),
                        PathProber.maxBound(options).toMillis(), "the probe");
            } catch (RuntimeException e) {
                probe = CompletableFuture.failedFuture(e);
            }
            probe.whenComplete((report, error) -> {
                try {
                    if (error != null) {
                        LOG.error("probe of {} failed inside pullpath (a bug, not a diagnosis)", target.name(), error);
                    } else {
                        record(report, depth);
                    }
                } catch (RuntimeException e) {
                    LOG.error("recording the probe of {} failed", target.name(), e);
                } finally {
                    admission.finished();
                    // After the first probe, a random phase within the interval: nodes started together drift apart.
                    scheduleIn(untilSlot(runs++ == 0 ? fraction(target.interval(), random.nextDouble())
                            : jitter(target.interval(), 0.1)));
                }
            });
        }

        /**
         * Under the scheduler's lock, shared with {@link #apply}: a result that lands after its target was removed
         * or replaced is dropped, so it cannot bring back series nobody would remove again.
         */
        private void record(TargetReport report, Depth depth) {
            synchronized (ProbeScheduler.this) {
                if (cancelled || jobs.get(target.name()) != this) {
                    return;
                }
                recordCurrent(report, depth);
            }
        }

        /**
         * {@code delay}, or less when this node's registry slot comes sooner: the check starts on its slot, not up to
         * one probe interval after it (which would put two neighbours' checks together).
         */
        private synchronized Duration untilSlot(Duration delay) {
            if (target.kind() != dev.pullpath.config.TargetKind.REGISTRY || !registry.onSlots()) {
                return delay;
            }
            Duration until = Duration.between(clock.instant(), registry.dueAt(clock.instant()));
            return until.isNegative() || until.compareTo(delay) >= 0 ? delay : until;
        }

        private synchronized boolean tracingAllowed() {
            return traces.allowed(clock.instant());
        }

        private synchronized void recordCurrent(TargetReport probed, Depth depth) {
            TargetReport report = traces.record(probed, clock.instant());
            TargetReport status = report;
            if (depth == Depth.REGISTRY) {
                boolean reachedRegistry = report.phases().stream().anyMatch(p -> p.phase() == Phase.HTTP);
                if (reachedRegistry) {
                    lastFull = report;
                    registry.checked(report, clock.instant());
                }
            } else if (target.kind() == dev.pullpath.config.TargetKind.REGISTRY) {
                Instant due = registry.dueAt(clock.instant());
                status = lastFull == null ? PendingRegistryCheck.status(report, due, registry.onSlots()
                        ? fleet.previousSlot(due, registry.interval()) : null) : report.withRegistryHopsOf(lastFull);
            }
            lastProbe.put(target.name(), clock.instant());
            board.record(target, report, status);
        }
    }

    @Override
    public void close() {
        closed = true;
        jobs.values().forEach(Job::cancel);
        timer.close();
    }
}
