package dev.pullpath.diagnosis;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;

/** The path to one resolved address: its own outcome and the hops it went through. */
@JsonPropertyOrder({"address", "family", "ok", "category", "reason", "summary", "phases"})
public record AddressReport(String address, String family, @JsonIgnore Diagnosis diagnosis, List<PhaseReport> phases)
        implements Diagnosed {

    public AddressReport {
        phases = List.copyOf(phases);
    }
}
