package dev.pullpath.dashboards;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The Grafana alerting provisioning file against Grafana's file-provisioning format (no Grafana server is at hand):
 * the field names and types of Grafana's provisioning structs ({@code AlertRuleGroupV1}, {@code AlertRuleV1},
 * {@code QueryV1} in pkg/services/provisioning/alerting/rules_types.go), the checks their mapToModel makes (title,
 * uid, condition, data, durations, the noDataState and execErrState enums), and what its value types expand from
 * the environment: strings, labels and datasourceUid go through os.ExpandEnv, annotations and the query model do not.
 */
class GrafanaProvisioningFormatTest {
    /** Top-level keys of Grafana's alerting provisioning file (AlertingFileV1). */
    private static final Set<String> FILE_KEYS = Set.of("apiVersion", "groups", "deleteRules", "contactPoints",
            "deleteContactPoints", "policies", "resetPolicies", "muteTimes", "deleteMuteTimes", "templates",
            "deleteTemplates");
    private static final Set<String> GROUP_KEYS = Set.of("orgId", "name", "folder", "interval", "rules");
    private static final Set<String> RULE_KEYS = Set.of("uid", "title", "condition", "data", "dashboardUid",
            "panelId", "noDataState", "execErrState", "for", "keepFiringFor", "missing_series_evals_to_resolve",
            "annotations", "labels", "isPaused", "notification_settings", "record");
    private static final Set<String> QUERY_KEYS = Set.of("refId", "queryType", "relativeTimeRange", "datasourceUid",
            "model");
    private static final Set<String> NO_DATA_STATES = Set.of("Alerting", "NoData", "OK", "KeepLast");
    private static final Set<String> EXEC_ERR_STATES = Set.of("Alerting", "Error", "OK", "KeepLast");
    private static final Set<String> EXPRESSION_TYPES = Set.of("math", "reduce", "resample", "classic_conditions",
            "threshold", "sql");
    /** Prometheus's model.ParseDuration, which Grafana uses for interval and for. */
    private static final Pattern DURATION = Pattern.compile("^(\\d+y)?(\\d+w)?(\\d+d)?(\\d+h)?(\\d+m)?(\\d+s)?(\\d+ms)?$");
    /** Grafana's short UID rule (util.IsValidShortUID) and its 40-character limit. */
    private static final Pattern UID = Pattern.compile("^[a-zA-Z0-9\\-_]{1,40}$");
    private static final Pattern VARIABLE = Pattern.compile("^\\$\\{([A-Z_][A-Z0-9_]*)\\}$");
    private static final Pattern DOCUMENTED_METRIC = Pattern.compile("^\\| `([a-z_:][a-z0-9_:]*)`", Pattern.MULTILINE);

    private static final JsonNode FILE = DashboardFiles.yaml(DashboardFiles.GRAFANA_ALERTING);

    @Test
    @DisplayName("apiVersion 1; every group has orgId, name, folder, a duration interval and rules, no unknown field")
    void groupsFollowTheFormat() {
        assertKnownKeys(FILE, FILE_KEYS, "file");
        assertTrue(FILE.path("apiVersion").isInt(), "apiVersion must be a number");
        assertEquals(1, FILE.path("apiVersion").asInt());
        assertTrue(FILE.path("groups").isArray() && !FILE.path("groups").isEmpty(), "groups");
        Set<String> names = new HashSet<>();
        for (JsonNode group : FILE.path("groups")) {
            String where = "group " + group.path("name").asText();
            assertKnownKeys(group, GROUP_KEYS, where);
            assertTrue(group.path("orgId").isInt() && group.path("orgId").asInt() >= 1, where + ": orgId");
            assertFalse(group.path("name").asText().isBlank(), where + ": rule group has no name set");
            assertTrue(names.add(group.path("name").asText()), where + ": duplicate group name");
            assertFalse(group.path("folder").asText().isBlank(), where + ": rule group has no folder set");
            assertDuration(group.path("interval"), where + ": interval");
            assertTrue(group.path("rules").isArray() && !group.path("rules").isEmpty(), where + ": rules");
        }
    }

    @Test
    @DisplayName("every rule: unique valid uid and title, condition naming a query, states from Grafana's enums, "
            + "for a duration, labels and annotations string maps, labels free of $")
    void rulesFollowTheFormat() {
        Set<String> uids = new HashSet<>();
        Set<String> titles = new HashSet<>();
        for (JsonNode rule : rules()) {
            String where = "rule " + rule.path("title").asText();
            assertKnownKeys(rule, RULE_KEYS, where);
            assertTrue(UID.matcher(rule.path("uid").asText()).matches(), where + ": uid " + rule.path("uid"));
            assertTrue(uids.add(rule.path("uid").asText()), where + ": duplicate uid");
            assertFalse(rule.path("title").asText().isBlank(), where + ": rule has no title set");
            assertTrue(titles.add(rule.path("title").asText()), where + ": duplicate title");
            assertTrue(NO_DATA_STATES.contains(rule.path("noDataState").asText()), where + ": noDataState");
            assertTrue(EXEC_ERR_STATES.contains(rule.path("execErrState").asText()), where + ": execErrState");
            assertDuration(rule.path("for"), where + ": for");
            assertTrue(rule.path("isPaused").isBoolean(), where + ": isPaused");
            for (String map : List.of("labels", "annotations")) {
                JsonNode m = rule.path(map);
                assertTrue(m.isObject() && !m.isEmpty(), where + ": " + map);
                m.fields().forEachRemaining(e -> assertTrue(e.getValue().isTextual(),
                        where + ": " + map + "." + e.getKey() + " must be a string"));
            }
            // Labels are expanded with os.ExpandEnv: a '$' there would be replaced by an (empty) variable.
            rule.path("labels").fields().forEachRemaining(e -> assertFalse(e.getValue().asText().contains("$"),
                    where + ": label " + e.getKey()));
            assertTrue(Set.of("critical", "warning", "info").contains(rule.path("labels").path("severity").asText()),
                    where + ": severity");
            for (String annotation : List.of("summary", "description", "hint", "runbook_url")) {
                assertFalse(rule.path("annotations").path(annotation).asText().isBlank(),
                        where + ": annotation " + annotation);
            }
            Set<String> refIds = new TreeSet<>();
            rule.path("data").forEach(q -> refIds.add(q.path("refId").asText()));
            assertTrue(refIds.contains(rule.path("condition").asText()),
                    where + ": condition " + rule.path("condition") + " is none of " + refIds);
        }
    }

    @Test
    @DisplayName("every query: refId, relativeTimeRange, model; the Prometheus query's datasourceUid is an "
            + "environment variable Grafana expands, expressions use __expr__ and name earlier refIds")
    void queriesFollowTheFormat() {
        for (JsonNode rule : rules()) {
            String where = "rule " + rule.path("title").asText();
            JsonNode data = rule.path("data");
            assertTrue(data.isArray() && !data.isEmpty(), where + ": no data set");
            Set<String> earlier = new HashSet<>();
            int prometheusQueries = 0;
            for (JsonNode q : data) {
                String refId = q.path("refId").asText();
                String at = where + " query " + refId;
                assertKnownKeys(q, QUERY_KEYS, at);
                assertFalse(refId.isBlank(), at + ": refId");
                assertEquals(refId, q.path("model").path("refId").asText(), at + ": model.refId");
                String uid = q.path("datasourceUid").asText();
                if ("__expr__".equals(uid)) {
                    String type = q.path("model").path("type").asText();
                    assertTrue(EXPRESSION_TYPES.contains(type), at + ": expression type " + type);
                    String input = q.path("model").path("expression").asText();
                    assertTrue(earlier.contains(input), at + ": expression " + input + " names no earlier query");
                } else {
                    prometheusQueries++;
                    Matcher v = VARIABLE.matcher(uid);
                    assertTrue(v.matches(), at + ": datasourceUid " + uid + " is not an ${ENV} variable");
                    assertEquals(GrafanaAlerting.DATASOURCE_UID_VARIABLE, v.group(1), at);
                    assertTrue(DashboardFiles.read(DashboardFiles.ROOT.resolve("dashboards/README.md"))
                            .contains(v.group(1)), "dashboards/README.md tells users to set " + v.group(1));
                    // The model is stored raw, unexpanded: a variable there would reach Grafana as literal text.
                    assertFalse(q.path("model").toString().contains("${"), at + ": variable inside the model");
                    JsonNode range = q.path("relativeTimeRange");
                    assertTrue(range.path("from").isInt() && range.path("to").isInt()
                            && range.path("from").asInt() > range.path("to").asInt()
                            && range.path("to").asInt() >= 0, at + ": relativeTimeRange " + range);
                    assertFalse(q.path("model").path("expr").asText().isBlank(), at + ": model.expr");
                    assertTrue(q.path("model").path("instant").asBoolean(), at + ": an instant query");
                }
                assertTrue(earlier.add(refId), at + ": duplicate refId");
            }
            assertEquals(1, prometheusQueries, where + ": one Prometheus query");
        }
    }

    @Test
    @DisplayName("every metric an expression selects is documented in docs/metrics.md")
    void expressionsSelectDocumentedMetrics() {
        Set<String> documented = new TreeSet<>();
        Matcher m = DOCUMENTED_METRIC.matcher(DashboardFiles.read(DashboardFiles.ROOT.resolve("docs/metrics.md")));
        while (m.find()) {
            documented.add(m.group(1));
        }
        assertTrue(documented.contains("pullpath_probe_status"), "docs/metrics.md table parsed: " + documented);
        List<String> missing = new ArrayList<>();
        int selected = 0;
        for (JsonNode rule : rules()) {
            String expr = rule.path("data").get(0).path("model").path("expr").asText();
            for (String name : DashboardFiles.metricNames(expr)) {
                selected++;
                if (!documented.contains(name)) {
                    missing.add(rule.path("title").asText() + ": " + name);
                }
            }
        }
        assertTrue(selected >= rules().size(), "every rule selects a metric: " + selected);
        assertEquals(List.of(), missing, "metrics not in docs/metrics.md");
    }

    private static List<JsonNode> rules() {
        List<JsonNode> rules = new ArrayList<>();
        FILE.path("groups").forEach(g -> g.path("rules").forEach(rules::add));
        return rules;
    }

    private static void assertKnownKeys(JsonNode node, Set<String> known, String where) {
        assertTrue(node.isObject(), where + " must be a mapping");
        Set<String> unknown = new TreeSet<>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!known.contains(key)) {
                unknown.add(key);
            }
        }
        assertEquals(Set.of(), unknown, where + ": fields Grafana's provisioning does not know");
    }

    private static void assertDuration(JsonNode value, String where) {
        String s = value.asText();
        assertTrue(value.isTextual() && !s.isEmpty() && DURATION.matcher(s).matches(), where + ": " + value);
    }
}
