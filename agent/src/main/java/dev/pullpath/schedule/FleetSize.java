package dev.pullpath.schedule;

import java.time.Instant;

/**
 * How many agents share the registries' budget, and where that number came from: {@code kubernetes} (the DaemonSet's
 * desiredNumberScheduled), {@code dns} (the headless Service's A records) or {@code configured} ({@code fleet.size},
 * the fallback until, or unless, one of the others answers).
 *
 * @param nodes  at least 1
 * @param source {@code kubernetes}, {@code dns} or {@code configured}
 * @param at     when the source last answered (for {@code configured}: when the configuration was loaded)
 */
public record FleetSize(int nodes, String source, Instant at) {
    public static final String KUBERNETES = "kubernetes";
    public static final String DNS = "dns";
    public static final String CONFIGURED = "configured";

    public FleetSize {
        if (nodes < 1) {
            throw new IllegalArgumentException("a fleet has at least this node: " + nodes);
        }
    }

    public static FleetSize configured(int nodes, Instant at) {
        return new FleetSize(nodes, CONFIGURED, at);
    }
}
