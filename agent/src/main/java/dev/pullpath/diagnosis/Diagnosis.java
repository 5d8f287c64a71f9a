package dev.pullpath.diagnosis;

/** An outcome and the one line of evidence that supports it (an address, an errno, an issuer, a status line). */
public record Diagnosis(Reason reason, String summary) {

    public static final Diagnosis OK = new Diagnosis(Reason.OK, "reachable");

    public boolean ok() {
        return reason.ok();
    }
}
