package dev.pullpath.dashboards;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pullpath.testing.Promtool;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** dashboards/grafana/pullpath.json: Grafana's dashboard model, and PromQL that Prometheus's parser accepts. */
class DashboardTest {
    private static final JsonNode DASHBOARD = DashboardFiles.json(DashboardFiles.DASHBOARD);

    @TempDir
    Path dir;

    @Test
    @DisplayName("every panel query and variable query parses with promtool once Grafana's variables are filled in")
    void everyQueryParses() throws Exception {
        Promtool.assumeAvailable();
        Map<String, String> queries = DashboardFiles.dashboardQueries(DASHBOARD);
        assertTrue(queries.size() > 20, "queries found: " + queries.size());
        Map<String, String> promql = new java.util.LinkedHashMap<>();
        queries.forEach((where, q) -> {
            String p = DashboardFiles.promql(q);
            assertFalse(p.contains("$") || p.contains("label_values"), where + " still has Grafana syntax: " + p);
            promql.put(where, p);
        });
        assertEquals("", DashboardFiles.promtoolParseErrors(promql, dir));
    }

    @Test
    @DisplayName("current schema, stable uid, every panel on the ${datasource} variable, unique ids")
    void dashboardModel() {
        assertTrue(DASHBOARD.path("schemaVersion").asInt() >= 39);
        assertEquals("pullpath", DASHBOARD.path("uid").asText());
        assertTrue(DASHBOARD.path("id").isNull(), "id is Grafana's own, null in a shared dashboard");
        Set<Integer> ids = new HashSet<>();
        for (JsonNode panel : DashboardFiles.allPanels(DASHBOARD)) {
            String title = panel.path("title").asText();
            assertTrue(ids.add(panel.path("id").asInt()), "duplicate panel id " + panel.path("id"));
            for (String f : List.of("h", "w", "x", "y")) {
                assertTrue(panel.path("gridPos").path(f).isInt(), title + " gridPos." + f);
            }
            if (!"row".equals(panel.path("type").asText())) {
                assertEquals("${datasource}", panel.path("datasource").path("uid").asText(), title);
                assertFalse(panel.path("targets").isEmpty(), title + " has no query");
                panel.path("targets").forEach(t ->
                        assertEquals("${datasource}", t.path("datasource").path("uid").asText(), title));
            }
        }
    }

    @Test
    @DisplayName("variables datasource, cluster, zone, node and target; the data source one is of type prometheus")
    void templateVariables() {
        Set<String> names = new TreeSet<>();
        for (JsonNode v : DASHBOARD.path("templating").path("list")) {
            names.add(v.path("name").asText());
            if ("query".equals(v.path("type").asText())) {
                assertEquals("${datasource}", v.path("datasource").path("uid").asText(), v.path("name").asText());
                assertTrue(v.path("definition").asText().startsWith("label_values("), v.path("name").asText());
            }
        }
        assertTrue(names.containsAll(List.of("datasource", "cluster", "zone", "node", "target")), names.toString());
        JsonNode ds = DASHBOARD.path("templating").path("list").get(0);
        assertEquals("datasource", ds.path("type").asText());
        assertEquals("prometheus", ds.path("query").asText());
    }

    @Test
    @DisplayName("the panels the issue asks for are there: fleet, node × target, heatmaps, expiry, rate limits, drill-down")
    void requiredPanels() {
        String all = DashboardFiles.allPanels(DASHBOARD).stream()
                .map(p -> p.path("type").asText() + ":" + p.path("title").asText()).toList().toString();
        for (String needed : List.of("timeseries:Nodes failing, by category", "table:Node × target status",
                "heatmap:$target · $phase", "bargauge:TLS certificate expiry", "table:Stored credential expiry",
                "timeseries:Nodes rate-limited", "stat:Fleet's last registry check", "row:Node drill-down")) {
            assertTrue(all.contains(needed), needed + " in " + all);
        }
        assertTrue(DashboardFiles.read(DashboardFiles.DASHBOARD).contains("var-node=${__data.fields[0]}"),
                "the status table drills down by node");
    }

    @Test
    @DisplayName("the variable filler and label_values extraction give plain PromQL")
    void grafanaSyntaxIsReplaced() {
        assertEquals("rate(x{node=~\"pullpath-test\", t=\"pullpath-test\"}[5m]) offset 5m",
                DashboardFiles.promql("rate(x{node=~\"$node\", t=\"${target:regex}\"}[$__rate_interval]) offset ${__range}"));
        assertEquals("up{a=~\"pullpath-test\"}", DashboardFiles.promql("label_values(up{a=~\"$a\"}, job)"));
    }
}
