package dev.pullpath.dashboards;

import static dev.pullpath.dashboards.DashboardFiles.assertPromtoolOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pullpath.testing.Promtool;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** dashboards/alerts/pullpath-rules.yaml, judged by Prometheus's own promtool and against docs/taxonomy.md. */
class PrometheusRulesTest {
    private static final Set<String> SEVERITIES = Set.of("critical", "warning", "info");
    private static final Set<String> ANNOTATIONS = Set.of("summary", "description", "hint", "runbook_url");
    private static final Pattern REASON_BRANCH =
            Pattern.compile("eq \\$labels\\.reason \"([a-z_]+)\" }}(.*?)\\s*\\{\\{", Pattern.DOTALL);
    /** The node alert leaves these to alerts of their own (PullpathPathWarning, PullpathRegistryRateLimited). */
    private static final Set<String> NOT_NODE_FAILURES = Set.of("vpc_endpoint/private_dns_override",
            "registry/mirror_unavailable", "registry/hosts_config_ignored", "registry/rate_limited");

    @Test
    @DisplayName("promtool check rules accepts the rule file and the Helm chart's copy")
    void promtoolChecksTheRules() {
        Promtool.assumeAvailable();
        assertPromtoolOk(Promtool.run(DashboardFiles.RULES.getParent(), "check", "rules",
                DashboardFiles.RULES.toString(), DashboardFiles.HELM_RULES.toString()), "promtool check rules");
    }

    @Test
    @DisplayName("promtool test rules: every unit test passes")
    void promtoolUnitTestsPass() {
        Promtool.assumeAvailable();
        assertPromtoolOk(Promtool.run(DashboardFiles.RULES_TEST.getParent(), "test", "rules",
                DashboardFiles.RULES_TEST.getFileName().toString()), "promtool test rules");
    }

    @Test
    @DisplayName("every alert has a unit test that fires it and one where it must stay silent")
    void everyAlertIsTestedBothWays() {
        Set<String> fires = new TreeSet<>();
        Set<String> silent = new TreeSet<>();
        for (JsonNode test : DashboardFiles.yaml(DashboardFiles.RULES_TEST).path("tests")) {
            for (JsonNode check : test.path("alert_rule_test")) {
                String alert = check.path("alertname").asText();
                (check.path("exp_alerts").isEmpty() ? silent : fires).add(alert);
            }
        }
        Set<String> alerts = DashboardFiles.prometheusAlerts().keySet();
        assertEquals(new TreeSet<>(alerts), fires, "alerts with a firing case");
        assertEquals(new TreeSet<>(alerts), silent, "alerts with a case that must not fire");
    }

    @Test
    @DisplayName("every alert has a severity, a for, and the summary, description, hint and runbook_url annotations")
    void everyAlertCarriesItsLabelsAndAnnotations() {
        for (Map.Entry<String, JsonNode> e : DashboardFiles.prometheusAlerts().entrySet()) {
            JsonNode rule = e.getValue();
            assertTrue(e.getKey().startsWith("Pullpath"), e.getKey());
            assertTrue(SEVERITIES.contains(rule.path("labels").path("severity").asText()), e.getKey() + " severity");
            assertTrue(rule.path("for").asText().matches("\\d+[mh]"), e.getKey() + " for");
            Set<String> names = new TreeSet<>();
            rule.path("annotations").fieldNames().forEachRemaining(names::add);
            assertEquals(new TreeSet<>(ANNOTATIONS), names, e.getKey());
            rule.path("annotations").forEach(a -> assertFalse(a.asText().isBlank(), e.getKey()));
        }
    }

    @Test
    @DisplayName("the node alert's hint for each reason is the taxonomy's hint; fixed-reason alerts quote theirs")
    void hintsAreTheTaxonomys() {
        Map<String, String> taxonomy = DashboardFiles.taxonomyHints();
        Map<String, String> byReason = new TreeMap<>();
        taxonomy.forEach((pair, hint) -> {
            if (!NOT_NODE_FAILURES.contains(pair)) {
                // The hint template keys on the reason alone: that holds only while reason strings are unique.
                assertEquals(null, byReason.put(pair.substring(pair.indexOf('/') + 1), hint), "reason twice: " + pair);
            }
        });
        Map<String, JsonNode> alerts = DashboardFiles.prometheusAlerts();
        Map<String, String> inRule = new TreeMap<>();
        Matcher m = REASON_BRANCH.matcher(alerts.get("PullpathNodeFailing").path("annotations").path("hint").asText());
        while (m.find()) {
            inRule.put(m.group(1), m.group(2));
        }
        assertEquals(byReason, inRule);
        assertEquals(taxonomy.get("vpc_endpoint/private_dns_override"),
                alerts.get("PullpathPathWarning").path("annotations").path("hint").asText());
        assertEquals(taxonomy.get("registry/mirror_unavailable"),
                alerts.get("PullpathMirrorUnavailable").path("annotations").path("hint").asText());
        assertEquals(taxonomy.get("registry/hosts_config_ignored"),
                alerts.get("PullpathHostsConfigIgnored").path("annotations").path("hint").asText());
        assertEquals(taxonomy.get("registry/rate_limited"),
                alerts.get("PullpathRegistryRateLimited").path("annotations").path("hint").asText());
    }

    @Test
    @DisplayName("the fleet alert has a hint for every category of the taxonomy")
    void fleetHintCoversEveryCategory() {
        String hint = DashboardFiles.prometheusAlerts().get("PullpathRegistryUnreachableFleet")
                .path("annotations").path("hint").asText();
        for (String category : DashboardFiles.problemCategories()) {
            assertTrue(hint.contains("eq $labels.category \"" + category + "\" }}"), category);
        }
    }
}
