package dev.pullpath.deploy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A program run to completion within a timeout, its output captured through files (never a full pipe). */
record Command(int exitCode, String out, String err) {

    static Command run(Duration timeout, List<String> command) {
        try {
            Path out = Files.createTempFile("cmd-out", ".txt");
            Path err = Files.createTempFile("cmd-err", ".txt");
            try {
                ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile())
                        .redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File(
                                "/dev/null")));
                dev.pullpath.testing.Netns.withoutProxyEnvironment(pb);
                Process p = pb.start();
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                    throw new IllegalStateException(String.join(" ", command) + " did not finish within " + timeout);
                }
                return new Command(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                        Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + command, e);
        }
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
