package dev.pullpath.dashboards;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The copies sync-rules.sh writes are what it would write now: run dashboards/alerts/sync-rules.sh when this fails. */
class RulesSyncTest {
    private static final String HINT = " (run dashboards/alerts/sync-rules.sh and commit its output)";

    @Test
    @DisplayName("the PrometheusRule carries the rule file's groups, in namespace pullpath")
    void prometheusRuleMatches() {
        JsonNode rule = DashboardFiles.yaml(DashboardFiles.PROMETHEUS_RULE);
        assertEquals("monitoring.coreos.com/v1", rule.path("apiVersion").asText());
        assertEquals("PrometheusRule", rule.path("kind").asText());
        assertEquals("pullpath", rule.path("metadata").path("name").asText());
        assertEquals("pullpath", rule.path("metadata").path("namespace").asText());
        assertEquals("pullpath", rule.path("metadata").path("labels").path("app.kubernetes.io/name").asText());
        assertEquals(DashboardFiles.yaml(DashboardFiles.RULES).path("groups"), rule.path("spec").path("groups"),
                "PrometheusRule" + HINT);
    }

    @Test
    @DisplayName("the Helm chart's rule file is the rule file")
    void helmCopyMatches() {
        assertEquals(DashboardFiles.yaml(DashboardFiles.RULES), DashboardFiles.yaml(DashboardFiles.HELM_RULES),
                "Helm copy" + HINT);
    }

    @Test
    @DisplayName("Grafana's alerting provisioning is what the converter makes of the rule file")
    void grafanaAlertingMatches() {
        assertEquals(GrafanaAlerting.fromPrometheusRules(DashboardFiles.yaml(DashboardFiles.RULES)),
                DashboardFiles.yaml(DashboardFiles.GRAFANA_ALERTING), "Grafana alerting" + HINT);
    }

    @Test
    @DisplayName("Grafana alerts: same names, same PromQL, same for and severity as the Prometheus alerts")
    void grafanaAlertsCorrespond() {
        Map<String, String> prometheus = new TreeMap<>();
        DashboardFiles.prometheusAlerts().forEach((name, rule) -> prometheus.put(name, rule.path("expr").asText().strip()
                + " for " + rule.path("for").asText() + " " + rule.path("labels").path("severity").asText()));
        Map<String, String> grafana = new TreeMap<>();
        for (JsonNode group : DashboardFiles.yaml(DashboardFiles.GRAFANA_ALERTING).path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                JsonNode query = rule.path("data").get(0);
                assertEquals("A", query.path("refId").asText());
                assertEquals("C", rule.path("condition").asText());
                grafana.put(rule.path("title").asText(), query.path("model").path("expr").asText().strip()
                        + " for " + rule.path("for").asText() + " " + rule.path("labels").path("severity").asText());
            }
        }
        assertEquals(prometheus, grafana);
    }
}
