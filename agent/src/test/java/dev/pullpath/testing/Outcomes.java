package dev.pullpath.testing;

import com.fasterxml.jackson.databind.JsonNode;

/** The one way tests name a report's outcome: {@code category/reason}, as docs/taxonomy.md and alerts write it. */
public final class Outcomes {
    private Outcomes() {
    }

    /** {@code category/reason} of a report's JSON ({@code diagnose --json}, {@code /status}). */
    public static String of(JsonNode report) {
        return report.get("category").asText() + "/" + report.get("reason").asText();
    }

    /** {@code category/reason} of a report the prober returned in-process. */
    public static String of(dev.pullpath.diagnosis.Diagnosed report) {
        return report.category() + "/" + report.reason();
    }
}
