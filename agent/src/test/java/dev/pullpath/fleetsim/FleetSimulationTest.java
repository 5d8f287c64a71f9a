package dev.pullpath.fleetsim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pullpath.fleetsim.FleetSimulation.Result;
import dev.pullpath.fleetsim.FleetSimulation.Scenario;
import dev.pullpath.fleetsim.FleetSimulation.Settings;
import dev.pullpath.fleetsim.FleetSimulation.Window;
import java.time.Duration;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/**
 * The fleet's promises to the registry, on the agent's own scheduler and a virtual clock: 300 agents behind 3 NAT
 * addresses, the default budget (0.1 requests/s for the whole fleet), public.ecr.aws with its default image (10
 * requests per check).
 */
class FleetSimulationTest {
    private static final double BUDGET = 0.1;
    private static final Settings FLEET = new Settings(300, 3, BUDGET, Duration.ofSeconds(30), Duration.ofMinutes(5),
            7);

    @ParameterizedTest(name = "{0}")
    @EnumSource(Scenario.class)
    @DisplayName("mean under the budget fleet-wide, per NAT under 0.1 req/s, no burst beyond two checks in 10 s, "
            + "every hour under twice the budget")
    void theFleetStaysInItsBudget(Scenario scenario) {
        Result r = FleetSimulation.run(FLEET, scenario);
        Window fleet = r.fleet();
        assertTrue(fleet.requests() > 1_000, "the fleet checked the registry: " + fleet);
        assertTrue(fleet.meanPerSecond() <= BUDGET, "fleet mean " + fleet);
        for (Window nat : r.nats()) {
            assertTrue(nat.meanPerSecond() <= 0.1, "per NAT " + nat);
            assertTrue(nat.meanPerSecond() <= BUDGET / 3 * 1.2, "the NAT addresses share it evenly: " + nat);
        }
        // One check is 10 requests in four hops 10 s apart (at most 4 within a second): independent nodes put a
        // few hops in one second, and two checks' worth in 10 s, by chance; more is a burst (all first checks at
        // start, a reload or the end of a 429 storm synchronising the nodes). Twice the budget holds by the hour.
        assertTrue(fleet.worst1s() <= 12, "worst second " + fleet);
        assertTrue(fleet.worst10s() <= 2 * StubRegistry.WITH_IMAGE / 10.0, "worst 10 s " + fleet);
        assertTrue(fleet.worst1h() <= 2 * BUDGET, "worst hour " + fleet);
    }

    @Test
    @DisplayName("the same fleet with every node believing itself alone blows the budget and bursts at start: the "
            + "assertions can fail")
    void nodesThatIgnoreTheFleetSizeAreCaught() {
        Result r = FleetSimulation.run(new Settings(300, 3, BUDGET, Duration.ofSeconds(30), Duration.ofMinutes(5), 7,
                1), Scenario.START);
        assertTrue(r.fleet().meanPerSecond() > 50 * BUDGET, "300 nodes every 5 min: " + r.fleet());
        // And each node, alone as it believes, makes its first check within a minute of start: the burst.
        assertTrue(r.fleet().worst10s() > 2 * StubRegistry.WITH_IMAGE / 10.0 * 5, "the start burst: " + r.fleet());
        assertTrue(r.nats().get(0).meanPerSecond() > 0.1, r.nats().get(0).toString());
    }
}
