package dev.pullpath.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Tooling drives the CLI: usage and config errors are exit 2 with one line and never a stack trace. */
class ExitCodesTest {

    @ParameterizedTest(name = "{0} → exit 2: {1}")
    @CsvSource(delimiter = '|', value = {
            "diagnose --timeout soon | invalid duration",
            "diagnose --timeout 0s | must be positive",
            "diagnose --max-addresses 0 | --max-addresses",
            "diagnose --resolver not-an-ip | --resolver",
            "diagnose --ca-file /nonexistent/ca.pem | /nonexistent/ca.pem",
            "diagnose http://public.ecr.aws | only https",
            "diagnose host:99999 | port must be",
            "diagnose --color sometimes | --color",
            "diagnose --image Not_An_Image! 127.0.0.1:1 | --image",
            "diagnose --no-such-flag | Unknown option",
            "frobnicate | Unmatched argument",
    })
    void usageAndConfigErrorsAreOneLine(String args, String message) {
        Cli.Run run = Cli.run(args.split(" "));
        assertEquals(2, run.exitCode(), run.err());
        assertTrue(run.err().contains(message), run.err());
        assertEquals(1, run.err().strip().lines().count(), "one line: " + run.err());
        assertFalse(run.err().contains("Exception") || run.err().contains("\tat "), run.err());
        assertTrue(run.out().isEmpty());
    }

    @Test
    void malformedCaFileIsAConfigError(@TempDir Path dir) throws Exception {
        Path bad = Files.writeString(dir.resolve("bad.pem"), "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n");
        Cli.Run run = Cli.run("diagnose", "--ca-file", bad.toString(), "127.0.0.1:1");
        assertEquals(2, run.exitCode(), run.err());
        assertTrue(run.err().startsWith("pullpath: CA file"), run.err());
    }

    @Test
    void helpAndVersionExitZero() {
        Cli.Run help = Cli.run("diagnose", "--help");
        assertEquals(0, help.exitCode());
        assertTrue(help.out().contains("--max-addresses"));
        Cli.Run version = Cli.run("--version");
        assertEquals(0, version.exitCode());
        assertTrue(version.out().startsWith("pullpath "));
    }
}
