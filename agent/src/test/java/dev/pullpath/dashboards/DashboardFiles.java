package dev.pullpath.dashboards;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pullpath.diagnosis.Category;
import dev.pullpath.testing.Promtool;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The dashboard, rule and runbook files of the repository, and the PromQL they hold. Tests run in agent/. */
final class DashboardFiles {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    static final Path RULES = ROOT.resolve("dashboards/alerts/pullpath-rules.yaml");
    static final Path RULES_TEST = ROOT.resolve("dashboards/alerts/pullpath-rules.test.yaml");
    static final Path PROMETHEUS_RULE = ROOT.resolve("deploy/kustomize/base/prometheusrule.yaml");
    static final Path HELM_RULES = ROOT.resolve("deploy/helm/pullpath/files/pullpath-rules.yaml");
    static final Path GRAFANA_ALERTING = ROOT.resolve("dashboards/grafana/alerting/pullpath-alerts.yaml");
    static final Path DASHBOARD = ROOT.resolve("dashboards/grafana/pullpath.json");
    static final Path RUNBOOK = ROOT.resolve("docs/runbook.md");
    static final Path TAXONOMY = ROOT.resolve("docs/taxonomy.md");

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern TAXONOMY_SECTION = Pattern.compile("^## `([a-z_]+)`", Pattern.MULTILINE);
    private static final Pattern TAXONOMY_ROW = Pattern.compile("^\\| `([a-z_]+)` \\|.*\\| ([^|]+?) \\|\\s*$",
            Pattern.MULTILINE);
    private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`");
    private static final Pattern LABEL_LIST =
            Pattern.compile("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
    private static final Pattern IDENTIFIER = Pattern.compile("(?<![\\w.])[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "bool", "offset", "by", "without",
            "on", "ignoring", "group_left", "group_right", "inf", "nan", "atan2");
    private static final Pattern LABEL_VALUES = Pattern.compile("^label_values\\((.*),\\s*[a-zA-Z_][a-zA-Z0-9_]*\\)$",
            Pattern.DOTALL);
    private static final Pattern QUERY_RESULT = Pattern.compile("^query_result\\((.*)\\)$", Pattern.DOTALL);

    private DashboardFiles() {}

    static JsonNode yaml(Path file) {
        try {
            return GrafanaAlerting.YAML.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode json(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The alerting rules of a Prometheus rule file's groups, by alert name, in file order. */
    static Map<String, JsonNode> alerts(JsonNode groups) {
        Map<String, JsonNode> alerts = new LinkedHashMap<>();
        for (JsonNode group : groups) {
            for (JsonNode rule : group.path("rules")) {
                if (rule.has("alert")) {
                    alerts.put(rule.get("alert").asText(), rule);
                }
            }
        }
        return alerts;
    }

    static Map<String, JsonNode> prometheusAlerts() {
        return alerts(yaml(RULES).path("groups"));
    }

    /** The categories of the taxonomy that are failures or warnings, as metric label values. */
    static List<String> problemCategories() {
        return Arrays.stream(Category.values()).filter(c -> c != Category.NONE).map(Category::label).toList();
    }

    /** docs/taxonomy.md's hint column, by "category/reason". */
    static Map<String, String> taxonomyHints() {
        String doc = read(TAXONOMY);
        Map<String, String> hints = new TreeMap<>();
        Matcher sections = TAXONOMY_SECTION.matcher(doc);
        List<int[]> bounds = new ArrayList<>();
        List<String> names = new ArrayList<>();
        while (sections.find()) {
            bounds.add(new int[] {sections.start(), doc.length()});
            names.add(sections.group(1));
            if (bounds.size() > 1) {
                bounds.get(bounds.size() - 2)[1] = sections.start();
            }
        }
        for (int i = 0; i < names.size(); i++) {
            Matcher rows = TAXONOMY_ROW.matcher(doc.substring(bounds.get(i)[0], bounds.get(i)[1]));
            while (rows.find()) {
                hints.put(names.get(i) + "/" + rows.group(1), rows.group(2).strip());
            }
        }
        return hints;
    }

    /** Every PromQL query of the dashboard, by where it stands (panel title and refId, or variable name). */
    static Map<String, String> dashboardQueries(JsonNode dashboard) {
        Map<String, String> queries = new LinkedHashMap<>();
        for (JsonNode panel : allPanels(dashboard)) {
            for (JsonNode target : panel.path("targets")) {
                queries.put("panel " + panel.path("id").asInt() + " '" + panel.path("title").asText() + "' "
                        + target.path("refId").asText(), target.path("expr").asText());
            }
        }
        for (JsonNode variable : dashboard.path("templating").path("list")) {
            if ("query".equals(variable.path("type").asText())) {
                JsonNode q = variable.path("query");
                queries.put("variable " + variable.path("name").asText(), q.isObject() ? q.path("query").asText() : q.asText());
            }
        }
        return queries;
    }

    /** Top-level panels and the panels of collapsed rows. */
    static List<JsonNode> allPanels(JsonNode dashboard) {
        List<JsonNode> panels = new ArrayList<>();
        for (JsonNode panel : dashboard.path("panels")) {
            panels.add(panel);
            panel.path("panels").forEach(panels::add);
        }
        return panels;
    }

    /**
     * A Grafana query as plain PromQL: the selector of {@code label_values(SELECTOR, label)} or the expression of
     * {@code query_result(EXPR)}, with every variable replaced by a value valid in any position it can take (a
     * duration for the interval variables, a string that is also a regex for the others).
     */
    static String promql(String grafanaQuery) {
        String q = grafanaQuery.strip();
        Matcher m = LABEL_VALUES.matcher(q);
        if (m.matches()) {
            q = m.group(1);
        } else if ((m = QUERY_RESULT.matcher(q)).matches()) {
            q = m.group(1);
        }
        return q.replaceAll("\\$\\{?__(rate_interval|interval|range)(_ms|_s)?\\}?", "5m")
                .replaceAll("\\$\\{[a-zA-Z_]\\w*(:\\w+)?\\}|\\$[a-zA-Z_]\\w*|\\[\\[[a-zA-Z_]\\w*\\]\\]", "pullpath-test");
    }

    /** The metric names a PromQL expression selects: identifiers that are not functions, keywords or labels. */
    static Set<String> metricNames(String promql) {
        String s = STRING.matcher(promql).replaceAll("\"\"");
        s = s.replaceAll("\\{[^}]*\\}", " ").replaceAll("\\[[^\\]]*\\]", " ");
        s = LABEL_LIST.matcher(s).replaceAll(" ");
        Set<String> names = new TreeSet<>();
        Matcher m = IDENTIFIER.matcher(s);
        while (m.find()) {
            String rest = s.substring(m.end()).stripLeading();
            if (!KEYWORDS.contains(m.group()) && !rest.startsWith("(")) {
                names.add(m.group());
            }
        }
        return names;
    }

    /**
     * Has promtool parse every expression, as recording rules of one rule file: {@code check rules} parses each
     * expression with Prometheus's own parser. Returns promtool's complaint, or an empty string when all parse.
     */
    static String promtoolParseErrors(Map<String, String> expressions, Path dir) throws IOException {
        ObjectNode doc = GrafanaAlerting.YAML.createObjectNode();
        ArrayNode rules = doc.putArray("groups").addObject().put("name", "parse-check").putArray("rules");
        List<String> where = new ArrayList<>();
        expressions.forEach((name, expr) -> {
            rules.addObject().put("record", "parse_check:q" + where.size()).put("expr", expr);
            where.add("q" + where.size() + " = " + name);
        });
        Path file = dir.resolve("parse-check.yaml");
        GrafanaAlerting.YAML.writeValue(file.toFile(), doc);
        Promtool.Result r = Promtool.run(dir, "check", "rules", file.getFileName().toString());
        return r.exit() == 0 ? "" : r.output() + "\nwhere " + String.join("\n      ", where);
    }

    static void assertPromtoolOk(Promtool.Result result, String what) {
        assertEquals(0, result.exit(), what + ":\n" + result.output());
    }
}
