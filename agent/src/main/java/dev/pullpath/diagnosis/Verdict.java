package dev.pullpath.diagnosis;

import java.util.Locale;

/**
 * What a pull on the node would meet, in three words: derived from the reason in one place ({@link
 * Reason#verdict()}), and what every view (the CLI, {@code /status}, the page, the logs) shows.
 */
public enum Verdict {
    /** Pulls get through and nothing is wrong. */
    OK,
    /** Pulls get through, but not the way they should (a warning reason). */
    WARN,
    /** Pulls fail. */
    FAIL;

    /** {@code ok}, {@code warn} or {@code fail}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
