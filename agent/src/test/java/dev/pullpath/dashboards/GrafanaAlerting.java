package dev.pullpath.dashboards;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * Converts pullpath's Prometheus alerting rules into Grafana's alerting provisioning format, so users without
 * Alertmanager get the same alerts from one source. Run by dashboards/alerts/sync-rules.sh; RulesSyncTest
 * compares its output with the committed file.
 */
public final class GrafanaAlerting {
    /** The environment variable Grafana's provisioning expands into the Prometheus data source's UID. */
    static final String DATASOURCE_UID_VARIABLE = "PULLPATH_PROMETHEUS_UID";
    /**
     * Grafana's provisioning puts {@code datasourceUid} through os.ExpandEnv (pkg/services/provisioning/values), so
     * one environment variable of the Grafana server names the data source: no UID of ours is imposed on the user's.
     */
    static final String DATASOURCE_UID = "${" + DATASOURCE_UID_VARIABLE + "}";
    static final String HEADER = "# Generated from dashboards/alerts/pullpath-rules.yaml by dashboards/alerts/sync-rules.sh;"
            + " edit that file.\n# Grafana alerting provisioning. Grafana expands datasourceUid " + DATASOURCE_UID
            + " from its environment:\n# set " + DATASOURCE_UID_VARIABLE + " to the UID of your Prometheus data source"
            + " (dashboards/README.md).\n";
    static final String FOLDER = "pullpath";
    static final String INTERVAL = "1m";
    /** Grafana refuses longer rule UIDs. */
    static final int MAX_UID = 40;
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    static final YAMLMapper YAML = YAMLMapper.builder()
            .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .disable(YAMLGenerator.Feature.SPLIT_LINES)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .enable(YAMLGenerator.Feature.LITERAL_BLOCK_STYLE)
            .build();

    private GrafanaAlerting() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: GrafanaAlerting PROMETHEUS_RULES_YAML GRAFANA_ALERTING_YAML");
        }
        JsonNode rules = YAML.readTree(Path.of(args[0]).toFile());
        Files.writeString(Path.of(args[1]), HEADER + YAML.writeValueAsString(fromPrometheusRules(rules)));
    }

    /** The provisioning document: one Grafana rule group per Prometheus group, one rule per alert. */
    static ObjectNode fromPrometheusRules(JsonNode prometheusRules) {
        ObjectNode doc = NODES.objectNode();
        doc.put("apiVersion", 1);
        ArrayNode groups = doc.putArray("groups");
        for (JsonNode group : prometheusRules.path("groups")) {
            ObjectNode g = groups.addObject();
            g.put("orgId", 1);
            g.put("name", group.path("name").asText());
            g.put("folder", FOLDER);
            g.put("interval", INTERVAL);
            ArrayNode rules = g.putArray("rules");
            for (JsonNode rule : group.path("rules")) {
                if (rule.has("alert")) {
                    rules.add(rule(rule));
                }
            }
        }
        return doc;
    }

    private static ObjectNode rule(JsonNode alert) {
        String name = alert.path("alert").asText();
        String expr = alert.path("expr").asText().strip();
        ObjectNode r = NODES.objectNode();
        r.put("uid", uid(name));
        r.put("title", name);
        r.put("condition", "C");
        ArrayNode data = r.putArray("data");
        data.add(query(expr));
        data.add(expression("B", Map.of("type", "reduce", "expression", "A", "reducer", "last")));
        ObjectNode threshold = expression("C", Map.of("type", "threshold", "expression", "B"));
        // The Prometheus expressions return only the series that should fire, each with a positive value.
        ObjectNode evaluator = ((ObjectNode) threshold.get("model")).putArray("conditions").addObject()
                .putObject("evaluator");
        evaluator.put("type", "gt");
        evaluator.putArray("params").add(0);
        data.add(threshold);
        // "No series" is the healthy answer of every expression here, not missing data.
        r.put("noDataState", "OK");
        r.put("execErrState", "Error");
        r.put("for", alert.path("for").asText("0s"));
        ObjectNode labels = r.putObject("labels");
        alert.path("labels").fields().forEachRemaining(e -> labels.put(e.getKey(), notInterpolated(e.getValue().asText())));
        ObjectNode annotations = r.putObject("annotations");
        // Grafana's $value is a description of every query's value; the reduced value of the query is $values.B.Value.
        alert.path("annotations").fields().forEachRemaining(e ->
                annotations.put(e.getKey(), e.getValue().asText().replaceAll("\\$value\\b", "\\$values.B.Value")));
        r.put("isPaused", false);
        notInterpolated(expr);
        return r;
    }

    private static ObjectNode query(String expr) {
        ObjectNode q = NODES.objectNode();
        q.put("refId", "A");
        ObjectNode range = q.putObject("relativeTimeRange");
        range.put("from", 600);
        range.put("to", 0);
        q.put("datasourceUid", DATASOURCE_UID);
        // No model.datasource: Grafana does not expand variables inside the model (it keeps the raw map), and the
        // query's datasourceUid is the one that selects the data source.
        ObjectNode model = q.putObject("model");
        model.put("refId", "A");
        model.put("expr", expr);
        model.put("instant", true);
        model.put("range", false);
        model.put("intervalMs", 1000);
        model.put("maxDataPoints", 43200);
        return q;
    }

    private static ObjectNode expression(String refId, Map<String, String> fields) {
        ObjectNode e = NODES.objectNode();
        e.put("refId", refId);
        e.put("datasourceUid", "__expr__");
        ObjectNode model = e.putObject("model");
        model.put("refId", refId);
        ObjectNode ds = model.putObject("datasource");
        ds.put("type", "__expr__");
        ds.put("uid", "__expr__");
        new java.util.TreeMap<>(fields).forEach(model::put);
        return e;
    }

    /** PullpathNodeFailing → pullpath-node-failing: stable across runs, so Grafana updates rules in place. */
    static String uid(String alertName) {
        String kebab = alertName.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
        if (kebab.length() > MAX_UID) {
            throw new IllegalArgumentException("alert name too long for a Grafana rule UID: " + kebab);
        }
        return kebab;
    }

    /** Grafana expands $NAME from the environment in provisioned labels and queries (not in annotations). */
    private static String notInterpolated(String value) {
        if (value.contains("$")) {
            throw new IllegalArgumentException("'$' would be taken for an environment variable by Grafana: " + value);
        }
        return value;
    }
}
