package dev.pullpath.deploy;

import java.time.Duration;
import java.util.List;

/** A program run to completion within a timeout, its output captured through files (never a full pipe). */
record Command(int exitCode, String out, String err) {

    static Command run(Duration timeout, List<String> command) {
        dev.pullpath.testing.Netns.Result r = dev.pullpath.testing.Netns.runOnHost(timeout, command);
        return new Command(r.exitCode(), r.out(), r.err());
    }

    /** Runs and fails unless the program exits 0; returns its standard output. */
    static String check(Duration timeout, String... command) {
        Command r = run(timeout, List.of(command));
        if (r.exitCode != 0) {
            throw new IllegalStateException(String.join(" ", command) + " exited " + r.exitCode + ": " + r.err
                    + r.out);
        }
        return r.out;
    }
}
