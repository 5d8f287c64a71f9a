package dev.pullpath.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pullpath.config.Target;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.probe.PathProber;
import dev.pullpath.testing.Outcomes;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;

/** Runs pullpath the two ways users and tooling do: the command line, and the Java API behind it. */
public final class Cli {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Cli() {
    }

    /** What one command line printed and returned. */
    public record Run(int exitCode, String out, String err) {
        public List<JsonNode> json() {
            List<JsonNode> nodes = new ArrayList<>();
            for (String line : out.split("\n")) {
                if (!line.isBlank()) {
                    try {
                        nodes.add(JSON.readTree(line));
                    } catch (java.io.IOException e) {
                        throw new UncheckedIOException("not a JSON line: " + line, e);
                    }
                }
            }
            return nodes;
        }
    }

    /**
     * Runs the command line. A diagnose without proxy flags gets {@code --no-proxy *}: tests decide their proxies,
     * a developer's or CI runner's HTTPS_PROXY must not reach them.
     */
    public static Run run(String... args) {
        java.util.List<String> list = new java.util.ArrayList<>(java.util.List.of(args));
        if (!list.isEmpty() && list.get(0).equals("diagnose") && !list.contains("--proxy") && !list.contains("--no-proxy")
                && !list.contains("--help")) {
            list.add(1, "--no-proxy");
            list.add(2, "*");
        }
        args = list.toArray(String[]::new);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    /** The report for one target through the API, with options parsed from the same flags as the CLI. */
    public static TargetReport api(String target, String... flags) {
        DiagnoseCommand command = new DiagnoseCommand();
        java.util.List<String> list = new java.util.ArrayList<>(java.util.List.of(flags));
        if (!list.contains("--proxy") && !list.contains("--no-proxy")) {
            list.addAll(java.util.List.of("--no-proxy", "*"));
        }
        new CommandLine(command).parseArgs(list.toArray(String[]::new));
        try (PathProber prober = new PathProber(command.options(), 1)) {
            Target t = Target.parse(target);
            return prober.probe(t, command.options(), dev.pullpath.probe.Depth.REGISTRY, command.image == null ? null
                    : dev.pullpath.probe.ManifestProbe.parse(command.image, t.host())).get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("the API probe of " + target + " failed", e);
        }
    }

    /**
     * Diagnoses one target through the CLI's JSON and through the API, asserts both say the same, and returns
     * the JSON object.
     */
    public static JsonNode diagnose(String target, List<String> flags) {
        List<String> args = new ArrayList<>(List.of("diagnose", "--json"));
        args.addAll(flags);
        args.add(target);
        Run run = run(args.toArray(String[]::new));
        List<JsonNode> lines = run.json();
        assertEquals(1, lines.size(), "one JSON line per target; stderr: " + run.err());
        JsonNode json = lines.get(0);
        assertEquals(json.get("ok").asBoolean() ? 0 : 1, run.exitCode(), "exit code matches ok");
        TargetReport report = api(target, flags.toArray(String[]::new));
        assertEquals(Outcomes.of(json), Outcomes.of(report), "CLI and API agree");
        return json;
    }
}
