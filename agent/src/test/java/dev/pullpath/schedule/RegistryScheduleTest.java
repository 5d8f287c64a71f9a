package dev.pullpath.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pullpath.config.AgentConfig;
import dev.pullpath.config.FleetOptions;
import dev.pullpath.config.KubernetesOptions;
import dev.pullpath.config.ProbeOptions;
import dev.pullpath.config.Target;
import dev.pullpath.config.TargetConfig;
import dev.pullpath.config.TargetKind;
import dev.pullpath.diagnosis.Diagnosis;
import dev.pullpath.diagnosis.Phase;
import dev.pullpath.diagnosis.PhaseReport;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.fleetsim.VirtualTime;
import dev.pullpath.probe.Depth;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** One agent of a 1,000-node fleet on a virtual clock: its status before the first check, its phase across edits. */
class RegistryScheduleTest {
    private final VirtualTime time = new VirtualTime();
    private final AtomicInteger checks = new AtomicInteger();
    private final StatusBoard board = new StatusBoard(time);
    private final FleetCadence fleet = new FleetCadence(0.1, FleetSize.configured(1_000, time.instant()));
    private final ProbeScheduler scheduler = new ProbeScheduler(this::probe, board, time, new SplittableRandom(1),
            time.timer(), fleet);

    private CompletableFuture<TargetReport> probe(Target t, ProbeOptions o, Depth depth,
                                                  dev.pullpath.probe.ManifestProbe.Image image) {
        List<PhaseReport> phases = new java.util.ArrayList<>(List.of(new PhaseReport(Phase.DNS, true, 1, ""),
                new PhaseReport(Phase.CONNECT, true, 1, ""), new PhaseReport(Phase.TLS, true, 1, "")));
        if (depth == Depth.REGISTRY) {
            checks.incrementAndGet();
            phases.add(new PhaseReport(Phase.HTTP, true, 1, ""));
        }
        return CompletableFuture.completedFuture(new TargetReport(t.name(), Diagnosis.OK, "", phases, List.of(),
                null, time.instant(), null));
    }

    private AgentConfig config(Map<String, String> labels) {
        Target t = Target.parse("registry.test");
        ProbeOptions probe = new ProbeOptions(Duration.ofSeconds(5), 4, List.of(), Path.of("resolv.conf"),
                Path.of("hosts"), List.of(), 64 * 1024);
        return new AgentConfig("test", new InetSocketAddress("127.0.0.1", 0), "node", "", 4, false, true, probe,
                List.of(new TargetConfig("reg", new Target("reg", t.host(), t.port()), TargetKind.REGISTRY,
                        Duration.ofSeconds(30), Duration.ofMinutes(5), Duration.ofSeconds(5), labels, null,
                        "library/busybox:1.36")), null, Duration.ofSeconds(5), KubernetesOptions.DISABLED,
                new FleetOptions(0.1, 1_000, null, null, null, null, FleetOptions.DEFAULT_REFRESH));
    }

    @Test
    @DisplayName("before its first check the status says when it will run, not ok for the registry hops; after "
            + "it, the check is shown")
    void statusIsHonestUntilTheFirstCheck() {
        scheduler.apply(config(Map.of()));
        time.advance(Duration.ofMinutes(2));
        RegistrySchedule s = scheduler.registrySchedule("reg");
        // 1,000 nodes (1,024, the next 1/16 step) × 10 requests / 0.1 req/s, with 10 % headroom: 112,640 s.
        assertEquals(Duration.ofSeconds(112_640), s.interval());
        assertEquals("random", s.placement(), "no rank source: random");
        assertEquals(10, s.requestsPerCheck());
        assertTrue(!s.checked(), s.toString());
        Instant due = s.nextCheckAt();
        TargetReport shown = board.get("reg").report();
        assertTrue(shown.diagnosis().summary().contains(PendingRegistryCheck.SUMMARY_PREFIX)
                && shown.diagnosis().summary().contains(due.toString()), shown.diagnosis().summary());
        assertTrue(shown.phases().stream().noneMatch(p -> p.phase().registryHop()), "no registry hop is shown");
        assertEquals(0, checks.get());

        time.advance(Duration.between(time.instant(), due).plusMinutes(1));
        assertEquals(1, checks.get(), "the check ran when it said");
        assertTrue(scheduler.registrySchedule("reg").checked());
        assertTrue(!board.get("reg").report().diagnosis().summary().contains(PendingRegistryCheck.SUMMARY_PREFIX));
    }

    @Test
    @DisplayName("an edit reaching the node keeps the target's next check where it was; the fleet doubling moves it")
    void aReloadKeepsThePhase() {
        scheduler.apply(config(Map.of()));
        time.advance(Duration.ofMinutes(1));
        Instant due = scheduler.registrySchedule("reg").nextCheckAt();
        scheduler.apply(config(Map.of("team", "edited")));
        time.advance(Duration.ofSeconds(1));
        assertEquals(due, scheduler.registrySchedule("reg").nextCheckAt());

        Instant now = time.instant();
        fleet.size(new FleetSize(2_000, FleetSize.KUBERNETES, now));
        Duration left = Duration.between(now, due);
        Duration after = Duration.between(now, scheduler.registrySchedule("reg").nextCheckAt());
        assertEquals(left.multipliedBy(2).toSeconds(), after.toSeconds(), "the wait left doubles");
    }

    @Test
    @DisplayName("rank 7 of 1,000: the status says slotted, when the fleet's previous slot was scheduled (rank 6's, "
            + "one slot width, I / 1,024, earlier), the check runs on its slot to the second, and then the last check is known")
    void onSlotsTheStatusSaysWhoIsBefore() {
        fleet.rank(new FleetRank(7, 1_000, FleetRank.ENDPOINT_SLICES, time.instant()));
        scheduler.apply(config(Map.of()));
        time.advance(Duration.ofMinutes(1));
        RegistrySchedule s = scheduler.registrySchedule("reg");
        assertEquals("slot 7 of 1000 (endpointslices)", s.placement());
        Instant due = s.nextCheckAt();
        assertEquals(fleet.slotAtOrAfter(time.instant(), s.interval(), Target.parse("registry.test").authority()), due);
        assertEquals(due.minusMillis(s.interval().toMillis() / 1_024), s.fleetPreviousAt(), "1,000 counts as 1,024");
        assertEquals(null, s.lastCheckAt());
        TargetReport shown = board.get("reg").report();
        assertTrue(shown.diagnosis().summary().contains("the fleet's previous check")
                && shown.diagnosis().summary().contains("scheduled at " + s.fleetPreviousAt()),
                shown.diagnosis().summary());
        time.advance(Duration.between(time.instant(), due).plusSeconds(1));
        assertEquals(1, checks.get(), "the check ran on its slot");
        assertEquals(due, scheduler.registrySchedule("reg").lastCheckAt(), "woken at the slot, not a probe later");
    }
}
