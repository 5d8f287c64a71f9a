package dev.pullpath.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The per-node interval: max(registryInterval, fleet size × requests per check / budget), with its headroom. */
class FleetCadenceTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    @DisplayName("5,000 nodes, 10 requests per check, 0.1 req/s: every 550,000 s (6.4 days) per node")
    void theFleetDividesTheBudget() {
        FleetCadence c = new FleetCadence(0.1, new FleetSize(5_000, FleetSize.KUBERNETES, T0));
        assertEquals(Duration.ofSeconds(550_000), c.interval(Duration.ofMinutes(5), 10));
        c.size(new FleetSize(100, FleetSize.DNS, T0));
        assertEquals(Duration.ofSeconds(11_000), c.interval(Duration.ofMinutes(5), 10));
        c.budget(1);
        assertEquals(Duration.ofSeconds(1_100), c.interval(Duration.ofMinutes(5), 10));
    }

    @Test
    @DisplayName("a small fleet with a large budget keeps the target's own registryInterval")
    void neverShorterThanTheRegistryInterval() {
        FleetCadence c = new FleetCadence(10, FleetSize.configured(3, T0));
        assertEquals(Duration.ofMinutes(5), c.interval(Duration.ofMinutes(5), 10));
    }
}
