package dev.pullpath.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.pullpath.config.Target;
import dev.pullpath.config.TargetConfig;
import dev.pullpath.config.TargetKind;
import dev.pullpath.diagnosis.Diagnosis;
import dev.pullpath.diagnosis.Reason;
import dev.pullpath.diagnosis.TargetReport;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class StatusBoardTest {

    @Test
    @DisplayName("a listener that joins after the first probes (the Kubernetes reporter, slower to start than a "
            + "probe) hears each target's current state as a first probe, so a target failing from the start is news")
    void lateListenerHearsTheCurrentState() {
        StatusBoard board = new StatusBoard(Clock.systemUTC());
        TargetConfig target = new TargetConfig("registry", new Target("registry", "127.0.0.1", 9), TargetKind.TCP,
                Duration.ofSeconds(1), Duration.ofMinutes(5), Duration.ofSeconds(1), Map.of());
        TargetReport refused = new TargetReport("registry", new Diagnosis(Reason.FIREWALL_CONNECT_REFUSED,
                "127.0.0.1:9: ECONNREFUSED"), "hint", List.of(), List.of(), null, Instant.now(), null);
        board.record(target, refused, refused);
        board.record(target, refused, refused);

        List<TargetStatus[]> heard = new ArrayList<>();
        board.listen((t, probed, previous, current) -> heard.add(new TargetStatus[] {previous, current}));
        assertEquals(1, heard.size(), "the current state, once");
        assertNull(heard.get(0)[0], "as a first probe");
        assertEquals(Reason.FIREWALL_CONNECT_REFUSED, heard.get(0)[1].report().diagnosis().reason());
        assertEquals(2, heard.get(0)[1].probes());

        board.record(target, refused, refused);
        assertEquals(2, heard.size(), "and every probe after it");
    }
}
