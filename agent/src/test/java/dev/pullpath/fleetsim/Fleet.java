package dev.pullpath.fleetsim;

import dev.pullpath.config.AgentConfig;
import dev.pullpath.config.FleetOptions;
import dev.pullpath.config.KubernetesOptions;
import dev.pullpath.config.ProbeOptions;
import dev.pullpath.config.Target;
import dev.pullpath.config.TargetConfig;
import dev.pullpath.config.TargetKind;
import dev.pullpath.schedule.FleetCadence;
import dev.pullpath.schedule.FleetSize;
import dev.pullpath.schedule.FleetSizeWatch;
import dev.pullpath.schedule.ProbeScheduler;
import dev.pullpath.schedule.StatusBoard;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * N agents as the DaemonSet runs them, each the agent's own {@link ProbeScheduler} on the shared virtual clock, with
 * the chart's defaults (one target, public.ecr.aws with its default image) and a stub for a prober. Node {@code i}
 * leaves through NAT address {@code i mod nats}. Each node has a name, and (unless the settings say unranked, today's
 * random placement) learns its rank from the simulated Service's member list ({@link Membership}) on its own jittered
 * refresh, as {@code EndpointSliceMembers} would; a few % of the nodes are replaced per day (new names, new ranks).
 */
final class Fleet {
    final VirtualTime time = new VirtualTime();
    final RequestLog[] nats;
    private final List<Agent> agents = new ArrayList<>();
    private final FleetSimulation.Settings settings;
    private final StubRegistry.Weather weather;
    private final Membership membership = new Membership(time);
    private final SplittableRandom seeds;

    /** One simulated node: its name, its NAT address, its scheduler and, when ranked, its rank's refresh. */
    private final class Agent {
        final String name;
        final int nat;
        final ProbeScheduler scheduler;
        final FleetSizeWatch watch;
        boolean stopped;

        Agent(String name, int nat) {
            this.name = name;
            this.nat = nat;
            FleetCadence cadence = new FleetCadence(settings.budget(),
                    FleetSize.configured(settings.sizeSeen(), time.instant()));
            SplittableRandom random = seeds.split();
            this.scheduler = new ProbeScheduler(new StubRegistry(time, nats[nat], weather), new StatusBoard(time),
                    time, random, time.timer(), cadence);
            this.watch = settings.ranked() ? new FleetSizeWatch(cadence, List.of(membership.sourceFor(name)),
                    FleetOptions.DEFAULT_REFRESH, time, random) : null;
        }

        /** Starts now: its configuration, its first refresh within 10 s (as FleetSizeWatch's), then every ±10 %. */
        void start(AgentConfig config) {
            membership.join(name);
            scheduler.apply(config);
            if (watch != null) {
                refreshIn((long) (10e9 * seeds.split().nextDouble()));
            }
        }

        private void refreshIn(long nanos) {
            time.at(time.nanos() + nanos, () -> {
                if (!stopped) {
                    watch.refreshNow();
                    refreshIn((long) (FleetOptions.DEFAULT_REFRESH.toNanos() * (0.9 + 0.2 * seeds.nextDouble())));
                }
            });
        }

        void stop() {
            stopped = true;
            membership.leave(name);
            scheduler.close();
        }
    }

    Fleet(FleetSimulation.Settings settings, StubRegistry.Weather weather) {
        this.settings = settings;
        this.weather = weather;
        this.seeds = new SplittableRandom(settings.seed());
        this.nats = new RequestLog[settings.nats()];
        for (int n = 0; n < nats.length; n++) {
            nats[n] = new RequestLog();
        }
        for (int i = 0; i < settings.nodes(); i++) {
            agents.add(new Agent(nodeName(), i % nats.length));
        }
    }

    /** A node name as a cloud names them: where a new node sorts among the others is random. */
    private String nodeName() {
        return String.format("ip-%08x.internal", seeds.nextInt());
    }

    /** Every agent starts at a random moment of {@code within} from now, as a DaemonSet rolled out at once. */
    void startWithin(Duration within, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (Agent agent : agents) {
            AgentConfig config = config(agent.name, Map.of(), Duration.ofSeconds(5));
            time.at(time.nanos() + (long) (within.toNanos() * r.nextDouble()), () -> agent.start(config));
        }
        scheduleChurn(new SplittableRandom(seed + 7));
    }

    /**
     * {@code settings.churnPerDay} of the nodes replaced per day at random instants, from 5 min on: a node goes
     * (its endpoint with it), a new one with a new name comes (listed 5 s later); the fleet size is the same again
     * once both have happened, and every rank after the two names shifts by one.
     */
    private void scheduleChurn(SplittableRandom r) {
        double perNanos = settings.churnPerDay() * settings.nodes() / 86_400e9;
        if (perNanos <= 0) {
            return;
        }
        long at = 300_000_000_000L;
        for (int i = 0; i < 100_000; i++) {
            at += (long) (-Math.log(1 - r.nextDouble()) / perNanos);
            if (at > 40L * 86_400_000_000_000L) {
                return;
            }
            time.at(at, () -> replaceOne(r));
        }
    }

    private void replaceOne(SplittableRandom r) {
        int i = r.nextInt(agents.size());
        Agent gone = agents.get(i);
        gone.stop();
        Agent next = new Agent(nodeName(), gone.nat);
        agents.set(i, next);
        next.start(config(next.name, current, Duration.ofSeconds(current.isEmpty() ? 5 : 4)));
    }

    private Map<String, String> current = Map.of();

    /** A ConfigMap edit (a label, the timeout) reaching every agent at the same instant, now. */
    void reloadAll() {
        current = Map.of("edited", "yes");
        for (Agent agent : agents) {
            agent.scheduler.apply(config(agent.name, current, Duration.ofSeconds(4)));
        }
    }

    /** The per-node registry interval the agents derive (all derive the same). */
    Duration registryInterval() {
        return new FleetCadence(settings.budget(), FleetSize.configured(settings.sizeSeen(), time.instant()))
                .interval(settings.registryInterval(), StubRegistry.WITH_IMAGE);
    }

    private AgentConfig config(String node, Map<String, String> labels, Duration timeout) {
        Target t = Target.parse("public.ecr.aws");
        TargetConfig target = new TargetConfig("ecr-public", new Target("ecr-public", t.host(), t.port()),
                TargetKind.REGISTRY, settings.interval(), settings.registryInterval(), timeout, labels, null,
                TargetConfig.PUBLIC_ECR_DEFAULT_IMAGE);
        ProbeOptions probe = new ProbeOptions(timeout, 4, List.of(), Path.of("/nonexistent/resolv.conf"),
                Path.of("/nonexistent/hosts"), List.of(), 64 * 1024);
        return new AgentConfig("simulation", new InetSocketAddress("127.0.0.1", 0), node, "", 4, false,
                true, probe, List.of(target), null, AgentConfig.DEFAULT_ON_DEMAND_SPACING, KubernetesOptions.DISABLED,
                new FleetOptions(settings.budget(), settings.sizeSeen(), null, null, null, null,
                        FleetOptions.DEFAULT_REFRESH));
    }
}
