package dev.pullpath.diagnosis;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Something with a diagnosis (a target's report, one address's path), shown the one way every view shows it:
 * {@code ok}, {@code category}, {@code reason}, {@code summary}, and the verdict.
 */
public interface Diagnosed {
    Diagnosis diagnosis();

    @JsonProperty
    default boolean ok() {
        return diagnosis().ok();
    }

    @JsonProperty
    default String category() {
        return diagnosis().reason().category().label();
    }

    @JsonProperty
    default String reason() {
        return diagnosis().reason().code();
    }

    @JsonProperty
    default String summary() {
        return diagnosis().summary();
    }

    @JsonIgnore
    default Reason outcome() {
        return diagnosis().reason();
    }

    /** OK, WARN or FAIL: what every view shows. */
    @JsonIgnore
    default Verdict verdict() {
        return diagnosis().reason().verdict();
    }
}
