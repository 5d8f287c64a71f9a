package dev.pullpath.probe;

import java.util.concurrent.CompletionException;

/** What the probe's future chains need of their errors, in one place. */
final class Futures {
    private Futures() {
    }

    /** The failure itself: a dependent stage wraps its source's in a {@link CompletionException}. */
    static Throwable cause(Throwable error) {
        return error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    }
}
