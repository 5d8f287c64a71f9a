package dev.pullpath.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pullpath.diagnosis.TargetReport;

/** The one way tests name a report's outcome: {@code category/reason}, as docs/taxonomy.md and alerts write it. */
public final class Outcomes {
    private Outcomes() {
    }

    /** {@code category/reason} of a report's JSON ({@code diagnose --json}, {@code /status}, an endpoint's). */
    public static String of(JsonNode report) {
        return report.get("category").asText() + "/" + report.get("reason").asText();
    }

    /** {@code category/reason} of a report. */
    public static String of(TargetReport report) {
        return report.category() + "/" + report.reason();
    }

    /** The report's outcome is {@code expected} ({@code category/reason}); else the failure shows the report. */
    public static void assertOutcome(String expected, JsonNode report) {
        assertEquals(expected, of(report), report::toPrettyString);
    }

    /** The same for a report object; the failure shows its summary. */
    public static void assertOutcome(String expected, TargetReport report) {
        assertEquals(expected, of(report), report::summary);
    }
}
