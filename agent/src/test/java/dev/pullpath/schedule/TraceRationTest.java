package dev.pullpath.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pullpath.diagnosis.Diagnosis;
import dev.pullpath.diagnosis.Evidence;
import dev.pullpath.diagnosis.Reason;
import dev.pullpath.diagnosis.TargetReport;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class TraceRationTest {
    private static final Instant T0 = Instant.parse("2026-12-02T10:00:00Z");
    private static final Evidence.Trace TRACE = new Evidence.Trace("198.51.100.10:443",
            List.of(new Evidence.TraceHop(1, "10.0.0.1", 0.4, "time_exceeded"),
                    new Evidence.TraceHop(2, null, 1000.0, "silent")), 2, false,
            "SYN to 198.51.100.10:443 answered up to hop 1 (10.0.0.1), silent from hop 2", T0);

    private static TargetReport report(Reason reason, Evidence.Trace trace) {
        Evidence e = new Evidence(null, null, null, null).withTrace(trace);
        return new TargetReport("reg", new Diagnosis(reason, reason == Reason.OK ? "reachable"
                : "198.51.100.10:443: no SYN-ACK within 5000ms (SYN dropped)"), "", List.of(), List.of(), e,
                T0, null);
    }

    @Test
    @DisplayName("a trace taken → no other for 10 minutes, then one again")
    void spacing() {
        TraceRation ration = new TraceRation();
        assertTrue(ration.allowed(T0));
        ration.record(report(Reason.FIREWALL_CONNECT_TIMEOUT, TRACE), T0);
        assertFalse(ration.allowed(T0.plusSeconds(15)));
        assertFalse(ration.allowed(T0.plus(Duration.ofMinutes(9))));
        assertTrue(ration.allowed(T0.plus(TraceRation.SPACING)));
    }

    @Test
    @DisplayName("the same failure 15 s later, untraced → it carries the last trace and says when it was taken")
    void carriedWhileTheFailureLasts() {
        TraceRation ration = new TraceRation();
        ration.record(report(Reason.FIREWALL_CONNECT_TIMEOUT, TRACE), T0);
        TargetReport later = ration.record(report(Reason.FIREWALL_CONNECT_TIMEOUT, null), T0.plusSeconds(15));
        assertSame(TRACE, later.evidence().trace());
        assertTrue(later.summary().contains(TRACE.summary() + " (traced at " + T0 + ")"), later.summary());
    }

    @Test
    @DisplayName("recovered, or failing otherwise → the old trace is dropped, and a new failure waits out the spacing")
    void droppedWhenTheFailureEnds() {
        TraceRation ration = new TraceRation();
        ration.record(report(Reason.FIREWALL_CONNECT_TIMEOUT, TRACE), T0);
        assertNull(ration.record(report(Reason.OK, null), T0.plusSeconds(15)).evidence().trace());
        assertNull(ration.record(report(Reason.FIREWALL_CONNECT_TIMEOUT, null), T0.plusSeconds(30)).evidence().trace());
        assertFalse(ration.allowed(T0.plusSeconds(30)));
        TargetReport refused = ration.record(report(Reason.FIREWALL_CONNECT_REFUSED, null), T0.plusSeconds(45));
        assertNull(refused.evidence().trace());
        assertEquals(Reason.FIREWALL_CONNECT_REFUSED, refused.diagnosis().reason());
    }
}
