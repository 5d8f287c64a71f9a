package dev.pullpath.export;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.pullpath.diagnosis.TargetReport;

/** The JSON view of a diagnosis: one object per target, one line each, the same for the CLI and {@code /status}. */
public final class ReportJson {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .disable(SerializationFeature.INDENT_OUTPUT);

    private ReportJson() {
    }

    public static String line(TargetReport report) {
        try {
            return MAPPER.writeValueAsString(report);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a report did not serialize", e);
        }
    }

    public static ObjectMapper mapper() {
        return MAPPER;
    }
}
