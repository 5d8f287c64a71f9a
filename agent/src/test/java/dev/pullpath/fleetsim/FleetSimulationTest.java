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
 * requests per check), each learning its rank from the simulated Service's member list, 3 % of the nodes replaced
 * per day.
 */
class FleetSimulationTest {
    private static final double BUDGET = 0.1;
    private static final Settings FLEET = new Settings(300, 3, BUDGET, Duration.ofSeconds(30), Duration.ofMinutes(5),
            7);

    @ParameterizedTest(name = "{0}")
    @EnumSource(Scenario.class)
    @DisplayName("mean under the budget fleet-wide, per NAT under 0.1 req/s, one request in any second, twice the "
            + "budget over any 10 s, every hour under twice the budget")
    void theFleetStaysInItsBudget(Scenario scenario) {
        Result r = FleetSimulation.run(FLEET, scenario);
        Window fleet = r.fleet();
        assertTrue(fleet.requests() > 1_000, "the fleet checked the registry: " + fleet);
        assertTrue(fleet.meanPerSecond() <= BUDGET, "fleet mean " + fleet);
        for (Window nat : r.nats()) {
            assertTrue(nat.meanPerSecond() <= 0.1, "per NAT " + nat);
            assertTrue(nat.meanPerSecond() <= BUDGET / 3 * 1.2, "the NAT addresses share it evenly: " + nat);
        }
        // On slots one check at a time, its 10 requests 5.5 s apart (the request pace): no second holds two and no
        // 10 s more than two, at start, after a reload and after a 429 storm alike (random phases put 12-17 in 10 s
        // before the pace, and still more than two with it). Twice the budget holds by the hour.
        assertTrue(fleet.worst1s() <= 1, "worst second " + fleet);
        assertTrue(fleet.worst10s() <= 2 * BUDGET + 1e-9, "worst 10 s " + fleet);
        assertTrue(fleet.worst1h() <= 2 * BUDGET, "worst hour " + fleet);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Scenario.class)
    @DisplayName("the same fleet without ranks (random phases, as before slots) breaks the 10 s bound: the assertion "
            + "can fail")
    void randomPhasesBurst(Scenario scenario) {
        Window fleet = FleetSimulation.run(FLEET.unranked(), scenario).fleet();
        assertTrue(fleet.worst10s() > 2 * BUDGET + 1e-9, "random placement: " + fleet);
    }

    @Test
    @DisplayName("the same fleet with every node believing itself alone blows the budget and bursts at start: the "
            + "assertions can fail")
    void nodesThatIgnoreTheFleetSizeAreCaught() {
        Result r = FleetSimulation.run(FLEET.sizeSeen(1).unranked(), Scenario.START);
        assertTrue(r.fleet().meanPerSecond() > 50 * BUDGET, "300 nodes every 5 min: " + r.fleet());
        // And each node, alone as it believes, makes its first check within a minute of start: the burst.
        assertTrue(r.fleet().worst10s() > 2 * StubRegistry.WITH_IMAGE / 10.0 * 5, "the start burst: " + r.fleet());
        assertTrue(r.nats().get(0).meanPerSecond() > 0.1, r.nats().get(0).toString());
    }
}
