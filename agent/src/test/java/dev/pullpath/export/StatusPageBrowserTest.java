package dev.pullpath.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pullpath.Agent;
import dev.pullpath.config.ConfigLoader;
import dev.pullpath.testing.HeadlessChromium;
import dev.pullpath.testing.Outcomes;
import dev.pullpath.testing.RegistryResponder;
import dev.pullpath.testing.TcpPeers;
import dev.pullpath.testing.TestPki;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The status page at {@code /} as a person sees it: a running agent (in-process) with a healthy target, a warning
 * (a containerd mirror that refuses connections before a working server) and a failure (a closed port), loaded in
 * Debian's headless chromium at a phone's width.
 *
 * <p>The screenshot goes to {@code target/status-page.png}; with {@code -Dpullpath.screenshot=PATH} it is copied
 * there too (how docs/status-page.png, which README shows, is made).
 */
class StatusPageBrowserTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path SCRIPT = ROOT.resolve("agent/src/test/js/status-page-check.cjs");
    private static final int PHONE_WIDTH = 390;
    private static final int PHONE_HEIGHT = 844;
    private static final Pattern SINCE = Pattern.compile(
            "^since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC \\(\\d+s ago\\)$");
    private static final Pattern RUNBOOK_URL = Pattern.compile("runbook_url: '([^'#]+)#");
    private static final Pattern HEADING = Pattern.compile("^#+ (.+)$", Pattern.MULTILINE);

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    @DisplayName("healthy, warning and failing targets → chromium at 390 px shows them worst first with state, "
            + "reason, since, failed hop, hint and runbook link; no script, no console error, no sideways scroll")
    void statusPageInHeadlessChromiumAtPhoneWidth() throws Exception {
        HeadlessChromium.assumeAvailable();
        TestPki.Ca ca = TestPki.newCa("CN=pullpath status page CA");
        ca.writePem(dir.resolve("ca.pem"));
        try (RegistryResponder registry = new RegistryResponder(ca.issueFor("registry.test", "healthy.test"))
                .hostForRealm("registry.test")) {
            String mirrored = "registry.test:" + registry.port();
            int mirrorPort = TcpPeers.closedPort();
            int downPort = TcpPeers.closedPort();
            Path hosts = Files.createDirectories(dir.resolve("certs.d").resolve(mirrored));
            Files.writeString(hosts.resolve("hosts.toml"), "server = \"https://" + mirrored + "\"\n"
                    + "[host.\"https://mirror.test:" + mirrorPort + "\"]\n  capabilities = [\"pull\", \"resolve\"]\n");
            Files.writeString(dir.resolve("hosts"), "127.0.0.1 registry.test healthy.test mirror.test down.test\n");
            // Listed healthy first and failing last: the page must reorder them, worst first.
            Path config = Files.writeString(dir.resolve("config.yaml"), "listen: 127.0.0.1:0\nnode: node-a\n"
                    + "zone: zone-1\ninterval: 1s\nregistryInterval: 10s\ntimeout: 1s\nfleet: {registryBudget: 100}\n"
                    + "resolvers: [\"127.0.0.1:" + TcpPeers.closedPort() + "\"]\nhostsFile: " + dir.resolve("hosts")
                    + "\ncaFiles: [\"" + dir.resolve("ca.pem") + "\"]\ncontainerdCertsDir: " + dir.resolve("certs.d")
                    + "\ntargets:\n"
                    + "  - name: healthy\n    url: https://healthy.test:" + registry.port() + "\n"
                    + "  - name: mirrored\n    url: https://" + mirrored + "\n"
                    + "  - name: down\n    url: https://down.test:" + downPort + "\n");
            ConfigLoader loader = new ConfigLoader(Map.<String, String>of()::get);
            try (Agent agent = Agent.start(loader.load(config, true), loader)) {
                String base = "http://127.0.0.1:" + agent.address().getPort();
                Map<String, JsonNode> status = awaitStatus(base, Map.of("healthy", "none/ok",
                        "mirrored", "registry/mirror_unavailable", "down", "firewall/connect_refused"));

                Path screenshot = Path.of("target", "status-page.png").toAbsolutePath();
                long t0 = System.nanoTime();
                JsonNode page = HeadlessChromium.run(SCRIPT, base + "/", screenshot, PHONE_WIDTH, PHONE_HEIGHT);
                System.out.printf("status page in chromium: %d ms (npm install included on a fresh target/)%n",
                        (System.nanoTime() - t0) / 1_000_000);
                String shown = page.toPrettyString();

                assertEquals(200, page.path("status").asInt(), shown);
                assertEquals(List.of(), strings(page.path("problems")), "console errors, page errors, failed requests");
                assertEquals(0, page.path("scripts").asInt(), "the page needs no script");
                assertTrue(page.path("title").asText().startsWith("1 failing"), shown);
                assertEquals("1 failing, 1 warning, 1 ok of 3 targets", page.path("summary").asText(), shown);

                // Readable on a phone: nothing wider than the screen, no text smaller than 12 px.
                assertEquals(PHONE_WIDTH, page.path("clientWidth").asInt(), shown);
                assertTrue(page.path("scrollWidth").asInt() <= PHONE_WIDTH, "sideways scrolling: " + shown);
                assertEquals(List.of(), strings(page.path("overflowing")), "elements past the right edge");
                assertTrue(page.path("bodyFontPx").asDouble() >= 14, shown);
                assertTrue(page.path("smallestFontPx").asDouble() >= 12, shown);

                JsonNode targets = page.path("targets");
                List<String> order = new ArrayList<>();
                targets.forEach(t -> order.add(t.path("name").asText() + " " + t.path("state").asText()));
                assertEquals(List.of("down FAIL", "mirrored WARN", "healthy OK"), order, "worst first");
                targets.forEach(t -> assertTrue(t.path("visible").asBoolean(), t::toString));

                JsonNode down = targets.get(0);
                assertEquals("FAIL", down.path("badge").asText());
                assertEquals("firewall/connect_refused", down.path("reason").asText());
                assertTrue(SINCE.matcher(down.path("since").asText()).matches(), down::toString);
                assertTrue(down.path("hop").asText().startsWith("failed at connect: "), down::toString);
                assertTrue(down.path("hop").asText().contains(Integer.toString(downPort)), down::toString);
                assertEquals("hint: " + status.get("down").path("hint").asText(), down.path("hint").asText());
                assertEquals(StatusPage.RUNBOOK + "#firewall", down.path("runbook").asText());
                assertTrue(down.path("phases").asText().contains("connect"), down::toString);
                assertTrue(down.path("checked").asText().startsWith("probed 20"), down::toString);

                JsonNode warn = targets.get(1);
                assertEquals("WARN", warn.path("badge").asText());
                assertEquals("registry/mirror_unavailable", warn.path("reason").asText());
                assertTrue(SINCE.matcher(warn.path("since").asText()).matches(), warn::toString);
                assertTrue(warn.path("hop").asText().startsWith("failed at mirror https://mirror.test:" + mirrorPort),
                        warn::toString);
                assertEquals("hint: " + status.get("mirrored").path("hint").asText(), warn.path("hint").asText());
                assertEquals(StatusPage.RUNBOOK + "#registry", warn.path("runbook").asText());
                assertTrue(warn.path("endpoints").asText().contains("firewall/connect_refused")
                        && warn.path("endpoints").asText().contains("none/ok"), warn::toString);

                JsonNode ok = targets.get(2);
                assertEquals("OK", ok.path("badge").asText());
                assertEquals("none/ok", ok.path("reason").asText());
                assertTrue(SINCE.matcher(ok.path("since").asText()).matches(), ok::toString);
                assertTrue(ok.path("hint").isNull() && ok.path("runbook").isNull() && ok.path("hop").isNull(),
                        "nothing to act on for a healthy target: " + ok);
                assertTrue(ok.path("phases").asText().matches("dns .* → connect .* → tls .* → http .* → token .*"),
                        ok::toString);
                // "registry checked" appears only between two registry checks, so either form is right here.
                assertTrue(ok.path("checked").asText().startsWith("probed 20"), ok::toString);

                String copy = System.getProperty("pullpath.screenshot");
                if (copy != null && !copy.isBlank()) {
                    Files.copy(screenshot, Path.of(copy), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    @Test
    @DisplayName("the page's runbook links use the alerts' runbook base, and each category's anchor is a heading "
            + "of docs/runbook.md")
    void runbookLinksMatchTheAlertsAndTheRunbook() throws Exception {
        Set<String> bases = new TreeSet<>();
        Matcher m = RUNBOOK_URL.matcher(Files.readString(ROOT.resolve("dashboards/alerts/pullpath-rules.yaml")));
        while (m.find()) {
            bases.add(m.group(1));
        }
        assertEquals(Set.of(StatusPage.RUNBOOK), bases, "the alerts' runbook base");
        Set<String> headings = new TreeSet<>();
        Matcher h = HEADING.matcher(Files.readString(ROOT.resolve("docs/runbook.md")));
        while (h.find()) {
            headings.add(h.group(1).strip().toLowerCase(java.util.Locale.ROOT).replace(' ', '-'));
        }
        for (dev.pullpath.diagnosis.Category c : dev.pullpath.diagnosis.Category.values()) {
            if (c != dev.pullpath.diagnosis.Category.NONE) {
                assertTrue(headings.contains(c.label()), "docs/runbook.md has no section " + c.label() + ": "
                        + headings);
            }
        }
    }

    /** Polls /status until every named target shows its expected category/reason (the healthy one with a token). */
    private static Map<String, JsonNode> awaitStatus(String base, Map<String, String> expected) throws Exception {
        Instant until = Instant.now().plusSeconds(40);
        String last = "";
        while (Instant.now().isBefore(until)) {
            last = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/status")).timeout(Duration.ofSeconds(10))
                    .build(), HttpResponse.BodyHandlers.ofString()).body();
            Map<String, JsonNode> byName = new java.util.HashMap<>();
            for (JsonNode t : JSON.readTree(last)) {
                byName.put(t.path("target").asText(), t);
            }
            boolean all = expected.entrySet().stream().allMatch(e -> byName.containsKey(e.getKey())
                    && e.getValue().equals(Outcomes.of(byName.get(e.getKey()))));
            if (all && byName.get("healthy").toString().contains("\"phase\":\"token\"")) {
                return byName;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("the targets never showed " + expected + ": " + last);
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }
}
