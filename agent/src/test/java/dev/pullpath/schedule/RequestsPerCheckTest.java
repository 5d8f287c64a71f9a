package dev.pullpath.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.pullpath.config.Target;
import dev.pullpath.config.TargetConfig;
import dev.pullpath.config.TargetKind;
import dev.pullpath.diagnosis.Diagnosis;
import dev.pullpath.diagnosis.Phase;
import dev.pullpath.diagnosis.PhaseReport;
import dev.pullpath.diagnosis.TargetReport;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** What one registry check sends, as the fleet's budget counts it. */
class RequestsPerCheckTest {
    private static TargetConfig target(TargetKind kind, String image) {
        Target t = Target.parse("public.ecr.aws");
        return new TargetConfig("t", t, kind, Duration.ofSeconds(30), Duration.ofMinutes(5), Duration.ofSeconds(5),
                Map.of(), null, image);
    }

    private static TargetReport withLogins(int logins) {
        List<PhaseReport> phases = new java.util.ArrayList<>(List.of(new PhaseReport(Phase.HTTP, true, 1, "")));
        for (int i = 0; i < logins; i++) {
            phases.add(new PhaseReport(Phase.AUTH, true, 1, ""));
        }
        return new TargetReport("t", Diagnosis.OK, "", phases, List.of(), null, Instant.EPOCH, null);
    }

    @Test
    @DisplayName("/v2/, token, /v2/: 3; with an image 10; each stored login 2 more, 5 with an image; a TLS target 0")
    void countsWhatTheWalkSends() {
        assertEquals(3, RequestsPerCheck.of(target(TargetKind.REGISTRY, null), null));
        assertEquals(10, RequestsPerCheck.of(target(TargetKind.REGISTRY, TargetConfig.PUBLIC_ECR_DEFAULT_IMAGE), null));
        assertEquals(5, RequestsPerCheck.of(target(TargetKind.REGISTRY, null), withLogins(1)));
        assertEquals(20, RequestsPerCheck.of(target(TargetKind.REGISTRY, "library/busybox:1.36"), withLogins(2)));
        assertEquals(0, RequestsPerCheck.of(target(TargetKind.TLS, null), null));
    }
}
