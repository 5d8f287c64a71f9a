package dev.pullpath.fleetsim;

import dev.pullpath.config.Durations;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a fleet sends to the registry, measured on the agent's own scheduler ({@code ProbeScheduler},
 * {@code RegistryCadence}, {@code FleetCadence}) driven by a virtual clock: N agents, a stub prober recording each
 * registry request at its NAT address, four scenarios. {@code bench/fleet-sim.sh} runs it; FleetSimulationTest runs
 * a smaller fleet and asserts the targets.
 *
 * <p>Usage: {@code java -cp pullpath-agent.jar dev.pullpath.fleetsim.FleetSimulation [--nodes 5000] [--nats 3]
 * [--budget 0.1] [--interval 30s] [--seed 1]}
 */
public final class FleetSimulation {
    private static final Duration DAY = Duration.ofDays(1);
    private static final Duration EVENT_AT = Duration.ofHours(1);
    private static final Duration STORM = Duration.ofMinutes(10);

    /**
     * The fleet and the agents' configuration; {@code sizeSeen} is the fleet size the agents hold (the real one,
     * unless a test shows what happens when each node believes itself alone).
     */
    record Settings(int nodes, int nats, double budget, Duration interval, Duration registryInterval, long seed,
                    int sizeSeen, boolean ranked, double churnPerDay) {
        Settings(int nodes, int nats, double budget, Duration interval, Duration registryInterval, long seed) {
            this(nodes, nats, budget, interval, registryInterval, seed, nodes, true, DEFAULT_CHURN);
        }

        /** The same fleet with no rank source: today's random placement, for the control. */
        Settings unranked() {
            return new Settings(nodes, nats, budget, interval, registryInterval, seed, sizeSeen, false, churnPerDay);
        }

        Settings sizeSeen(int seen) {
            return new Settings(nodes, nats, budget, interval, registryInterval, seed, seen, ranked, churnPerDay);
        }
    }

    /** Nodes replaced per day, as a fraction of the fleet (a spot fleet, upgrades): their ranks shift. */
    static final double DEFAULT_CHURN = 0.03;

    enum Scenario {
        STEADY("steady state"),
        START("all starting within 60 s"),
        RELOAD("a reload reaching all at once"),
        STORM("429 for 10 min, then recovery");

        final String title;

        Scenario(String title) {
            this.title = title;
        }
    }

    /** Requests seen at one address (or the fleet's, {@code nat} = "fleet") over the measured window. */
    record Window(String nat, long requests, double meanPerSecond, double worst1s, double worst10s,
                  double worst60s, double worst10min, double worst1h) {
    }

    record Result(Scenario scenario, Duration from, Duration to, Duration registryInterval, List<Window> nats,
                  Window fleet, long tasks) {
    }

    private FleetSimulation() {
    }

    static Result run(Settings s, Scenario scenario) {
        long stormFrom = EVENT_AT.toMillis();
        long stormTo = stormFrom + STORM.toMillis();
        Fleet fleet = new Fleet(s, now -> scenario == Scenario.STORM && now >= stormFrom && now < stormTo);
        Duration interval = fleet.registryInterval();
        fleet.startWithin(Duration.ofSeconds(60), s.seed() + 1);
        Duration from;
        Duration to;
        switch (scenario) {
            case STEADY -> {
                // The first checks spread over one interval, the second ones over the next: across both.
                from = interval.dividedBy(2);
                to = interval.multipliedBy(2);
            }
            case START -> {
                from = Duration.ZERO;
                to = min(DAY, interval.multipliedBy(2));
            }
            case RELOAD -> {
                fleet.time.runUntil(EVENT_AT.toNanos());
                fleet.reloadAll();
                from = EVENT_AT;
                to = EVENT_AT.plus(min(DAY, interval.multipliedBy(2)));
            }
            default -> {
                from = EVENT_AT;
                to = EVENT_AT.plus(min(DAY, interval.multipliedBy(2)));
            }
        }
        fleet.time.runUntil(to.toNanos());
        List<Window> nats = new ArrayList<>();
        long[][] parts = new long[s.nats()][];
        for (int n = 0; n < s.nats(); n++) {
            parts[n] = fleet.nats[n].between(from.toMillis(), to.toMillis());
            nats.add(window("nat-" + (n + 1), parts[n], to.minus(from)));
        }
        return new Result(scenario, from, to, interval, nats, window("fleet", RequestLog.merged(parts),
                to.minus(from)), fleet.time.tasksRun());
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) < 0 ? a : b;
    }

    private static Window window(String nat, long[] sorted, Duration span) {
        return new Window(nat, sorted.length, sorted.length / (span.toMillis() / 1000.0),
                RequestLog.worstWindow(sorted, 1_000), RequestLog.worstWindow(sorted, 10_000) / 10.0,
                RequestLog.worstWindow(sorted, 60_000) / 60.0, RequestLog.worstWindow(sorted, 600_000) / 600.0,
                RequestLog.worstWindow(sorted, 3_600_000) / 3600.0);
    }

    public static void main(String[] args) {
        Settings s = parse(args);
        Duration interval = new Fleet(new Settings(1, 1, s.budget(), s.interval(), s.registryInterval(), 0), n -> false)
                .registryInterval();
        System.out.printf(Locale.ROOT, "%d agents behind %d NAT addresses, budget %.3f req/s per registry for the "
                        + "fleet, %d requests per check (public.ecr.aws with its default image), cheap hops every %s%n",
                s.nodes(), s.nats(), s.budget(), StubRegistry.WITH_IMAGE, Durations.format(s.interval()));
        Duration pace = new dev.pullpath.schedule.FleetCadence(s.budget(), dev.pullpath.schedule.FleetSize.configured(
                s.nodes(), java.time.Instant.EPOCH)).requestPace(StubRegistry.WITH_IMAGE);
        System.out.printf(Locale.ROOT, "targets: mean <= %.3f, worst 10 s <= %.3f (2x budget), per NAT mean <= 0.1 "
                + "req/s; one check: %d requests (4 hops of 1, 2, 3 and 4), each starting %s after the one before%n%n",
                s.budget(), 2 * s.budget(), StubRegistry.WITH_IMAGE, pace.toMillis() > StubRegistry.GAP_MILLIS
                        ? Durations.format(pace) + " (the request pace)" : StubRegistry.GAP_MILLIS + " ms");
        System.out.printf(Locale.ROOT, "%-32s %-6s %8s %10s %9s %10s %10s %11s %9s%n", "scenario (virtual window)",
                "where", "requests", "mean req/s", "worst 1 s", "worst 10 s", "worst 60 s", "worst 10 min",
                "worst 1 h");
        for (Scenario scenario : scenarios(args)) {
            long started = System.nanoTime();
            Result r = run(s, scenario);
            String title = scenario.title;
            for (Window w : r.nats()) {
                print(title, w);
                title = "  " + Durations.format(r.from()) + " to " + Durations.format(r.to());
            }
            print("  per-node interval " + Durations.format(r.registryInterval()), r.fleet());
            System.out.printf(Locale.ROOT, "  (%d scheduler tasks in %.1f s)%n%n", r.tasks(),
                    (System.nanoTime() - started) / 1e9);
        }
        System.out.printf(Locale.ROOT, "(the per-node interval for 1 node: %s)%n", Durations.format(interval));
    }

    private static void print(String title, Window w) {
        System.out.printf(Locale.ROOT, "%-32s %-6s %8d %10.4f %9.1f %10.2f %10.3f %11.4f %9.4f%n", title, w.nat(),
                w.requests(), w.meanPerSecond(), w.worst1s(), w.worst10s(), w.worst60s(), w.worst10min(), w.worst1h());
    }

    /**
     * {@code --scenarios start,reload,storm}: a subset (the steady state's two intervals are most of a 5,000-node
     * run's 25 minutes; the others take a minute or two each); all four by default.
     */
    static List<Scenario> scenarios(String[] args) {
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (args[i].equals("--scenarios")) {
                return java.util.Arrays.stream(args[i + 1].split(",")).map(n -> Scenario.valueOf(n.strip()
                        .toUpperCase(Locale.ROOT))).toList();
            }
        }
        return List.of(Scenario.values());
    }

    static Settings parse(String[] args) {
        int nodes = 5000;
        int nats = 3;
        double budget = 0.1;
        Duration interval = Duration.ofSeconds(30);
        Duration registryInterval = Duration.ofMinutes(5);
        long seed = 1;
        boolean ranked = true;
        double churn = DEFAULT_CHURN;
        for (int i = 0; i + 1 < args.length; i += 2) {
            String v = args[i + 1];
            switch (args[i]) {
                case "--nodes" -> nodes = Integer.parseInt(v);
                case "--nats" -> nats = Integer.parseInt(v);
                case "--budget" -> budget = Double.parseDouble(v);
                case "--interval" -> interval = Durations.parse(v);
                case "--registry-interval" -> registryInterval = Durations.parse(v);
                case "--seed" -> seed = Long.parseLong(v);
                case "--ranked" -> ranked = Boolean.parseBoolean(v);
                case "--churn" -> churn = Double.parseDouble(v);
                case "--scenarios" -> {
                    // read by scenarios()
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (--nodes, --nats, --budget, --interval, --registry-interval, --seed, --ranked, --churn)");
            }
        }
        return new Settings(nodes, nats, budget, interval, registryInterval, seed, nodes, ranked, churn);
    }
}
