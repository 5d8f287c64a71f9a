package dev.pullpath.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Debian's {@code promtool}, used to lint a metrics exposition the way Prometheus's own tooling does. */
public final class Promtool {
    public static final Path BINARY = Path.of("/usr/bin/promtool");

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    /*
     * Exit codes of "promtool check metrics" as observed on 2.42.0+ds (Debian 12); all output goes to stderr:
     *   0 - clean, nothing printed;
     *   3 - lint problems, one per line, e.g. `demo_requests counter metrics should have "_total" suffix`;
     *   1 - the text could not be parsed, e.g. `error while linting: text format parsing error in line 1: ...`.
     * Both 1 and 3 mean "this exposition has problems", so both return the printed lines. Anything else
     * (usage error, killed) is a broken tool invocation and throws.
     */
    private static final int CLEAN = 0;
    private static final int PARSE_ERROR = 1;
    private static final int LINT_PROBLEMS = 3;

    private Promtool() {}

    /** Skips the calling test when promtool is not installed; under {@code CI=true} that is a failure instead. */
    public static void assumeAvailable() {
        PrometheusServer.assumeInstalled(BINARY);
    }

    /**
     * Runs {@code promtool check metrics} on {@code exposition} (Prometheus text format) and returns the problems it
     * reports, one per line; empty when the exposition is clean.
     */
    public static List<String> checkMetrics(String exposition) {
        // promtool stops reading at the first parse error; its exit code and output still tell the story.
        Result r = exec(Path.of("."), exposition.getBytes(StandardCharsets.UTF_8), "check", "metrics");
        List<String> lines = r.output().lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        if (r.exit() == CLEAN) {
            return List.of();
        }
        if ((r.exit() == LINT_PROBLEMS || r.exit() == PARSE_ERROR) && !lines.isEmpty()) {
            return lines;
        }
        throw new IllegalStateException("promtool check metrics exited " + r.exit() + ": " + r.output());
    }

    /** What a promtool subcommand printed (stdout and stderr together) and how it exited. */
    public record Result(int exit, String output) {}

    /**
     * Runs {@code promtool ARGS...} in {@code dir} and returns its exit code and output, for subcommands whose
     * exit code is their verdict ({@code check rules}, {@code test rules}).
     */
    public static Result run(Path dir, String... args) {
        return exec(dir, null, args);
    }

    private static Result exec(Path dir, byte[] stdin, String... args) {
        Path out = null;
        Process p = null;
        try {
            // Output goes to a file, not a pipe, so a chatty promtool can never block on a full pipe buffer.
            out = Files.createTempFile("promtool-", ".txt");
            List<String> command = new java.util.ArrayList<>(List.of(BINARY.toString()));
            command.addAll(List.of(args));
            p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(out.toFile()).start();
            try (OutputStream in = p.getOutputStream()) {
                if (stdin != null) {
                    in.write(stdin);
                }
            } catch (IOException brokenPipe) {
                // promtool may stop reading early; its exit code and output say why.
            }
            if (!p.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException("promtool " + String.join(" ", args) + " did not finish within " + TIMEOUT);
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run promtool", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running promtool", e);
        } finally {
            if (p != null && p.isAlive()) {
                p.destroyForcibly();
            }
            if (out != null) {
                try {
                    Files.deleteIfExists(out);
                } catch (IOException ignored) {
                    // a leftover temp file is harmless
                }
            }
        }
    }
}
