package dev.pullpath.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pullpath.diagnosis.Diagnosis;
import dev.pullpath.diagnosis.Reason;
import dev.pullpath.diagnosis.TargetReport;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * What pod diagnoses may borrow of a node's registry checks, on a node of 1,000 under the default budget (0.1 req/s):
 * a registry target with an image has I = 1.1 × 1,000 × 10 / 0.1 = 110,000 s (30.6 h).
 */
class RegistryAllowanceTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final Duration I = Duration.ofSeconds(110_000);
    private final FleetCadence fleet = new FleetCadence(0.1, FleetSize.configured(1_000, T0));

    private static RegistryAllowance.Scheduled target(Instant nextCheckAt, Reason lastAnswer) {
        TargetReport last = lastAnswer == null ? null : new TargetReport("reg", new Diagnosis(lastAnswer, "test"), "",
                List.of(), List.of(), null, T0.minusSeconds(600), null);
        return new RegistryAllowance.Scheduled(new RegistrySchedule(last != null, nextCheckAt, I, 10, null, null, null), last);
    }

    @Test
    @DisplayName("one borrow per I: the next check is owed and skipped once; the next borrow after I and the skip")
    void oneBorrowPerInterval() {
        RegistryAllowance a = new RegistryAllowance();
        List<RegistryAllowance.Scheduled> reg = List.of(target(T0.plus(Duration.ofHours(20)), Reason.OK));
        RegistryAllowance.Grant first = a.borrow(T0, fleet, reg);
        assertTrue(first.granted());
        assertEquals(Duration.ofMillis(5500), first.pace(), "paced as the check it replaces: 10 requests > the 2 "
                + "that twice the budget allows in 10 s, so 10 s / 2 with 10 % headroom");
        assertEquals(Reason.OK, first.lastCheck().outcome());

        RegistryAllowance.Grant second = a.borrow(T0.plusSeconds(60), fleet, reg);
        assertFalse(second.granted());
        assertEquals(T0.plus(I), second.spentUntil(), "a borrow + I (the owed check, at 20 h, comes sooner)");

        assertTrue(a.repay(), "the owed check is skipped");
        assertFalse(a.repay(), "once");
        assertTrue(a.borrow(T0.plus(I), fleet, List.of(target(T0.plus(I).plus(I), Reason.OK))).granted());
    }

    @Test
    @DisplayName("a borrow still owed past I holds the allowance until the schedule has skipped it")
    void owedCheckHoldsTheAllowance() {
        RegistryAllowance a = new RegistryAllowance();
        Instant due = T0.plus(I).plus(Duration.ofHours(2)); // jittered up to 1.1 I after the last check
        assertTrue(a.borrow(T0, fleet, List.of(target(due, Reason.OK))).granted());
        RegistryAllowance.Grant later = a.borrow(T0.plus(I).plusSeconds(1), fleet, List.of(target(due, Reason.OK)));
        assertFalse(later.granted());
        assertEquals(due, later.spentUntil());
    }

    @Test
    @DisplayName("the node's last check got a 429: nothing is lent until the backoff's next check")
    void rateLimitedRegistryLendsNothing() {
        Instant backoffEnds = T0.plus(Duration.ofMinutes(45));
        RegistryAllowance.Grant g = new RegistryAllowance().borrow(T0, fleet, List.of(target(backoffEnds,
                Reason.REGISTRY_RATE_LIMITED)));
        assertFalse(g.granted());
        assertEquals(backoffEnds, g.spentUntil());
        assertEquals("registry/rate_limited", g.lastCheck().category() + "/" + g.lastCheck().reason());
    }

    @Test
    @DisplayName("a registry no target checks: nothing to skip, borrows spaced by a target's I for one walk")
    void registryWithoutTarget() {
        RegistryAllowance a = new RegistryAllowance();
        RegistryAllowance.Grant g = a.borrow(T0, fleet, List.of());
        assertTrue(g.granted());
        assertNull(g.lastCheck());
        assertFalse(a.repay(), "no scheduled check owed");
        // The interval a target of that registry would have: the fleet counted as the cadence counts it (1,000
        // rounded up to 1,024, so that one node joining moves no slot), not the round 110,000 s of the other rows.
        Duration walkInterval = fleet.interval(dev.pullpath.config.ConfigLoader.DEFAULT_REGISTRY_INTERVAL, 10);
        assertEquals(T0.plus(walkInterval), a.borrow(T0.plusSeconds(1), fleet, List.of()).spentUntil());
    }
}
