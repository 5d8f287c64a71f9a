package dev.pullpath.dashboards;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Every runbook_url of the Prometheus and Grafana alerts lands on a heading of docs/runbook.md. */
class RunbookTest {
    static final String BASE = "https://github.com/pullpath/pullpath/blob/main/docs/runbook.md#";
    private static final Pattern HEADING = Pattern.compile("^#{1,6} (.+)$", Pattern.MULTILINE);
    private static final String CATEGORY_TEMPLATE = "{{ $labels.category }}";

    /** GitHub's heading anchors: lower case, punctuation other than - and _ dropped, spaces to hyphens. */
    static Set<String> anchors(String markdown) {
        Set<String> anchors = new TreeSet<>();
        Matcher m = HEADING.matcher(markdown.replaceAll("(?s)```.*?```", ""));
        while (m.find()) {
            anchors.add(m.group(1).strip().toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N} _-]", "")
                    .replace(' ', '-'));
        }
        return anchors;
    }

    /** The fragments an alert's runbook_url can take: one per category where it names the alert's category. */
    private static List<String> fragments(String url) {
        assertTrue(url.startsWith(BASE), url);
        String fragment = url.substring(BASE.length());
        if (!fragment.contains(CATEGORY_TEMPLATE)) {
            return List.of(fragment);
        }
        List<String> all = new ArrayList<>();
        DashboardFiles.problemCategories().forEach(c -> all.add(fragment.replace(CATEGORY_TEMPLATE, c)));
        return all;
    }

    private static List<String> runbookUrls() {
        List<String> urls = new ArrayList<>();
        DashboardFiles.prometheusAlerts().values().forEach(r -> urls.add(r.path("annotations").path("runbook_url").asText()));
        for (JsonNode group : DashboardFiles.yaml(DashboardFiles.GRAFANA_ALERTING).path("groups")) {
            group.path("rules").forEach(r -> urls.add(r.path("annotations").path("runbook_url").asText()));
        }
        return urls;
    }

    @Test
    @DisplayName("every runbook_url fragment, with each category filled in, is a heading of the runbook")
    void everyRunbookUrlHasItsSection() {
        Set<String> anchors = anchors(DashboardFiles.read(DashboardFiles.RUNBOOK));
        List<String> urls = runbookUrls();
        assertTrue(urls.size() >= 18, "runbook URLs found: " + urls.size());
        for (String url : urls) {
            for (String fragment : fragments(url)) {
                assertTrue(anchors.contains(fragment), "no heading for #" + fragment + " (" + url + ") in " + anchors);
            }
        }
    }

    @Test
    @DisplayName("the runbook has a section per taxonomy category, plus probes absent and config reload failing")
    void everyCategoryHasASection() {
        Set<String> anchors = anchors(DashboardFiles.read(DashboardFiles.RUNBOOK));
        for (String category : DashboardFiles.problemCategories()) {
            assertTrue(anchors.contains(category), category);
        }
        assertTrue(anchors.containsAll(List.of("probes-absent", "config-reload-failing")), anchors.toString());
    }

    @Test
    @DisplayName("GitHub-style anchors")
    void anchorRules() {
        assertEquals(Set.of("vpc_endpoint", "probes-absent", "tls-the-handshake"),
                anchors("## vpc_endpoint\n## Probes absent\n### TLS: the handshake\n```\n# not a heading\n```\n"));
    }
}
