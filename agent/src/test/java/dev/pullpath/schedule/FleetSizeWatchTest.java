package dev.pullpath.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.pullpath.testing.DnsTestServer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The fleet size in force: the first source that answers, the last answer kept while the sources are away. */
class FleetSizeWatchTest {
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    private static FleetSizeWatch.Source source(String name, AtomicReference<Object> answer) {
        return new FleetSizeWatch.Source() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public OptionalInt count() throws Exception {
                Object a = answer.get();
                if (a instanceof Exception e) {
                    throw e;
                }
                return a == null ? OptionalInt.empty() : OptionalInt.of((Integer) a);
            }
        };
    }

    @Test
    @DisplayName("the DaemonSet first, DNS when it fails, the last size kept when both fail, never the fallback again")
    void firstAnswerWinsAndTheLastOneStays() {
        FleetCadence cadence = new FleetCadence(0.1, FleetSize.configured(100, T0));
        AtomicReference<Object> api = new AtomicReference<>(4_000);
        AtomicReference<Object> dns = new AtomicReference<>(3_900);
        FleetSizeWatch watch = new FleetSizeWatch(cadence, List.of(source(FleetSize.KUBERNETES, api),
                source(FleetSize.DNS, dns)), Duration.ofMinutes(5), Clock.systemUTC(), new SplittableRandom(1));
        assertEquals(FleetSize.CONFIGURED, cadence.size().source(), "the fallback until a source answers");
        watch.refreshNow();
        assertEquals(4_000, cadence.size().nodes());
        assertEquals(FleetSize.KUBERNETES, cadence.size().source());
        api.set(new IllegalStateException("403 forbidden"));
        watch.refreshNow();
        assertEquals(3_900, cadence.size().nodes());
        assertEquals(FleetSize.DNS, cadence.size().source());
        dns.set(null);
        watch.refreshNow();
        assertEquals(3_900, cadence.size().nodes(), "a fleet does not shrink because its sources are away");
        watch.close();
    }

    @Test
    @DisplayName("DNS: the headless Service's A records counted, over TCP when they do not fit in UDP")
    void headlessServiceRecordsAreCounted() throws Exception {
        try (DnsTestServer dns = new DnsTestServer()) {
            String[] addresses = new String[300];
            for (int i = 0; i < addresses.length; i++) {
                addresses[i] = "10.0." + (i / 250) + "." + (i % 250 + 1);
            }
            dns.a("pullpath.pullpath.svc.cluster.local", addresses);
            HeadlessServiceCount count = new HeadlessServiceCount("pullpath.pullpath.svc.cluster.local",
                    dns.address());
            assertEquals(OptionalInt.of(300), count.count());
            dns.rcode("gone.pullpath.svc.cluster.local", org.xbill.DNS.Rcode.NXDOMAIN);
            assertThrows(java.io.IOException.class, () -> new HeadlessServiceCount(
                    "gone.pullpath.svc.cluster.local", dns.address()).count());
        }
    }

    /** A member list: its answers in turn, each a count and this node's rank (or a failure). */
    private static FleetSizeWatch.Source list(AtomicReference<Object> answer) {
        return new FleetSizeWatch.Source() {
            @Override
            public String name() {
                return FleetRank.ENDPOINT_SLICES;
            }

            @Override
            public OptionalInt count() {
                throw new UnsupportedOperationException("members() answers");
            }

            @Override
            public boolean ranks() {
                return true;
            }

            @Override
            public FleetSizeWatch.Members members() throws Exception {
                Object a = answer.get();
                if (a instanceof Exception e) {
                    throw e;
                }
                FleetRank r = (FleetRank) a;
                return new FleetSizeWatch.Members(r.members(), r);
            }
        };
    }

    @Test
    @DisplayName("a member list applies once two in a row agree (a rollout lists 50, then 300); a refused list "
            + "falls back to the DaemonSet's count and keeps the last rank")
    void memberListsSettleBeforeTheyRank() {
        FleetCadence cadence = new FleetCadence(0.1, FleetSize.configured(1000, T0));
        AtomicReference<Object> slices = new AtomicReference<>(new FleetRank(10, 50, FleetRank.ENDPOINT_SLICES, T0));
        AtomicReference<Object> api = new AtomicReference<>(300);
        FleetSizeWatch watch = new FleetSizeWatch(cadence, List.of(list(slices), source(FleetSize.KUBERNETES, api)),
                Duration.ofMinutes(5), Clock.systemUTC(), new SplittableRandom(1));
        assertEquals(Duration.ofSeconds(10).plus(Duration.ofMinutes(11)), cadence.rankWithin());
        watch.refreshNow();
        assertEquals(null, cadence.rank(), "50 members: the list may still grow");
        assertEquals(FleetSize.CONFIGURED, cadence.size().source());
        slices.set(new FleetRank(70, 300, FleetRank.ENDPOINT_SLICES, T0));
        watch.refreshNow();
        assertEquals(null, cadence.rank(), "300 after 50: not settled yet");
        watch.refreshNow();
        assertEquals(70, cadence.rank().rank());
        assertEquals(new FleetSize(300, FleetRank.ENDPOINT_SLICES, cadence.size().at()), cadence.size());
        slices.set(new IllegalStateException("HTTP 403"));
        api.set(310);
        watch.refreshNow();
        assertEquals(310, cadence.size().nodes(), "the DaemonSet counts when the list is refused");
        assertEquals(70, cadence.rank().rank(), "the last rank stays: the slots do not fall back to random");
        watch.close();
    }
}
