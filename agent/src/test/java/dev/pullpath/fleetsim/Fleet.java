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
 * leaves through NAT address {@code i mod nats}.
 */
final class Fleet {
    final VirtualTime time = new VirtualTime();
    final RequestLog[] nats;
    private final List<ProbeScheduler> agents = new ArrayList<>();
    private final FleetSimulation.Settings settings;

    Fleet(FleetSimulation.Settings settings, StubRegistry.Weather weather) {
        this.settings = settings;
        this.nats = new RequestLog[settings.nats()];
        for (int n = 0; n < nats.length; n++) {
            nats[n] = new RequestLog();
        }
        SplittableRandom seeds = new SplittableRandom(settings.seed());
        for (int i = 0; i < settings.nodes(); i++) {
            FleetCadence cadence = new FleetCadence(settings.budget(),
                    FleetSize.configured(settings.sizeSeen(), time.instant()));
            agents.add(new ProbeScheduler(new StubRegistry(time, nats[i % nats.length], weather),
                    new StatusBoard(time), time, seeds.split(), time.timer(), cadence));
        }
    }

    /** Every agent starts at a random moment of {@code within} from now, as a DaemonSet rolled out at once. */
    void startWithin(Duration within, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < agents.size(); i++) {
            ProbeScheduler agent = agents.get(i);
            AgentConfig config = config(i, Map.of(), Duration.ofSeconds(5));
            time.at(time.nanos() + (long) (within.toNanos() * r.nextDouble()), () -> agent.apply(config));
        }
    }

    /** A ConfigMap edit (a label, the timeout) reaching every agent at the same instant, now. */
    void reloadAll() {
        for (int i = 0; i < agents.size(); i++) {
            agents.get(i).apply(config(i, Map.of("edited", "yes"), Duration.ofSeconds(4)));
        }
    }

    /** The per-node registry interval the agents derive (all derive the same). */
    Duration registryInterval() {
        return new FleetCadence(settings.budget(), FleetSize.configured(settings.sizeSeen(), time.instant()))
                .interval(settings.registryInterval(), StubRegistry.WITH_IMAGE);
    }

    private AgentConfig config(int node, Map<String, String> labels, Duration timeout) {
        Target t = Target.parse("public.ecr.aws");
        TargetConfig target = new TargetConfig("ecr-public", new Target("ecr-public", t.host(), t.port()),
                TargetKind.REGISTRY, settings.interval(), settings.registryInterval(), timeout, labels, null,
                TargetConfig.PUBLIC_ECR_DEFAULT_IMAGE);
        ProbeOptions probe = new ProbeOptions(timeout, 4, List.of(), Path.of("/nonexistent/resolv.conf"),
                Path.of("/nonexistent/hosts"), List.of(), 64 * 1024);
        return new AgentConfig("simulation", new InetSocketAddress("127.0.0.1", 0), "node-" + node, "", 4, false,
                true, probe, List.of(target), null, AgentConfig.DEFAULT_ON_DEMAND_SPACING, KubernetesOptions.DISABLED,
                new FleetOptions(settings.budget(), settings.sizeSeen(), null, null, null, null,
                        FleetOptions.DEFAULT_REFRESH));
    }
}
