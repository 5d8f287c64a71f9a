package dev.pullpath.network;

import dev.pullpath.testing.Outcomes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pullpath.testing.CpuLoad;
import dev.pullpath.testing.NetworkLab;
import dev.pullpath.testing.Netns;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The ICMP evidence of a rejected connect must not depend on luck: each reject row, fifty times in a row while every
 * core is busy, and in the daemon with twenty targets whose probes overlap. The router's ICMP rate limit is off:
 * a real router's limit (Linux: one per second per destination after a burst of six) is the router's property,
 * and not what is under test.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IcmpEvidenceUnderLoadTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int REPEATS = 50;

    @RegisterExtension
    static final NetworkLab.Extension LAB = new NetworkLab.Extension();

    private NetworkLab lab;
    private Path hosts;
    private final List<String> counts = new ArrayList<>();

    @BeforeAll
    void lab() throws Exception {
        lab = LAB.get();
        lab.router().exec("sysctl", "-q", "-w", "net.ipv4.icmp_ratelimit=0");
        lab.router().exec("sysctl", "-q", "-w", "net.ipv6.icmp.ratelimit=0");
        StringBuilder names = new StringBuilder(NetworkLab.SERVER + " registry.test\n" + NetworkLab.SERVER_V6
                + " registry6.test\n");
        for (int i = 0; i < 20; i++) {
            names.append(NetworkLab.SERVER).append(" node").append(i).append(".test\n");
        }
        hosts = Files.writeString(lab.work().resolve("hosts"), names.toString());
    }

    @AfterEach
    void clear() {
        lab.clearRules();
    }

    @AfterAll
    void report() {
        counts.forEach(System.out::println);
    }

    @ParameterizedTest(name = "{0} REJECT --reject-with {1}, 50 times under load → {2} naming {3}")
    @CsvSource({
            "ipv4, icmp-admin-prohibited,  firewall/admin_prohibited,    10.0.0.1, type 3 code 13",
            "ipv4, icmp-host-unreachable,  firewall/host_unreachable,    10.0.0.1, type 3 code 1",
            "ipv4, icmp-net-unreachable,   firewall/network_unreachable, 10.0.0.1, type 3 code 0",
            "ipv6, icmp6-adm-prohibited,   firewall/admin_prohibited,    fd00:a::1, type 1 code 1",
            "ipv6, icmp6-addr-unreachable, firewall/host_unreachable,    fd00:a::1, type 1 code 3",
            "ipv6, icmp6-no-route,         firewall/network_unreachable, fd00:a::1, type 1 code 0"})
    @DisplayName("a router's reject, repeated under CPU load → the same reason and the rejecting hop every time")
    void rejectRepeatedUnderLoad(String family, String rejectWith, String expected, String hop, String icmp)
            throws Exception {
        boolean v6 = family.equals("ipv6");
        String[] rule = {"FORWARD", "-p", "tcp", "--dport", "443", "-j", "REJECT", "--reject-with", rejectWith};
        if (v6) {
            lab.ruleV6(rule[0], java.util.Arrays.copyOfRange(rule, 1, rule.length));
        } else {
            lab.rule(rule[0], java.util.Arrays.copyOfRange(rule, 1, rule.length));
        }
        List<JsonNode> reports = new ArrayList<>();
        try (CpuLoad load = CpuLoad.allCores()) {
            Netns.Result r = lab.client().java(Duration.ofMinutes(3), "dev.pullpath.testing.RepeatedDiagnosis",
                    String.valueOf(REPEATS), "--timeout", "2s", "--no-proxy", "*", "--hosts-file", hosts.toString(),
                    v6 ? "registry6.test" : "registry.test");
            assertTrue(load.running(), "the load ran throughout");
            assertEquals(0, r.exitCode(), r.err());
            for (String line : r.out().split("\n")) {
                if (line.startsWith("{")) {
                    reports.add(JSON.readTree(line));
                }
            }
        }
        assertEquals(REPEATS, reports.size());
        Map<String, Integer> seen = new TreeMap<>();
        int named = 0;
        for (JsonNode j : reports) {
            seen.merge(Outcomes.of(j), 1, Integer::sum);
            String summary = j.get("summary").asText();
            if (summary.contains(hop) && summary.contains(icmp)) {
                named++;
            }
        }
        counts.add(String.format("icmp under load: %s %-24s %s, hop named %d/%d", family, rejectWith, seen, named,
                REPEATS));
        assertEquals(Map.of(expected, REPEATS), seen, () -> reports.get(0).toPrettyString());
        assertEquals(REPEATS, named, () -> reports.get(0).toPrettyString());
    }

    @org.junit.jupiter.api.Test
    @DisplayName("the daemon, 20 targets probed every second under CPU load, router rejects → admin_prohibited, every probe")
    void daemonWithOverlappingProbes() throws Exception {
        lab.rule("FORWARD", "-p", "tcp", "--dport", "443", "-j", "REJECT", "--reject-with", "icmp-admin-prohibited");
        StringBuilder targets = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            targets.append("  - {url: \"https://node").append(i).append(".test\"}\n");
        }
        Path config = Files.writeString(lab.work().resolve("run.yaml"), "listen: 127.0.0.1:9464\n"
                + "interval: 1s\nregistryInterval: 10s\ntimeout: 2s\nfleet: {registryBudget: 100}\nhostsFile: " + hosts + "\n"
                + "proxy: {noProxy: \"*\"}\ntargets:\n" + targets);
        try (CpuLoad load = CpuLoad.allCores()) {
            List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                    "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("surefire.test.class.path",
                            System.getProperty("java.class.path")), "dev.pullpath.cli.Main", "run", "--config",
                    config.toString()));
            Process daemon = lab.peer(lab.client(), cmd, "listening on", Duration.ofSeconds(60));
            Instant until = Instant.now().plusSeconds(12);
            while (Instant.now().isBefore(until)) {
                Thread.sleep(500);
            }
            String metrics = lab.client().run(Duration.ofSeconds(10), "curl", "-s", "--noproxy", "*",
                    "http://127.0.0.1:9464/metrics").out();
            String status = lab.client().run(Duration.ofSeconds(10), "curl", "-s", "--noproxy", "*",
                    "http://127.0.0.1:9464/status").out();
            NetworkLab.stop(daemon);
            assertTrue(load.running(), "the load ran throughout");
            Map<String, Double> byReason = new TreeMap<>();
            Matcher m = Pattern.compile("pullpath_probe_failures_total\\{([^}]*)} ([0-9.e+]+)").matcher(metrics);
            while (m.find()) {
                Matcher reason = Pattern.compile("reason=\"([^\"]+)\"").matcher(m.group(1));
                assertTrue(reason.find(), m.group());
                byReason.merge(reason.group(1), Double.parseDouble(m.group(2)), Double::sum);
            }
            counts.add("icmp under load: daemon, 20 targets, failures by reason after 12 s: " + byReason);
            assertEquals(List.of("admin_prohibited"), List.copyOf(byReason.keySet()), metrics);
            assertTrue(byReason.get("admin_prohibited") >= 100, "at least 5 rounds of 20: " + byReason);
            JsonNode reports = JSON.readTree(status);
            assertEquals(20, reports.size());
            for (JsonNode r : reports) {
                assertTrue(r.get("summary").asText().contains("rejected by " + NetworkLab.ROUTER_INSIDE), r.toString());
            }
        }
    }
}
