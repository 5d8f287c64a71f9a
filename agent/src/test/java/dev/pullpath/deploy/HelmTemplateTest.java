package dev.pullpath.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.marcnuri.helm.LintResult;
import dev.pullpath.config.AgentConfig;
import dev.pullpath.config.ConfigLoader;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.PodSpecBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.openshift.api.model.monitoring.v1.PodMonitor;
import io.fabric8.openshift.api.model.monitoring.v1.PrometheusRule;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The chart as Helm lints and renders it (Helm's own Go library, through helm-java), read into fabric8's
 * Kubernetes types, and compared with what kubectl builds from the kustomize base and overlays: the two ways to
 * install must give a node the same agent.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HelmTemplateTest {
    /** The documented example values files, deploy/helm/examples/NAME.yaml (deploy/README.md, "Helm"). */
    static final List<String> EXAMPLES = List.of("proxy", "private-ecr", "resources", "tolerations", "read-pull-secrets");
    static final String DEFAULTS = "defaults";
    /** What the chart installs; the kustomize base adds the Namespace, which Helm wants to exist before a release. */
    static final List<String> KINDS = List.of("ClusterRole", "ClusterRoleBinding", "ConfigMap", "DaemonSet",
            "PodMonitor", "PrometheusRule", "Role", "RoleBinding", "Service", "ServiceAccount");

    private final Map<String, List<HasMetadata>> renders = new HashMap<>();
    private final Map<String, List<HasMetadata>> kustomizations = new HashMap<>();

    private List<HasMetadata> rendered(String name) {
        return renders.computeIfAbsent(name, n -> KubernetesTypes.parse(n.equals(DEFAULTS) ? HelmTemplate.render()
                : HelmTemplate.render(HelmTemplate.example(n))));
    }

    private List<HasMetadata> kustomized(String name) {
        Kustomize.assumeKubectl();
        return kustomizations.computeIfAbsent(name, n -> KubernetesTypes.parse(Kustomize.build(
                n.equals("base") ? Kustomize.BASE : Kustomize.overlay(n))));
    }

    Stream<String> valuesFiles() {
        return Stream.concat(Stream.of(DEFAULTS), EXAMPLES.stream());
    }

    @Test
    @DisplayName("helm lint --strict passes: no warning and no error, only Helm's informational notes")
    void lintStrict() {
        LintResult lint = HelmTemplate.lintStrict();
        assertFalse(lint.isFailed(), () -> "helm lint --strict failed: " + lint.getMessages());
        for (String m : lint.getMessages()) {
            assertTrue(m.startsWith("[INFO]"), () -> "helm lint --strict: " + m);
        }
    }

    @Test
    @DisplayName("every example values file that deploy/README.md documents exists, and no undocumented one")
    void examplesAreTheDocumentedOnes() throws IOException {
        try (Stream<Path> files = Files.list(HelmTemplate.EXAMPLES)) {
            assertEquals(Set.copyOf(EXAMPLES.stream().map(e -> e + ".yaml").toList()),
                    Set.copyOf(files.map(f -> f.getFileName().toString()).toList()));
        }
        String readme = Files.readString(Path.of("..", "deploy", "README.md"));
        for (String e : EXAMPLES) {
            assertTrue(readme.contains("helm/examples/" + e + ".yaml"), "deploy/README.md does not mention " + e);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("valuesFiles")
    @DisplayName("helm template renders into Kubernetes types with no unknown field, all in the release namespace, "
            + "with a config the agent's own loader accepts")
    void rendersKnownTypesOnly(String values) {
        List<HasMetadata> resources = rendered(values);
        assertEquals(KINDS, resources.stream().map(HasMetadata::getKind).sorted().toList());
        for (HasMetadata r : resources) {
            assertEquals(List.of(), KubernetesTypes.unknownFields(r), r.getKind() + " has fields Kubernetes lacks");
            // Cluster-scoped kinds have no namespace; everything else lives in the release's.
            boolean clusterScoped = r.getKind().startsWith("ClusterRole");
            assertEquals(clusterScoped ? null : HelmTemplate.NAMESPACE, r.getMetadata().getNamespace(), r.getKind());
        }
        AgentConfig config = config(resources);
        assertEquals(agent(resources).getPorts().get(0).getContainerPort(), config.listen().getPort());
    }

    @Test
    @DisplayName("the defaults render the kustomize base resource for resource: the same pod (container args, "
            + "security contexts, mounts, probes, resources, tolerations), config, ServiceAccount, Service, "
            + "PodMonitor and rules, and the same RBAC (the Kubernetes signals' ClusterRole and its binding)")
    void defaultsAreTheKustomizeBase() {
        List<HasMetadata> helm = rendered(DEFAULTS);
        List<HasMetadata> base = kustomized("base");
        assertSamePod(base, helm);
        assertEquals(daemonSet(base).getSpec().getUpdateStrategy(), daemonSet(helm).getSpec().getUpdateStrategy());
        assertEquals(configYaml(base), configYaml(helm));
        ServiceAccount account = KubernetesTypes.only(helm, ServiceAccount.class);
        assertEquals(KubernetesTypes.only(base, ServiceAccount.class).getAutomountServiceAccountToken(),
                account.getAutomountServiceAccountToken());
        assertEquals(account.getMetadata().getName(), pod(helm).getServiceAccountName());
        // The Kubernetes signals need the same grants whichever way the agent is installed: the same rules, bound
        // to the pod's own ServiceAccount.
        io.fabric8.kubernetes.api.model.rbac.ClusterRole baseRole = KubernetesTypes.only(base,
                io.fabric8.kubernetes.api.model.rbac.ClusterRole.class);
        io.fabric8.kubernetes.api.model.rbac.ClusterRole helmRole = KubernetesTypes.only(helm,
                io.fabric8.kubernetes.api.model.rbac.ClusterRole.class);
        assertEquals(baseRole.getRules(), helmRole.getRules());
        io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding binding = KubernetesTypes.only(helm,
                io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding.class);
        assertEquals(helmRole.getMetadata().getName(), binding.getRoleRef().getName());
        assertEquals(List.of(account.getMetadata().getName()), binding.getSubjects().stream()
                .map(io.fabric8.kubernetes.api.model.rbac.Subject::getName).toList());
        // The fleet size: get on the release's own DaemonSet, which the config names, as the base does.
        io.fabric8.kubernetes.api.model.rbac.Role fleetRole = KubernetesTypes.only(helm,
                io.fabric8.kubernetes.api.model.rbac.Role.class);
        assertEquals(KubernetesTypes.only(base, io.fabric8.kubernetes.api.model.rbac.Role.class).getRules(),
                fleetRole.getRules());
        assertEquals(List.of(daemonSet(helm).getMetadata().getName()), fleetRole.getRules().get(0).getResourceNames());
        assertEquals(daemonSet(helm).getMetadata().getName(), config(helm).fleet().daemonSet());
        io.fabric8.kubernetes.api.model.Service service = KubernetesTypes.only(helm,
                io.fabric8.kubernetes.api.model.Service.class);
        assertEquals(Boolean.TRUE, service.getSpec().getPublishNotReadyAddresses());
        assertEquals(service.getMetadata().getName(), config(helm).fleet().service().split("\\.")[0],
                "fleet.service names the release's headless Service");
        io.fabric8.kubernetes.api.model.rbac.RoleBinding fleetBinding = KubernetesTypes.only(helm,
                io.fabric8.kubernetes.api.model.rbac.RoleBinding.class);
        assertEquals(fleetRole.getMetadata().getName(), fleetBinding.getRoleRef().getName());
        assertEquals(List.of(account.getMetadata().getName()), fleetBinding.getSubjects().stream()
                .map(io.fabric8.kubernetes.api.model.rbac.Subject::getName).toList());

        Service baseService = KubernetesTypes.only(base, Service.class);
        Service helmService = KubernetesTypes.only(helm, Service.class);
        assertEquals(baseService.getSpec().getPorts(), helmService.getSpec().getPorts());
        assertEquals(baseService.getSpec().getClusterIP(), helmService.getSpec().getClusterIP());
        assertSelects(helmService.getSpec().getSelector(), helm);

        PodMonitor baseMonitor = KubernetesTypes.only(base, PodMonitor.class);
        PodMonitor helmMonitor = KubernetesTypes.only(helm, PodMonitor.class);
        assertEquals(baseMonitor.getSpec().getPodMetricsEndpoints(), helmMonitor.getSpec().getPodMetricsEndpoints());
        assertSelects(helmMonitor.getSpec().getSelector().getMatchLabels(), helm);
        assertSelects(daemonSet(helm).getSpec().getSelector().getMatchLabels(), helm);

        assertEquals(KubernetesTypes.only(base, PrometheusRule.class).getSpec(),
                KubernetesTypes.only(helm, PrometheusRule.class).getSpec());
    }

    /** examples/EXAMPLE.yaml rendered: the same pod and the same config.yaml as the kustomize overlay. */
    private List<HasMetadata> rendersTheOverlay(String example, String overlayName) {
        List<HasMetadata> overlay = kustomized(overlayName);
        List<HasMetadata> helm = rendered(example);
        assertSamePod(overlay, helm);
        assertEquals(configYaml(overlay), configYaml(helm));
        return helm;
    }

    @Test
    @DisplayName("examples/proxy.yaml renders the with-proxy overlay's pod: containerd's HTTPS_PROXY, HTTP_PROXY "
            + "and NO_PROXY, nothing else changed")
    void proxyExampleIsTheWithProxyOverlay() {
        List<HasMetadata> helm = rendersTheOverlay("proxy", "with-proxy");
        assertEquals(List.of("NODE_NAME", "POD_NAMESPACE", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY"),
                agent(helm).getEnv().stream().map(e -> e.getName()).toList());
    }

    @Test
    @DisplayName("examples/private-ecr.yaml renders the private-ecr overlay's config.yaml and the base's pod")
    void privateEcrExampleIsThePrivateEcrOverlay() {
        List<HasMetadata> helm = rendersTheOverlay("private-ecr", "private-ecr");
        List<String> hosts = config(helm).targets().stream().map(t -> t.target().host()).toList();
        assertTrue(hosts.contains("public.ecr.aws") && hosts.contains("123456789012.dkr.ecr.us-east-1.amazonaws.com")
                && hosts.contains("api.ecr.us-east-1.amazonaws.com"), hosts.toString());
    }

    @Test
    @DisplayName("examples/read-pull-secrets.yaml renders the read-pull-secrets overlay: the same config.yaml "
            + "(kubernetes.readPullSecrets) and the same ClusterRole, the base's rules plus get on secrets")
    void readPullSecretsExampleIsTheOverlay() {
        List<HasMetadata> overlay = kustomized("read-pull-secrets");
        List<HasMetadata> helm = rendersTheOverlay("read-pull-secrets", "read-pull-secrets");
        assertTrue(config(helm).kubernetes().readPullSecrets());
        var overlayRules = KubernetesTypes.only(overlay, io.fabric8.kubernetes.api.model.rbac.ClusterRole.class)
                .getRules();
        assertEquals(overlayRules, KubernetesTypes.only(helm, io.fabric8.kubernetes.api.model.rbac.ClusterRole.class)
                .getRules());
        var last = overlayRules.get(overlayRules.size() - 1);
        assertEquals(List.of("secrets"), last.getResources());
        assertEquals(List.of("get"), last.getVerbs(), "by name only: no list, no watch");
        assertTrue(KubernetesTypes.only(rendered(DEFAULTS), io.fabric8.kubernetes.api.model.rbac.ClusterRole.class)
                .getRules().stream().noneMatch(r -> r.getResources().contains("secrets")), "not by default");
    }

    @Test
    @DisplayName("examples/resources.yaml changes the agent's requests and limits and nothing else, still with no "
            + "CPU limit and a memory limit above the JVM's caps")
    void resourcesExampleChangesOnlyResources() throws IOException {
        List<HasMetadata> helm = rendered("resources");
        ResourceRequirements expected = KubernetesTypes.read(yaml("resources").get("resources"),
                ResourceRequirements.class);
        assertEquals(expected, agent(helm).getResources());
        assertFalse(expected.getLimits().containsKey("cpu"), "a CPU limit throttles the timed phases");
        assertTrue(Quantity.getAmountInBytes(expected.getLimits().get("memory"))
                .longValue() >= JvmOptions.read().cappedBytes() + (32L << 20), "memory limit under the JVM's caps");
        PodSpec defaults = pod(KubernetesTypes.parse(HelmTemplate.render())); // a copy: the cached one stays as is
        defaults.getContainers().get(0).setResources(expected);
        assertEquals(defaults, pod(helm));
    }

    @Test
    @DisplayName("examples/tolerations.yaml sets the tolerations and node selector it lists and nothing else")
    void tolerationsExampleChangesOnlyScheduling() {
        List<HasMetadata> helm = rendered("tolerations");
        JsonNode example = yaml("tolerations");
        List<Toleration> tolerations = Arrays.asList(KubernetesTypes.read(example.get("tolerations"),
                Toleration[].class));
        assertEquals(tolerations, pod(helm).getTolerations());
        assertEquals(Map.of("kubernetes.io/os", "linux"), pod(helm).getNodeSelector());
        PodSpec defaults = pod(KubernetesTypes.parse(HelmTemplate.render())); // a copy: the cached one stays as is
        defaults.setTolerations(tolerations);
        defaults.setNodeSelector(Map.of("kubernetes.io/os", "linux"));
        assertEquals(defaults, pod(helm));
    }

    @Test
    @DisplayName("Kubernetes below 1.25, and Helm's own default kube version, are refused with the chart's "
            + "kubeVersion constraint; 1.25 and newer render")
    void kubeVersionIsEnforced() {
        IllegalStateException old = assertThrows(IllegalStateException.class, () -> HelmTemplate.render("1.24.0"));
        assertTrue(old.getMessage().contains("chart requires kubeVersion: >=1.25.0-0 which is incompatible with "
                + "Kubernetes v1.24.0"), old.getMessage());
        // Without --kube-version Helm assumes an old one: deploy/README.md says helm template needs the flag.
        IllegalStateException unset = assertThrows(IllegalStateException.class, HelmTemplate::renderWithoutKubeVersion);
        assertTrue(unset.getMessage().contains("chart requires kubeVersion: >=1.25.0-0"), unset.getMessage());
        for (String v : List.of("1.25.0", "1.33.1")) {
            assertEquals(KINDS, KubernetesTypes.parse(HelmTemplate.render(v)).stream().map(HasMetadata::getKind)
                    .sorted().toList(), v);
        }
    }

    @Test
    @DisplayName("values that break values.schema.json are refused by helm template, naming the value and the rule")
    void schemaViolationsAreRefused(@TempDir Path dir) throws IOException {
        Map<String, String> violations = new LinkedHashMap<>();
        violations.put("port: \"9847\"\n", "at '/port': got string, want integer");
        violations.put("securityContex:\n  readOnlyRootFilesystem: true\n",
                "additional properties 'securityContex' not allowed");
        violations.put("config:\n  intervall: 30s\n", "at '/config': additional properties 'intervall' not allowed");
        violations.put("config:\n  interval: 30 seconds\n", "at '/config/interval'");
        violations.put("config:\n  fleet:\n    registryBudget: 0\n", "at '/config/fleet/registryBudget'");
        violations.put("config:\n  fleet:\n    nodes: 10\n", "additional properties 'nodes' not allowed");
        violations.put("podSecurityContext:\n  runAsUser: 0\n", "at '/podSecurityContext/runAsUser'");
        violations.put("hostMounts:\n  - name: host-containerd-certs\n    hostPath: /etc/containerd/certs.d\n"
                + "    mountPath: /host/etc/containerd/certs.d\n    type: DirectoryOrCreate\n",
                "at '/hostMounts/0/type'");
        violations.put("config:\n  targets:\n    - ecr: {region: us-east-1, account: \"1\"}\n",
                "at '/config/targets/0/ecr/account'");
        violations.put("podMonitor:\n  enable: true\n", "additional properties 'enable' not allowed");
        int i = 0;
        for (var v : violations.entrySet()) {
            Path file = Files.writeString(dir.resolve("violation-" + i++ + ".yaml"), v.getKey());
            IllegalStateException refused = assertThrows(IllegalStateException.class, () -> HelmTemplate.render(file),
                    () -> "helm template accepted:\n" + v.getKey());
            assertTrue(refused.getMessage().contains("values don't meet the specifications of the schema(s)"),
                    refused.getMessage());
            assertTrue(refused.getMessage().contains(v.getValue()),
                    () -> "for\n" + v.getKey() + "expected '" + v.getValue() + "' in: " + refused.getMessage());
        }
    }

    /** The pods the two installs would run are equal, field for field (the pod template's labels aside). */
    private static void assertSamePod(List<HasMetadata> kustomize, List<HasMetadata> helm) {
        PodSpec expected = pod(kustomize);
        PodSpec actual = pod(helm);
        Container a = KustomizeManifestsTest.agent(expected);
        Container b = KustomizeManifestsTest.agent(actual);
        // Field by field first, so a difference names itself; then the whole pod, so none is left out.
        assertEquals(a.getImage(), b.getImage(), "image");
        assertEquals(a.getArgs(), b.getArgs(), "container args");
        // kustomize's strategic merge puts a patch's variables first, Helm's template after NODE_NAME; the order
        // means nothing here (no variable refers to another).
        assertEquals(byName(a.getEnv()), byName(b.getEnv()), "env");
        assertEquals(a.getSecurityContext(), b.getSecurityContext(), "container securityContext");
        assertEquals(expected.getSecurityContext(), actual.getSecurityContext(), "pod securityContext");
        assertEquals(a.getVolumeMounts(), b.getVolumeMounts(), "volumeMounts");
        assertEquals(expected.getVolumes(), actual.getVolumes(), "volumes");
        assertEquals(a.getLivenessProbe(), b.getLivenessProbe(), "livenessProbe");
        assertEquals(a.getReadinessProbe(), b.getReadinessProbe(), "readinessProbe");
        assertEquals(a.getResources(), b.getResources(), "resources");
        assertEquals(a.getPorts(), b.getPorts(), "ports");
        assertEquals(expected.getTolerations(), actual.getTolerations(), "tolerations");
        PodSpec expectedSorted = new PodSpecBuilder(expected).editFirstContainer()
                .withEnv(byName(a.getEnv())).endContainer().build();
        PodSpec actualSorted = new PodSpecBuilder(actual).editFirstContainer()
                .withEnv(byName(b.getEnv())).endContainer().build();
        assertEquals(expectedSorted, actualSorted, "pod spec");
    }

    private static List<EnvVar> byName(List<EnvVar> env) {
        return env.stream().sorted(Comparator.comparing(EnvVar::getName))
                .toList();
    }

    /** The labels select the DaemonSet's pods. */
    private static void assertSelects(Map<String, String> selector, List<HasMetadata> resources) {
        Map<String, String> podLabels = daemonSet(resources).getSpec().getTemplate().getMetadata().getLabels();
        assertFalse(selector.isEmpty());
        assertTrue(podLabels.entrySet().containsAll(selector.entrySet()), selector + " vs pod labels " + podLabels);
    }

    private static DaemonSet daemonSet(List<HasMetadata> resources) {
        return KubernetesTypes.only(resources, DaemonSet.class);
    }

    private static PodSpec pod(List<HasMetadata> resources) {
        return daemonSet(resources).getSpec().getTemplate().getSpec();
    }

    private static Container agent(List<HasMetadata> resources) {
        return KustomizeManifestsTest.agent(pod(resources));
    }

    /** config.yaml of the ConfigMap as a YAML tree: Helm's toYaml and the kustomize file differ in comments only. */
    private static JsonNode configYaml(List<HasMetadata> resources) {
        ConfigMap map = KubernetesTypes.only(resources, ConfigMap.class);
        assertEquals(KubernetesTypes.only(resources, DaemonSet.class).getSpec().getTemplate().getSpec().getVolumes()
                .stream().filter(v -> v.getConfigMap() != null).findFirst().orElseThrow().getConfigMap().getName(),
                map.getMetadata().getName(), "the pod mounts this ConfigMap");
        try {
            return KubernetesTypes.YAML.readTree(map.getData().get(KustomizeManifestsTest.CONFIG_KEY));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static AgentConfig config(List<HasMetadata> resources) {
        ConfigMap map = KubernetesTypes.only(resources, ConfigMap.class);
        return new ConfigLoader(Map.<String, String>of()::get).parse(map.getData().get(
                KustomizeManifestsTest.CONFIG_KEY), Path.of(KustomizeManifestsTest.CONFIG_KEY));
    }

    private static JsonNode yaml(String example) {
        try {
            return KubernetesTypes.YAML.readTree(HelmTemplate.example(example).toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
