package dev.pullpath.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SpecVersion;
import dev.pullpath.config.AgentConfig;
import dev.pullpath.config.ConfigLoader;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.DaemonSetUpdateStrategy;
import io.fabric8.openshift.api.model.monitoring.v1.PodMonitor;
import io.fabric8.openshift.api.model.monitoring.v1.PrometheusRule;
import io.fabric8.openshift.api.model.monitoring.v1.PrometheusRuleSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * deploy/helm/pullpath's sources, without rendering: the values against the schema, the templates' value references
 * against both, the documentation of every value, and the defaults against the kustomize base's files.
 * {@link HelmTemplateTest} renders the chart with Helm itself and compares the output.
 */
class HelmChartTest {
    static final Path CHART = Path.of("..", "deploy", "helm", "pullpath");
    static final Path BASE = Path.of("..", "deploy", "kustomize", "base");
    static final Pattern VALUE_REFERENCE = Pattern.compile("\\.Values((?:\\.[A-Za-z_][A-Za-z0-9_]*)+)");
    static final Pattern YAML_KEY = Pattern.compile("^( *)([A-Za-z_][A-Za-z0-9_]*):");

    private final JsonNode values = yaml(CHART.resolve("values.yaml"));
    private final JsonNode schemaNode = json(CHART.resolve("values.schema.json"));
    private final JsonSchema schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7).getSchema(schemaNode);

    @Test
    @DisplayName("Chart.yaml is a v2 application chart whose appVersion is the project's version and the base's tag")
    void chartMetadata() throws IOException {
        JsonNode chart = yaml(CHART.resolve("Chart.yaml"));
        assertEquals("v2", chart.path("apiVersion").asText());
        assertEquals("pullpath", chart.path("name").asText());
        assertEquals("application", chart.path("type").asText());
        assertTrue(chart.path("version").asText().matches("\\d+\\.\\d+\\.\\d+(-[0-9A-Za-z.-]+)?"), "SemVer 2 version");
        Matcher pom = Pattern.compile("<artifactId>pullpath-parent</artifactId>\\s*<version>([^<]+)</version>")
                .matcher(Files.readString(Path.of("..", "pom.xml")));
        assertTrue(pom.find());
        assertEquals(pom.group(1), chart.path("appVersion").asText(), "appVersion is the agent's version");
        assertEquals(pom.group(1), yaml(BASE.resolve("kustomization.yaml")).path("images").get(0).path("newTag")
                .asText(), "the kustomize base deploys the same version");
    }

    @Test
    @DisplayName("the schema is a valid draft-07 schema and values.yaml passes it")
    void valuesMatchTheSchema() {
        JsonSchema draft7 = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7)
                .getSchema(SchemaLocation.of("http://json-schema.org/draft-07/schema#"));
        assertEquals(Set.of(), draft7.validate(schemaNode), "values.schema.json against the draft-07 meta-schema");
        assertEquals(Set.of(), schema.validate(values));
    }

    @Test
    @DisplayName("the schema refuses a misspelt value, an unknown agent config key, a wrong type, a hostPath that "
            + "writes on the node and a root user")
    void schemaRefusesMistakes() {
        Map<String, Consumer<ObjectNode>> mistakes = new LinkedHashMap<>();
        mistakes.put("misspelt top-level value", v -> v.set("securityContex", v.get("securityContext")));
        mistakes.put("unknown config key", v -> ((ObjectNode) v.get("config")).put("intervall", "30s"));
        mistakes.put("bad duration", v -> ((ObjectNode) v.get("config")).put("interval", "30 seconds"));
        mistakes.put("port as a string", v -> v.put("port", "9847"));
        mistakes.put("DirectoryOrCreate", v -> ((ObjectNode) v.get("hostMounts").get(2)).put("type",
                "DirectoryOrCreate"));
        mistakes.put("root user", v -> ((ObjectNode) v.get("podSecurityContext")).put("runAsUser", 0));
        mistakes.put("short ECR account", v -> ((ObjectNode) v.get("config").get("targets").get(0))
                .set("ecr", KubernetesTypes.JSON.createObjectNode().put("region", "us-east-1").put("account", "1")));
        mistakes.put("misspelt podMonitor switch", v -> ((ObjectNode) v.get("podMonitor")).put("enable", true));
        mistakes.forEach((what, change) -> {
            ObjectNode broken = values.deepCopy();
            change.accept(broken);
            assertFalse(schema.validate(broken).isEmpty(), what + " passed the schema");
        });
    }

    @Test
    @DisplayName("the schema's agent config keys are the agent's own: a key added to ConfigLoader must be added here")
    void schemaKnowsTheAgentsConfigKeys() throws ClassNotFoundException {
        JsonNode config = schemaNode.path("properties").path("config").path("properties");
        assertEquals(recordComponents("RawConfig"), fieldNames(config));
        // A target's "credentials" is reserved and refused by the agent; the schema refuses it with every unknown key.
        Set<String> targetKeys = recordComponents("RawTarget");
        targetKeys.remove("credentials");
        assertEquals(targetKeys, fieldNames(config.path("targets").path("items").path("properties")));
        assertEquals(recordComponents("RawEcr"), fieldNames(config.path("targets").path("items").path("properties")
                .path("ecr").path("properties")));
    }

    @Test
    @DisplayName("every .Values path a template uses exists in values.yaml and in the schema, with a comment above it")
    void templateReferencesExist() throws IOException {
        Set<String> referenced = referencedValues();
        assertFalse(referenced.isEmpty());
        Map<String, Boolean> documented = documentedKeys();
        for (String path : referenced) {
            JsonNode inValues = values;
            JsonNode inSchema = schemaNode;
            for (String key : path.split("\\.")) {
                inValues = inValues.path(key);
                inSchema = inSchema.path("properties").path(key);
            }
            assertFalse(inValues.isMissingNode(), path + " is not in values.yaml");
            assertFalse(inSchema.isMissingNode(), path + " is not in values.schema.json");
            assertEquals(Boolean.TRUE, documented.get(path), path + " has no comment above it in values.yaml");
        }
    }

    @Test
    @DisplayName("every top-level value is used by a template and documented: no dead or unexplained settings")
    void everyValueIsUsedAndDocumented() throws IOException {
        Set<String> usedTopLevel = new TreeSet<>();
        referencedValues().forEach(p -> usedTopLevel.add(p.split("\\.")[0]));
        assertEquals(fieldNames(values), usedTopLevel);
        Map<String, Boolean> documented = documentedKeys();
        fieldNames(values).forEach(k -> assertTrue(documented.get(k) || childrenDocumented(documented, k),
                k + " is not documented in values.yaml"));
    }

    @Test
    @DisplayName("the chart's config passes the agent's loader and listens on the chart's port")
    void configIsValid() throws IOException {
        String text = KubernetesTypes.YAML.writeValueAsString(values.get("config"));
        AgentConfig config = new ConfigLoader(Map.<String, String>of()::get).parse(text, Path.of("config.yaml"));
        assertEquals(values.get("port").asInt(), config.listen().getPort());
    }

    @Test
    @DisplayName("the chart's defaults are the kustomize base's: config, security contexts, probes, resources, "
            + "tolerations, priority, update strategy, host mounts and scrape settings")
    void defaultsMatchTheKustomizeBase() throws IOException {
        DaemonSet base = KubernetesTypes.only(KubernetesTypes.parse(Files.readString(BASE.resolve("daemonset.yaml"))),
                DaemonSet.class);
        PodSpec pod = base.getSpec().getTemplate().getSpec();
        Container agent = KustomizeManifestsTest.agent(pod);
        // But fleet.daemonSet and fleet.service: the chart names its own DaemonSet and Service when it renders
        // (HelmTemplateTest compares the rendered config.yaml with the base's, those keys included).
        com.fasterxml.jackson.databind.JsonNode baseConfig = yaml(BASE.resolve("config.yaml"));
        ((com.fasterxml.jackson.databind.node.ObjectNode) baseConfig.get("fleet")).remove("daemonSet");
        ((com.fasterxml.jackson.databind.node.ObjectNode) baseConfig.get("fleet")).remove("service");
        assertEquals(baseConfig, values.get("config"));
        assertEquals(pod.getSecurityContext(), typed("podSecurityContext", PodSecurityContext.class));
        assertEquals(agent.getSecurityContext(), typed("securityContext", SecurityContext.class));
        assertEquals(agent.getLivenessProbe(), typed("livenessProbe", Probe.class));
        assertEquals(agent.getReadinessProbe(), typed("readinessProbe", Probe.class));
        assertEquals(agent.getResources(), typed("resources", ResourceRequirements.class));
        assertEquals(pod.getTolerations(), Arrays.asList(KubernetesTypes.read(values.get("tolerations"),
                Toleration[].class)));
        assertEquals(pod.getPriorityClassName(), values.get("priorityClassName").asText());
        assertEquals(pod.getTerminationGracePeriodSeconds().intValue(), values.get("terminationGracePeriodSeconds")
                .asInt());
        assertEquals(base.getSpec().getUpdateStrategy(), typed("updateStrategy", DaemonSetUpdateStrategy.class));
        assertEquals(agent.getPorts().get(0).getContainerPort().intValue(), values.get("port").asInt());
        assertEquals(KustomizeManifestsTest.volume(pod, "tmp").getEmptyDir().getSizeLimit().toString(),
                values.get("tmpSizeLimit").asText());

        List<String> baseMounts = new ArrayList<>();
        for (VolumeMount m : agent.getVolumeMounts()) {
            Volume v = KustomizeManifestsTest.volume(pod, m.getName());
            if (v.getHostPath() != null) {
                baseMounts.add(v.getName() + " " + v.getHostPath().getPath() + " -> " + m.getMountPath() + " "
                        + (v.getHostPath().getType() == null ? "" : v.getHostPath().getType()));
            }
        }
        List<String> chartMounts = new ArrayList<>();
        values.get("hostMounts").forEach(m -> chartMounts.add(m.get("name").asText() + " " + m.get("hostPath").asText()
                + " -> " + m.get("mountPath").asText() + " " + m.path("type").asText("")));
        assertEquals(baseMounts, chartMounts);

        PodMonitor monitor = KubernetesTypes.only(KubernetesTypes.parse(Files.readString(
                BASE.resolve("podmonitor.yaml"))), PodMonitor.class);
        assertEquals(monitor.getSpec().getPodMetricsEndpoints().get(0).getInterval(),
                values.get("podMonitor").get("interval").asText());
        assertEquals(monitor.getSpec().getPodMetricsEndpoints().get(0).getScrapeTimeout(),
                values.get("podMonitor").get("scrapeTimeout").asText());
    }

    @Test
    @DisplayName("the DaemonSet template hard-codes what no value may change: host network, the node's resolver, "
            + "NODE_NAME, no API token, read-only host mounts")
    void daemonSetTemplateFixesTheNodeSettings() throws IOException {
        String template = Files.readString(CHART.resolve("templates").resolve("daemonset.yaml"));
        for (String line : List.of("hostNetwork: true", "dnsPolicy: Default", "automountServiceAccountToken: false",
                "fieldPath: spec.nodeName", "- name: NODE_NAME", "- name: metrics", "mountPath: /etc/pullpath",
                "args: [\"run\", \"--config\", \"/etc/pullpath/config.yaml\"]")) {
            assertTrue(template.lines().anyMatch(l -> l.strip().equals(line)), "template lacks '" + line + "'");
        }
        Matcher hostMounts = Pattern.compile("\\{\\{- range \\.Values\\.hostMounts }}(.*?)\\{\\{- end }}",
                Pattern.DOTALL).matcher(template);
        assertTrue(hostMounts.find(), "no range over hostMounts");
        assertTrue(hostMounts.group(1).contains("mountPath: {{ .mountPath }}")
                && hostMounts.group(1).contains("readOnly: true"), "host mounts are not read-only: " + hostMounts.group(1));
        assertTrue(Files.readString(CHART.resolve("templates").resolve("serviceaccount.yaml")).lines()
                .anyMatch(l -> l.equals("automountServiceAccountToken: false")));
    }

    @Test
    @DisplayName("with config.kubernetes.enabled the chart grants the base's ClusterRole rules and projects the token "
            + "where the client looks; without it, neither")
    void kubernetesAccessFollowsTheConfig() throws IOException {
        assertTrue(values.get("config").get("kubernetes").get("enabled").asBoolean(), "on by default");
        String rbac = Files.readString(CHART.resolve("templates").resolve("rbac.yaml"));
        String base = Files.readString(BASE.resolve("rbac.yaml"));
        assertEquals(rulesBlock(base), rulesBlock(rbac), "the chart's ClusterRole rules are the base's");
        String guard = "{{- if (.Values.config.kubernetes | default dict).enabled }}";
        assertTrue(rbac.startsWith(guard), "RBAC only when enabled");
        String daemonSet = Files.readString(CHART.resolve("templates").resolve("daemonset.yaml"));
        Matcher guarded = Pattern.compile(Pattern.quote(guard) + "(.*?)\\{\\{- end }}", Pattern.DOTALL)
                .matcher(daemonSet);
        List<String> blocks = new ArrayList<>();
        while (guarded.find()) {
            blocks.add(guarded.group(1));
        }
        assertEquals(2, blocks.size(), "the token's mount and volume, each only when enabled");
        assertTrue(blocks.get(0).contains("mountPath: /var/run/secrets/kubernetes.io/serviceaccount")
                && blocks.get(0).contains("readOnly: true"), blocks.get(0));
        assertTrue(blocks.get(1).contains("serviceAccountToken:") && blocks.get(1).contains("expirationSeconds: 3600")
                && blocks.get(1).contains("name: kube-root-ca.crt"), blocks.get(1));
    }

    /** The ClusterRole's rules as written, without the chart's opt-in secrets rule (compared rendered instead). */
    private static String rulesBlock(String manifest) {
        int start = manifest.indexOf("rules:");
        return manifest.substring(start, manifest.indexOf("---", start))
                .replaceAll("(?s)\\s*\\{\\{- if \\(\\.Values\\.config\\.kubernetes \\| default dict\\)\\.readPullSecrets }}.*?\\{\\{- end }}", "")
                .strip();
    }

    @Test
    @DisplayName("the PrometheusRule template, as Helm renders .Files.Get | nindent 2, carries the base's rule groups")
    void prometheusRuleEmbedsTheRulesFile() throws IOException {
        String template = Files.readString(CHART.resolve("templates").resolve("prometheusrule.yaml"));
        String embed = "{{- .Files.Get \"files/pullpath-rules.yaml\" | nindent 2 }}";
        List<String> lines = template.lines().toList();
        int at = lines.indexOf("  " + embed);
        assertTrue(at > 0 && lines.get(at - 1).equals("spec:"), "the rules file goes right under spec:");
        assertTrue(template.startsWith("{{- if .Values.prometheusRule.enabled }}"));
        String rules = Files.readString(CHART.resolve("files").resolve("pullpath-rules.yaml"));
        String rendered = "spec:" + nindent(2, rules);
        PrometheusRuleSpec spec = KubernetesTypes.read(KubernetesTypes.YAML.readTree(rendered).get("spec"),
                PrometheusRuleSpec.class);
        assertEquals(List.of(), KubernetesTypes.unknownFields(spec));
        PrometheusRule base = KubernetesTypes.only(KubernetesTypes.parse(Files.readString(
                BASE.resolve("prometheusrule.yaml"))), PrometheusRule.class);
        assertEquals(base.getSpec(), spec, "the chart's rules and the kustomize base's differ: rerun the generator");
    }

    /** Sprig's nindent: a newline, then every line of {@code text} indented by {@code spaces}. */
    private static String nindent(int spaces, String text) {
        String pad = " ".repeat(spaces);
        return "\n" + pad + text.replace("\n", "\n" + pad);
    }

    private <T> T typed(String value, Class<T> type) {
        T parsed = KubernetesTypes.read(values.get(value), type);
        assertEquals(List.of(), KubernetesTypes.unknownFields(parsed), value + " has fields Kubernetes lacks");
        return parsed;
    }

    /** Dotted paths after {@code .Values} in every template. */
    private static Set<String> referencedValues() throws IOException {
        Set<String> paths = new TreeSet<>();
        try (Stream<Path> files = Files.list(CHART.resolve("templates"))) {
            for (Path f : files.toList()) {
                Matcher m = VALUE_REFERENCE.matcher(Files.readString(f));
                while (m.find()) {
                    paths.add(m.group(1).substring(1));
                }
            }
        }
        return paths;
    }

    /**
     * For each key path of values.yaml outside lists: whether a comment line stands right above it. Helm keeps no
     * other documentation of a value, so the comment is the documentation.
     */
    private static Map<String, Boolean> documentedKeys() throws IOException {
        Map<String, Boolean> documented = new LinkedHashMap<>();
        Deque<Map.Entry<Integer, String>> parents = new ArrayDeque<>();
        String previous = "";
        for (String line : Files.readAllLines(CHART.resolve("values.yaml"))) {
            Matcher key = YAML_KEY.matcher(line);
            if (key.find()) {
                int indent = key.group(1).length();
                while (!parents.isEmpty() && parents.peek().getKey() >= indent) {
                    parents.pop();
                }
                List<String> path = new ArrayList<>();
                parents.descendingIterator().forEachRemaining(e -> path.add(e.getValue()));
                path.add(key.group(2));
                documented.putIfAbsent(String.join(".", path), previous.strip().startsWith("#"));
                parents.push(Map.entry(indent, key.group(2)));
            }
            previous = line;
        }
        return documented;
    }

    /** A map of settings documented one by one (image.repository, image.tag...) instead of as a whole. */
    private static boolean childrenDocumented(Map<String, Boolean> documented, String parent) {
        List<Boolean> children = documented.entrySet().stream()
                .filter(e -> e.getKey().startsWith(parent + ".") && e.getKey().indexOf('.', parent.length() + 1) < 0)
                .map(Map.Entry::getValue).toList();
        return !children.isEmpty() && !children.contains(false);
    }

    private static Set<String> fieldNames(JsonNode node) {
        Set<String> names = new TreeSet<>();
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            names.add(it.next());
        }
        return names;
    }

    private static Set<String> recordComponents(String record) throws ClassNotFoundException {
        Set<String> names = new TreeSet<>();
        for (var c : Class.forName("dev.pullpath.config.ConfigFile$" + record).getRecordComponents()) {
            names.add(c.getName());
        }
        return names;
    }

    private static JsonNode yaml(Path file) {
        try {
            return KubernetesTypes.YAML.readTree(file.toFile());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static JsonNode json(Path file) {
        try {
            return KubernetesTypes.JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
