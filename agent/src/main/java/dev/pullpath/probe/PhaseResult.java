package dev.pullpath.probe;

import dev.pullpath.diagnosis.Diagnosis;
import dev.pullpath.diagnosis.Phase;
import dev.pullpath.diagnosis.PhaseReport;
import dev.pullpath.diagnosis.Reason;

/**
 * What one phase hands to the next: its report, and either a value to carry on with or the diagnosis that stops
 * the path here. The uniform shape every phase class returns.
 */
public record PhaseResult<T>(PhaseReport report, T value, Diagnosis failure) {

    public static <T> PhaseResult<T> ok(Phase phase, long startNanos, String detail, T value) {
        return new PhaseResult<>(PhaseReport.of(phase, true, startNanos, detail), value, null);
    }

    public static <T> PhaseResult<T> failed(Phase phase, long startNanos, Reason reason, String summary) {
        return new PhaseResult<>(PhaseReport.of(phase, false, startNanos, summary), null,
                new Diagnosis(reason, summary));
    }

    /** A failure that still carries a value, e.g. a TLS session whose HTTP answer was wrong. */
    public static <T> PhaseResult<T> failed(Phase phase, long startNanos, Reason reason, String summary, T value) {
        return new PhaseResult<>(PhaseReport.of(phase, false, startNanos, summary), value,
                new Diagnosis(reason, summary));
    }

    public boolean ok() {
        return failure == null;
    }

    public Diagnosis diagnosis() {
        return failure == null ? Diagnosis.OK : failure;
    }

    /** The same result with a note after its detail: something the hop noticed that did not decide it. */
    public PhaseResult<T> withNote(String note) {
        if (note == null) {
            return this;
        }
        PhaseReport r = report;
        return new PhaseResult<>(new PhaseReport(r.phase(), r.ok(), r.durationMs(), r.detail() + " (note: " + note
                + ")"), value, failure);
    }

    /** The same failed hop (its time kept), diagnosed anew by a check that ran after it. */
    public PhaseResult<T> rediagnosed(Reason reason, String summary) {
        return new PhaseResult<>(new PhaseReport(report.phase(), false, report.durationMs(), summary), value,
                new Diagnosis(reason, summary));
    }
}
