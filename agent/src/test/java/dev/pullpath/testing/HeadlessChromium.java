package dev.pullpath.testing;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Debian's chromium, headless, driven by playwright-core from Node: a page loaded the way a person's browser loads
 * it. playwright-core (the driver only, no browser download) is installed with npm into {@code target/}, once per
 * build directory; the browser is Debian's {@code /usr/bin/chromium}.
 *
 * <p>Network containment: the browser runs with background networking off and only loads the URL it is given,
 * which callers keep on 127.0.0.1; npm reaches its registry once, to install playwright-core.
 */
public final class HeadlessChromium {
    public static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    /** The version known to drive Debian 12's chromium on these machines. */
    public static final String PLAYWRIGHT_CORE = "playwright-core@1.65.1";
    private static final Path NODE_DIR = Path.of("target", "playwright").toAbsolutePath();
    private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(3);
    private static final Duration RUN_TIMEOUT = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper();

    private HeadlessChromium() {}

    /** Skips without chromium, node or npm; under {@code CI=true} that fails instead (.ci/run installs them). */
    public static void assumeAvailable() {
        List<String> missing = new ArrayList<>();
        if (!Files.isExecutable(CHROMIUM)) {
            missing.add(CHROMIUM.toString());
        }
        for (String tool : List.of("node", "npm")) {
            if (!onPath(tool)) {
                missing.add(tool);
            }
        }
        if (missing.isEmpty()) {
            return;
        }
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            fail("chromium, nodejs and npm must be installed under CI=true (missing " + missing + "); .ci/run "
                    + "installs them");
        }
        Assumptions.assumeTrue(false, "skipping: missing " + missing + " (apt-get install chromium nodejs npm)");
    }

    /**
     * Runs {@code script} (a Node script taking URL, screenshot path, width and height) against {@code url} in a
     * viewport of {@code width}×{@code height} CSS pixels and returns the JSON object it prints.
     */
    public static JsonNode run(Path script, String url, Path screenshot, int width, int height) throws Exception {
        Path module = installPlaywrightCore();
        Path out = Files.createTempFile("pullpath-chromium", ".out");
        Path err = Files.createTempFile("pullpath-chromium", ".err");
        try {
            ProcessBuilder pb = Netns.withoutProxyEnvironment(new ProcessBuilder("node", script.toString(), url,
                    screenshot.toString(), Integer.toString(width), Integer.toString(height))
                    .redirectOutput(out.toFile()).redirectError(err.toFile()));
            pb.environment().put("PLAYWRIGHT_CORE", module.toString());
            pb.environment().put("CHROMIUM", CHROMIUM.toString());
            Process p = pb.start();
            try {
                if (!p.waitFor(RUN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    fail("the browser script did not finish within " + RUN_TIMEOUT + ": " + Files.readString(err));
                }
            } finally {
                // Chromium is the script's child: killing the node process by its PID leaves the browser to its
                // own pipe-closed shutdown, so take the descendants first.
                p.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            String stdout = Files.readString(out, StandardCharsets.UTF_8).strip();
            if (p.exitValue() != 0 || stdout.isEmpty()) {
                fail("the browser script exited " + p.exitValue() + ": " + Files.readString(err, StandardCharsets.UTF_8));
            }
            return JSON.readTree(stdout);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** The playwright-core module directory, installed with npm into target/playwright when not there yet. */
    private static synchronized Path installPlaywrightCore() throws IOException, InterruptedException {
        Path module = NODE_DIR.resolve("node_modules").resolve("playwright-core");
        if (Files.isRegularFile(module.resolve("package.json"))) {
            return module;
        }
        Files.createDirectories(NODE_DIR);
        Path log = NODE_DIR.resolve("npm-install.log");
        ProcessBuilder pb = new ProcessBuilder("npm", "install", "--no-save", "--no-audit", "--no-fund",
                "--prefix", NODE_DIR.toString(), PLAYWRIGHT_CORE)
                .redirectErrorStream(true).redirectOutput(log.toFile());
        // playwright-core downloads no browser on install; this says so explicitly, should a version ever do.
        pb.environment().put("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        Process p = pb.start();
        if (!p.waitFor(INSTALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            p.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            fail("npm install " + PLAYWRIGHT_CORE + " did not finish within " + INSTALL_TIMEOUT + ": "
                    + Files.readString(log));
        }
        if (p.exitValue() != 0 || !Files.isRegularFile(module.resolve("package.json"))) {
            fail("npm install " + PLAYWRIGHT_CORE + " failed (exit " + p.exitValue() + "): " + Files.readString(log));
        }
        return module;
    }

    private static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }
}
