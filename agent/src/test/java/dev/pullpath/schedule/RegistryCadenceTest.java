package dev.pullpath.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pullpath.diagnosis.Diagnosis;
import dev.pullpath.diagnosis.Evidence;
import dev.pullpath.diagnosis.Reason;
import dev.pullpath.diagnosis.TargetReport;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** When the registry hops run: the first anywhere in the interval, the phase kept when the interval changes. */
class RegistryCadenceTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final Duration HOUR = Duration.ofHours(1);

    private static TargetReport answer(Reason reason, Map<String, String> headers) {
        return new TargetReport("reg", new Diagnosis(reason, "test"), "", List.of(), List.of(),
                new Evidence(null, null, new Evidence.Http("a", "h2", "HTTP/2 429", headers, null, null), null), T0,
                null);
    }

    @Test
    @DisplayName("the first checks of 2,000 nodes started together fill the whole interval, evenly")
    void firstCheckAnywhereInTheInterval() {
        SplittableRandom seeds = new SplittableRandom(3);
        int[] tenths = new int[10];
        for (int i = 0; i < 2_000; i++) {
            RegistryCadence c = RegistryCadence.starting(() -> HOUR, T0, seeds.split());
            Duration wait = Duration.between(T0, c.dueAt(T0));
            assertTrue(!wait.isNegative() && wait.compareTo(HOUR) < 0, wait.toString());
            tenths[(int) (wait.toMillis() * 10 / HOUR.toMillis())]++;
        }
        for (int n : tenths) {
            assertTrue(n > 140 && n < 260, "each tenth of the interval gets about 200: " + java.util.Arrays.toString(
                    tenths));
        }
    }

    @Test
    @DisplayName("a fleet that doubles doubles the time left to wait; one that halves halves it: no node is due at once")
    void theWaitIsRescaledWithTheInterval() {
        AtomicReference<Duration> interval = new AtomicReference<>(HOUR);
        RegistryCadence c = RegistryCadence.starting(interval::get, T0, new SplittableRandom(5));
        Instant now = T0.plusSeconds(60);
        Duration left = Duration.between(now, c.dueAt(now));
        interval.set(HOUR.multipliedBy(2));
        assertEquals(left.multipliedBy(2).toSeconds(), Duration.between(now, c.dueAt(now)).toSeconds());
        interval.set(HOUR.dividedBy(2));
        assertEquals(left.dividedBy(2).toSeconds(), Duration.between(now, c.dueAt(now)).toSeconds());
        assertTrue(!c.due(now) || left.isZero(), "a shorter interval does not make the check due now");
    }

    @Test
    @DisplayName("the edited target keeps its phase and its backoff; a 429 waits at least its Retry-After")
    void phaseAndBackoffSurviveAnEdit() {
        RegistryCadence c = RegistryCadence.starting(() -> HOUR, T0, new SplittableRandom(9));
        Instant due = c.dueAt(T0);
        RegistryCadence edited = c.forTarget(() -> HOUR);
        assertEquals(due, edited.dueAt(T0), "same interval, same moment");
        assertTrue(!edited.checkedOnce());

        edited.checked(answer(Reason.REGISTRY_RATE_LIMITED, Map.of("retry-after", "3000")), T0);
        Instant limited = edited.dueAt(T0);
        assertTrue(!limited.isBefore(T0.plus(HOUR)), "never sooner than the interval: " + limited);
        RegistryCadence shrunk = edited.forTarget(() -> Duration.ofSeconds(10));
        assertTrue(!shrunk.dueAt(T0).isBefore(T0.plusSeconds(3000)), "Retry-After holds: " + shrunk.dueAt(T0));
        assertTrue(shrunk.checkedOnce());
    }

    @Test
    @DisplayName("after a check: the interval ±10 %")
    void nextCheckAfterTheInterval() {
        SplittableRandom r = new SplittableRandom(11);
        for (int i = 0; i < 200; i++) {
            RegistryCadence c = RegistryCadence.starting(() -> HOUR, T0, r.split());
            c.checked(answer(Reason.OK, Map.of()), T0);
            Duration wait = Duration.between(T0, c.dueAt(T0));
            assertTrue(wait.compareTo(Duration.ofMinutes(54)) >= 0 && wait.compareTo(Duration.ofMinutes(66)) <= 0,
                    wait.toString());
        }
    }

    /** A cadence on rank {@code rank} of {@code members}'s slots, the rank known from the start. */
    private static RegistryCadence slotted(FleetCadence fleet, Duration interval, int rank, int members) {
        fleet.rank(new FleetRank(rank, members, FleetRank.ENDPOINT_SLICES, T0));
        return RegistryCadence.starting(() -> interval, T0, new SplittableRandom(rank))
                .slotted((t, i) -> fleet.slotAtOrAfter(t, i, "public.ecr.aws:443"), T0, null);
    }

    @Test
    @DisplayName("on slots: the first check on the node's first slot after start, the next one interval later, and "
            + "after a 429 with Retry-After the first slot at or after the backoff's end")
    void slotsAtStartAfterACheckAndAfterA429() {
        Duration interval = Duration.ofHours(10);
        FleetCadence fleet = new FleetCadence(0.1, new FleetSize(100, FleetRank.ENDPOINT_SLICES, T0));
        RegistryCadence c = slotted(fleet, interval, 42, 100);
        Instant first = c.dueAt(T0);
        assertEquals(fleet.slotAtOrAfter(T0, interval, "public.ecr.aws:443"), first);
        assertTrue(c.onSlots());
        c.checked(answer(Reason.OK, Map.of()), first.plusSeconds(40));
        assertEquals(first.plus(interval), c.dueAt(first.plusSeconds(40)), "one interval after its slot, exactly");
        Instant second = first.plus(interval);
        c.checked(answer(Reason.REGISTRY_RATE_LIMITED, Map.of("retry-after", "3600")), second);
        Instant third = c.dueAt(second);
        assertEquals(0, Duration.between(first, third).toMillis() % interval.toMillis(), "on the node's slot");
        assertTrue(!third.isBefore(second.plusSeconds(3600)), "never before Retry-After: " + third);
    }

    @Test
    @DisplayName("the rank arriving after slots went by: the first slot from then on, not one in the past (a whole "
            + "refresh's worth of nodes would check at once)")
    void aLateRankTakesNoPastSlot() {
        Duration interval = Duration.ofHours(10);
        FleetCadence fleet = new FleetCadence(0.1, new FleetSize(100, FleetRank.ENDPOINT_SLICES, T0));
        RegistryCadence c = RegistryCadence.starting(() -> interval, T0, new SplittableRandom(1))
                .slotted((t, i) -> fleet.slotAtOrAfter(t, i, "r"), T0, Duration.ofMinutes(11));
        assertTrue(!c.dueAt(T0).isBefore(T0.plus(Duration.ofMinutes(11))), "no random check while a rank is expected");
        fleet.rank(new FleetRank(0, 100, FleetRank.ENDPOINT_SLICES, T0));
        Instant later = T0.plus(interval);
        assertTrue(!c.dueAt(later).isBefore(later), "at or after the rank came: " + c.dueAt(later));
        assertEquals(fleet.slotAtOrAfter(later, interval, "r"), c.dueAt(later));
    }
}
