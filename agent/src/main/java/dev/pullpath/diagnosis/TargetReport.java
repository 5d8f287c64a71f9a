package dev.pullpath.diagnosis;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;

/**
 * The diagnosis of one target: the single result model. {@code diagnose --json}, {@code /status}, the logs and
 * the metrics are all views of this record.
 *
 * @param target      the target as the user named it ({@code host:port})
 * @param diagnosis   the worst outcome over the target's addresses
 * @param hint        the reason's hint for this target
 * @param phases      the hops of the path the diagnosis is about, in order
 * @param addresses   every probed address with its own outcome
 * @param evidence    what each hop saw (answers, chain, status line); never a secret
 * @param checkedAt   when the probe started, RFC 3339
 */
@JsonPropertyOrder({"target", "ok", "category", "reason", "summary", "hint", "phases", "addresses", "evidence", "checkedAt"})
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TargetReport(
        String target,
        @JsonIgnore Diagnosis diagnosis,
        String hint,
        List<PhaseReport> phases,
        List<AddressReport> addresses,
        Evidence evidence,
        String checkedAt) {

    public TargetReport {
        phases = List.copyOf(phases);
        addresses = List.copyOf(addresses);
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

    @JsonIgnore
    public Reason outcome() {
        return diagnosis.reason();
    }
}
