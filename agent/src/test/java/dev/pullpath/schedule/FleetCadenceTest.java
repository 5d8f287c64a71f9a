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
    @DisplayName("5,000 nodes (counted as 5,120, the next 1/16 step), 10 requests per check, 0.1 req/s: every "
            + "563,200 s (6.5 days) per node; 5,119 nodes the same")
    void theFleetDividesTheBudget() {
        FleetCadence c = new FleetCadence(0.1, new FleetSize(5_000, FleetSize.KUBERNETES, T0));
        assertEquals(Duration.ofSeconds(563_200), c.interval(Duration.ofMinutes(5), 10));
        c.size(new FleetSize(5_119, FleetSize.KUBERNETES, T0));
        assertEquals(Duration.ofSeconds(563_200), c.interval(Duration.ofMinutes(5), 10));
        c.size(new FleetSize(100, FleetSize.DNS, T0));
        assertEquals(Duration.ofSeconds(11_000), c.interval(Duration.ofMinutes(5), 10));
        c.budget(1);
        assertEquals(Duration.ofSeconds(1_100), c.interval(Duration.ofMinutes(5), 10));
    }

    @Test
    @DisplayName("ranks 0..4,999 get 5,000 distinct slots one width (I / 5,120: 110 s) apart, the 120 slots past the "
            + "last rank empty, at the same instants on every node")
    void ranksGetSlotsOneWidthApart() {
        Duration interval = Duration.ofSeconds(563_200);
        long[] slots = new long[5_000];
        for (int r = 0; r < slots.length; r++) {
            FleetCadence c = new FleetCadence(0.1, new FleetSize(5_000, FleetRank.ENDPOINT_SLICES, T0));
            c.rank(new FleetRank(r, 5_000, FleetRank.ENDPOINT_SLICES, T0));
            Instant s = c.slotAtOrAfter(T0, interval, "public.ecr.aws:443");
            slots[r] = s.toEpochMilli();
            assertEquals(s, c.slotAtOrAfter(s, interval, "public.ecr.aws:443"), "a slot is at or after itself");
            assertEquals(s.plus(interval), c.slotAtOrAfter(s.plusMillis(1), interval, "public.ecr.aws:443"));
        }
        java.util.Arrays.sort(slots);
        long width = interval.toMillis() / 5_120;
        assertEquals(110_000, width);
        int gaps = 0;
        for (int i = 1; i < slots.length; i++) {
            long apart = slots[i] - slots[i - 1];
            if (apart != width) {
                assertEquals(121 * width, apart, "the one gap: the empty slots after the last rank");
                gaps++;
            }
        }
        org.junit.jupiter.api.Assertions.assertTrue(gaps <= 1, gaps + " gaps");
    }

    @Test
    @DisplayName("without a rank there is no slot: the cadence stays random")
    void noRankNoSlot() {
        FleetCadence c = new FleetCadence(0.1, new FleetSize(5_000, FleetSize.DNS, T0));
        assertEquals(null, c.slotAtOrAfter(T0, Duration.ofDays(6), "public.ecr.aws:443"));
    }

    @Test
    @DisplayName("a small fleet with a large budget keeps the target's own registryInterval")
    void neverShorterThanTheRegistryInterval() {
        FleetCadence c = new FleetCadence(10, FleetSize.configured(3, T0));
        assertEquals(Duration.ofMinutes(5), c.interval(Duration.ofMinutes(5), 10));
    }

    @Test
    @DisplayName("the request pace: 5.5 s at 0.1 req/s (two requests per 10 s); 11 s when twice the budget allows "
            + "less than one per 10 s; none when a whole check fits in twice the budget over 10 s, or alone")
    void thePaceHoldsACheckToTwiceTheBudgetOverTenSeconds() {
        FleetCadence c = new FleetCadence(0.1, new FleetSize(5_000, FleetSize.KUBERNETES, T0));
        assertEquals(Duration.ofMillis(5_500), c.requestPace(10));
        assertEquals(Duration.ofMillis(5_500), c.requestPace(3), "a check without an image, 3 requests > 2");
        assertEquals(Duration.ZERO, c.requestPace(2), "two requests fit in 10 s");
        c.budget(0.03);
        assertEquals(Duration.ofMillis(11_000), c.requestPace(10));
        c.budget(0.2);
        assertEquals(Duration.ofMillis(2_750), c.requestPace(10), "four per 10 s");
        c.budget(0.5);
        assertEquals(Duration.ZERO, c.requestPace(10), "10 requests = twice 0.5 req/s over 10 s");
        c.budget(0.1);
        c.size(FleetSize.configured(1, T0));
        assertEquals(Duration.ZERO, c.requestPace(10), "a fleet of one has nobody to burst with");
    }
}
