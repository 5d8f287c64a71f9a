package dev.pullpath.diagnosis;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;

/** The path to one resolved address: its own outcome and the hops it went through. */
@JsonPropertyOrder({"address", "family", "ok", "category", "reason", "summary", "phases"})
public record AddressReport(String address, String family, @JsonIgnore Diagnosis diagnosis, List<PhaseReport> phases) {

    public AddressReport {
        phases = List.copyOf(phases);
    }

    @JsonProperty
    public boolean ok() {
        return diagnosis.ok();
    }

    @JsonProperty
    public String category() {
        return diagnosis.reason().category().label();
    }

    @JsonProperty
    public String reason() {
        return diagnosis.reason().code();
    }

    @JsonProperty
    public String summary() {
        return diagnosis.summary();
    }
}
