package dev.pullpath.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pullpath.config.AgentConfig;
import dev.pullpath.config.ConfigLoader;
import dev.pullpath.config.ProxySettings;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.openshift.api.model.monitoring.v1.PodMetricsEndpoint;
import io.fabric8.openshift.api.model.monitoring.v1.PodMonitor;
import io.fabric8.openshift.api.model.monitoring.v1.PrometheusRule;
import io.fabric8.openshift.api.model.monitoring.v1.RelabelConfig;
import io.fabric8.openshift.api.model.monitoring.v1.Rule;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * deploy/kustomize, built by kubectl and read into Kubernetes' types: every overlay keeps what makes the agent see
 * the node as containerd does (host network, the node's resolver and files) and what keeps it harmless there.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KustomizeManifestsTest {
    static final String NAMESPACE = "pullpath";
    static final String CONFIG_KEY = "config.yaml";
    /** Peak resident set size measured with the image's flags, idle and under /probe load (README, "Performance"). */
    static final long MEASURED_RSS_BYTES = 106L << 20;

    private final Map<String, List<HasMetadata>> builds = new HashMap<>();

    /** Per test, not per class: surefire reports a class-level skip as "0 tests run", with no reason. */
    @BeforeEach
    void kubectlInstalled() {
        Kustomize.assumeKubectl();
    }

    /** Each kustomization built once per class run, when a test first needs it. */
    private List<HasMetadata> built(String name) {
        return builds.computeIfAbsent(name, n -> KubernetesTypes.parse(Kustomize.build(
                n.equals("base") ? Kustomize.BASE : Kustomize.overlay(n))));
    }

    Stream<String> kustomizations() {
        return Stream.concat(Stream.of("base"), Kustomize.OVERLAYS.stream());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kustomizations")
    @DisplayName("every kustomization builds into Kubernetes types with no unknown field, all in the pullpath namespace")
    void parsesWithNoUnknownField(String name) {
        List<HasMetadata> resources = built(name);
        List<String> kinds = resources.stream().map(HasMetadata::getKind).sorted().toList();
        assertEquals(List.of("ClusterRole", "ClusterRoleBinding", "ConfigMap", "DaemonSet", "Namespace", "PodMonitor",
                "PrometheusRule", "Role", "RoleBinding", "Service", "ServiceAccount"), kinds);
        for (HasMetadata r : resources) {
            assertEquals(List.of(), KubernetesTypes.unknownFields(r), r.getKind() + " has fields Kubernetes lacks");
            if (!(r instanceof Namespace) && !(r instanceof ClusterRole) && !(r instanceof ClusterRoleBinding)) {
                assertEquals(NAMESPACE, r.getMetadata().getNamespace(), r.getKind() + " " + r.getMetadata().getName());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kustomizations")
    @DisplayName("kubernetes.enabled: the minimal ClusterRole (get/patch nodes/status, get nodes, create/patch events, "
            + "list/watch pods, no secrets) bound to the agent's ServiceAccount, whose token is projected, short-lived, "
            + "where the client looks")
    void apiAccessIsMinimal(String name) {
        assertTrue(config(name).kubernetes().enabled(), "kubernetes.enabled in the shipped config");
        List<HasMetadata> resources = built(name);
        ClusterRole role = KubernetesTypes.only(resources, ClusterRole.class);
        List<String> rules = role.getRules().stream().map(r -> r.getApiGroups() + " " + r.getResources() + " "
                + r.getVerbs()).toList();
        List<String> minimal = List.of("[] [nodes] [get]", "[] [nodes/status] [get, patch]",
                "[] [events] [create, patch]", "[] [pods] [list, watch]");
        if (config(name).kubernetes().readPullSecrets()) {
            // The opt-in overlay: get (by name, never list or watch) on the Secrets a failing pod names.
            List<String> withSecrets = new java.util.ArrayList<>(minimal);
            withSecrets.add("[] [secrets] [get]");
            assertEquals(withSecrets, rules);
            assertEquals("read-pull-secrets", name, "only the opt-in overlay reads secrets");
        } else {
            assertEquals(minimal, rules);
        }
        ClusterRoleBinding binding = KubernetesTypes.only(resources, ClusterRoleBinding.class);
        assertEquals(role.getMetadata().getName(), binding.getRoleRef().getName());
        ServiceAccount account = KubernetesTypes.only(resources, ServiceAccount.class);
        assertEquals(1, binding.getSubjects().size());
        assertEquals("ServiceAccount", binding.getSubjects().get(0).getKind());
        assertEquals(account.getMetadata().getName(), binding.getSubjects().get(0).getName());
        assertEquals(NAMESPACE, binding.getSubjects().get(0).getNamespace());

        PodSpec pod = daemonSet(name).getSpec().getTemplate().getSpec();
        assertEquals(account.getMetadata().getName(), pod.getServiceAccountName());
        assertEquals(Boolean.FALSE, pod.getAutomountServiceAccountToken(), "no long-lived automounted token");
        VolumeMount tokenMount = agent(pod).getVolumeMounts().stream()
                .filter(m -> m.getMountPath().equals("/var/run/secrets/kubernetes.io/serviceaccount")).findFirst()
                .orElseThrow(() -> new AssertionError("no token where the in-cluster client looks"));
        assertEquals(Boolean.TRUE, tokenMount.getReadOnly());
        var sources = volume(pod, tokenMount.getName()).getProjected().getSources();
        var token = sources.stream().filter(v -> v.getServiceAccountToken() != null).findFirst().orElseThrow()
                .getServiceAccountToken();
        assertEquals("token", token.getPath());
        assertTrue(token.getExpirationSeconds() <= 3600, "short-lived: " + token.getExpirationSeconds());
        assertTrue(sources.stream().anyMatch(v -> v.getConfigMap() != null
                && v.getConfigMap().getName().equals("kube-root-ca.crt")), "the cluster CA");
        assertTrue(sources.stream().anyMatch(v -> v.getDownwardAPI() != null), "the namespace");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kustomizations")
    @DisplayName("fleet size and rank: the config names the agent's DaemonSet and headless Service, the pod knows its "
            + "namespace, and a Role grants get on that one DaemonSet and list on EndpointSlices in the namespace, "
            + "nothing else, bound to the agent's ServiceAccount; the Service publishes not-ready agents")
    void fleetSizeAccessIsOneObject(String name) {
        AgentConfig config = config(name);
        DaemonSet ds = daemonSet(name);
        assertEquals(ds.getMetadata().getName(), config.fleet().daemonSet(), "fleet.daemonSet is the DaemonSet");
        assertTrue(config.fleet().registryBudget() > 0 && config.fleet().registryBudget() <= 0.1,
                "the default budget: " + config.fleet().registryBudget());
        assertTrue(config.fleet().size() >= 100, "a fallback size that is not a node alone: " + config.fleet().size());
        EnvVar ns = env(agent(ds.getSpec().getTemplate().getSpec()), "POD_NAMESPACE")
                .orElseThrow(() -> new AssertionError("no POD_NAMESPACE"));
        assertEquals("metadata.namespace", ns.getValueFrom().getFieldRef().getFieldPath());
        List<HasMetadata> resources = built(name);
        io.fabric8.kubernetes.api.model.rbac.Role role = KubernetesTypes.only(resources,
                io.fabric8.kubernetes.api.model.rbac.Role.class);
        Service service = KubernetesTypes.only(resources, Service.class);
        assertEquals(service.getMetadata().getName() + "." + NAMESPACE + ".svc.cluster.local", config.fleet().service(),
                "fleet.service is the headless Service, whose EndpointSlices list the members");
        assertEquals(Boolean.TRUE, service.getSpec().getPublishNotReadyAddresses(),
                "a starting agent is listed before it is ready: it finds its own rank");
        assertEquals(List.of("[apps] [daemonsets] [" + ds.getMetadata().getName() + "] [get]",
                "[discovery.k8s.io] [endpointslices] [] [list]"), role.getRules()
                .stream().map(r -> r.getApiGroups() + " " + r.getResources() + " " + r.getResourceNames() + " "
                        + r.getVerbs()).toList());
        io.fabric8.kubernetes.api.model.rbac.RoleBinding binding = KubernetesTypes.only(resources,
                io.fabric8.kubernetes.api.model.rbac.RoleBinding.class);
        assertEquals("Role", binding.getRoleRef().getKind());
        assertEquals(role.getMetadata().getName(), binding.getRoleRef().getName());
        assertEquals(1, binding.getSubjects().size());
        assertEquals(KubernetesTypes.only(resources, ServiceAccount.class).getMetadata().getName(),
                binding.getSubjects().get(0).getName());
        assertEquals(NAMESPACE, binding.getSubjects().get(0).getNamespace());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kustomizations")
    @DisplayName("the DaemonSet probes from the node: host network, the node's resolver, NODE_NAME, on every node first")
    void daemonSetRunsAsTheNode(String name) {
        PodSpec pod = daemonSet(name).getSpec().getTemplate().getSpec();
        assertEquals(Boolean.TRUE, pod.getHostNetwork(), "hostNetwork");
        assertEquals("Default", pod.getDnsPolicy(), "dnsPolicy: the node's resolver, not ClusterFirstWithHostNet");
        assertEquals("system-node-critical", pod.getPriorityClassName());
        Toleration everything = new Toleration();
        everything.setOperator("Exists");
        assertEquals(List.of(everything), pod.getTolerations(), "one toleration that matches every taint");
        EnvVar nodeName = env(agent(pod), "NODE_NAME").orElseThrow(() -> new AssertionError("no NODE_NAME"));
        assertNull(nodeName.getValue());
        assertEquals("spec.nodeName", nodeName.getValueFrom().getFieldRef().getFieldPath());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kustomizations")
    @DisplayName("the agent runs non-root with a read-only root, no capabilities, no privilege escalation, "
            + "RuntimeDefault seccomp and no API token")
    void securitySettings(String name) {
        PodSpec pod = daemonSet(name).getSpec().getTemplate().getSpec();
        PodSecurityContext podContext = pod.getSecurityContext();
        assertEquals(Boolean.TRUE, podContext.getRunAsNonRoot());
        assertTrue(podContext.getRunAsUser() != null && podContext.getRunAsUser() > 0, "numeric non-root runAsUser");
        assertTrue(podContext.getRunAsGroup() != null && podContext.getRunAsGroup() > 0, "numeric runAsGroup");
        assertEquals("RuntimeDefault", podContext.getSeccompProfile().getType());
        for (Container c : pod.getContainers()) {
            SecurityContext sc = c.getSecurityContext();
            assertEquals(Boolean.FALSE, sc.getAllowPrivilegeEscalation(), c.getName());
            assertEquals(Boolean.TRUE, sc.getReadOnlyRootFilesystem(), c.getName());
            assertEquals(List.of("ALL"), sc.getCapabilities().getDrop(), c.getName());
            assertTrue(sc.getCapabilities().getAdd() == null || sc.getCapabilities().getAdd().isEmpty(), c.getName());
            assertTrue(sc.getPrivileged() == null || !sc.getPrivileged(), c.getName());
            assertTrue(sc.getRunAsUser() == null || sc.getRunAsUser() > 0, c.getName());
        }
        assertEquals(Boolean.FALSE, pod.getAutomountServiceAccountToken());
        ServiceAccount account = KubernetesTypes.only(built(name), ServiceAccount.class);
        assertEquals(account.getMetadata().getName(), pod.getServiceAccountName());
        assertEquals(Boolean.FALSE, account.getAutomountServiceAccountToken());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kustomizations")
    @DisplayName("liveness asks /healthz and readiness /readyz on the named port the agent's config listens on")
    void probesHitTheAgentsPort(String name) {
        Container agent = agent(daemonSet(name).getSpec().getTemplate().getSpec());
        ContainerPort metrics = agent.getPorts().stream().filter(p -> "metrics".equals(p.getName())).findFirst()
                .orElseThrow(() -> new AssertionError("no port named metrics"));
        assertEquals(config(name).listen().getPort(), metrics.getContainerPort(), "containerPort vs config listen");
        assertNull(metrics.getHostPort(), "hostNetwork makes the container port the host port already");
        assertHttpGet(agent.getLivenessProbe(), "/healthz");
        assertHttpGet(agent.getReadinessProbe(), "/readyz");
    }

    private static void assertHttpGet(Probe probe, String path) {
        assertNotNull(probe, path);
        assertEquals(path, probe.getHttpGet().getPath());
        assertEquals("metrics", probe.getHttpGet().getPort().getStrVal(), path + " by port name");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kustomizations")
    @DisplayName("the node's hosts, resolv.conf, containerd certs.d, credential provider config and systemd units are "
            + "mounted read-only, /tmp is an emptyDir, and nothing is created on the host")
    void hostPathsAreReadOnly(String name) {
        PodSpec pod = daemonSet(name).getSpec().getTemplate().getSpec();
        Map<String, String> hostPathToMount = hostPathMounts(pod);
        assertEquals(Map.of("/etc/hosts", "/host/etc/hosts", "/etc/resolv.conf", "/host/etc/resolv.conf",
                "/etc/containerd/certs.d", "/host/etc/containerd/certs.d",
                "/etc/eks/image-credential-provider", "/host/etc/eks/image-credential-provider",
                "/etc/systemd/system", "/host/etc/systemd/system",
                "/usr/lib/systemd/system", "/host/usr/lib/systemd/system",
                "/lib/systemd/system", "/host/lib/systemd/system"), hostPathToMount);
        for (Volume v : pod.getVolumes()) {
            if (v.getHostPath() != null) {
                String type = Optional.ofNullable(v.getHostPath().getType()).orElse("");
                assertFalse(type.endsWith("OrCreate"), v.getName() + ": " + type + " would write on the host");
            }
        }
        Container agent = agent(pod);
        for (VolumeMount m : agent.getVolumeMounts()) {
            Volume v = volume(pod, m.getName());
            if (m.getMountPath().equals("/tmp")) {
                assertNotNull(v.getEmptyDir(), "/tmp is an emptyDir");
                assertNotNull(v.getEmptyDir().getSizeLimit(), "/tmp is bounded");
            } else {
                assertEquals(Boolean.TRUE, m.getReadOnly(), m.getMountPath() + " is read-only");
            }
        }
        assertTrue(agent.getVolumeMounts().stream().anyMatch(m -> m.getMountPath().equals("/tmp")), "/tmp mounted");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kustomizations")
    @DisplayName("the ConfigMap's config.yaml passes the agent's own loader and points at the read-only mounts")
    void configIsValidAndReadsTheMountedFiles(String name) {
        AgentConfig config = config(name);
        PodSpec pod = daemonSet(name).getSpec().getTemplate().getSpec();
        Map<String, String> mountToHostPath = new HashMap<>();
        hostPathMounts(pod).forEach((host, mount) -> mountToHostPath.put(mount, host));
        assertEquals("/etc/resolv.conf", mountToHostPath.get(config.probe().resolvConf().toString()),
                "resolvConf reads the node's resolv.conf");
        assertEquals("/etc/hosts", mountToHostPath.get(config.probe().hostsFile().toString()),
                "hostsFile reads the node's hosts file");
        for (Path ca : config.probe().caFiles()) {
            assertTrue(mountToHostPath.keySet().stream().anyMatch(m -> ca.startsWith(m)), ca + " is on a host mount");
        }
        Container agent = agent(pod);
        List<String> args = agent.getArgs();
        String configPath = args.get(args.indexOf("--config") + 1);
        VolumeMount configMount = agent.getVolumeMounts().stream()
                .filter(m -> configPath.equals(m.getMountPath() + "/" + CONFIG_KEY)).findFirst()
                .orElseThrow(() -> new AssertionError(configPath + " is not the mounted ConfigMap's " + CONFIG_KEY));
        assertNull(configMount.getSubPath(), "a subPath mount never sees ConfigMap updates");
        assertEquals(configMap(name).getMetadata().getName(),
                volume(pod, configMount.getName()).getConfigMap().getName());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kustomizations")
    @DisplayName("requests and limits hold the measured footprint: memory request above the measured RSS, limit above "
            + "the JVM's caps, no CPU limit")
    void resourcesFitTheMeasuredFootprint(String name) throws IOException {
        var resources = agent(daemonSet(name).getSpec().getTemplate().getSpec()).getResources();
        BigDecimal memoryRequest = Quantity.getAmountInBytes(resources.getRequests().get("memory"));
        BigDecimal memoryLimit = Quantity.getAmountInBytes(resources.getLimits().get("memory"));
        BigDecimal cpuRequest = Quantity.getAmountInBytes(resources.getRequests().get("cpu"));
        assertTrue(memoryRequest.compareTo(BigDecimal.valueOf(MEASURED_RSS_BYTES)) >= 0,
                "memory request " + memoryRequest + " below the measured RSS");
        assertTrue(memoryLimit.compareTo(memoryRequest) >= 0, "memory limit below request");
        long jvmCaps = JvmOptions.read().cappedBytes();
        assertTrue(memoryLimit.compareTo(BigDecimal.valueOf(jvmCaps + (32L << 20))) >= 0,
                "memory limit " + memoryLimit + " leaves under 32 MiB above heap+metaspace+code cache " + jvmCaps);
        assertTrue(cpuRequest.compareTo(BigDecimal.ZERO) > 0 && cpuRequest.compareTo(new BigDecimal("0.1")) <= 0,
                "cpu request " + cpuRequest + " for a measured 0.26 % of a core");
        assertFalse(resources.getLimits().containsKey("cpu"), "a CPU limit throttles the timed phases");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kustomizations")
    @DisplayName("the headless Service and the PodMonitor select the agent pods on the metrics port, with a node label")
    void scrapedByNode(String name) {
        List<HasMetadata> resources = built(name);
        Map<String, String> podLabels = daemonSet(name).getSpec().getTemplate().getMetadata().getLabels();
        Service service = KubernetesTypes.only(resources, Service.class);
        assertEquals("None", service.getSpec().getClusterIP(), "headless");
        assertTrue(podLabels.entrySet().containsAll(service.getSpec().getSelector().entrySet()), "service selector");
        assertEquals(9847, service.getSpec().getPorts().get(0).getPort());
        assertEquals("metrics", service.getSpec().getPorts().get(0).getTargetPort().getStrVal());

        PodMonitor monitor = KubernetesTypes.only(resources, PodMonitor.class);
        assertTrue(podLabels.entrySet().containsAll(monitor.getSpec().getSelector().getMatchLabels().entrySet()),
                "podmonitor selector");
        PodMetricsEndpoint endpoint = monitor.getSpec().getPodMetricsEndpoints().get(0);
        assertEquals("metrics", endpoint.getPort());
        assertEquals("/metrics", endpoint.getPath());
        RelabelConfig nodeLabel = endpoint.getRelabelings().stream()
                .filter(r -> "node".equals(r.getTargetLabel())).findFirst()
                .orElseThrow(() -> new AssertionError("no relabeling to node"));
        assertEquals(List.of("__meta_kubernetes_pod_node_name"), nodeLabel.getSourceLabels());
        assertTrue(nodeLabel.getAction() == null || nodeLabel.getAction().equalsIgnoreCase("replace"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kustomizations")
    @DisplayName("the PrometheusRule carries named alerts, each with an expression")
    void prometheusRuleHasAlerts(String name) {
        PrometheusRule rule = KubernetesTypes.only(built(name), PrometheusRule.class);
        List<Rule> alerts = new ArrayList<>();
        rule.getSpec().getGroups().forEach(g -> alerts.addAll(g.getRules()));
        assertFalse(alerts.isEmpty(), "no rules");
        for (Rule r : alerts) {
            assertTrue(r.getAlert() != null || r.getRecord() != null, "a rule without alert or record");
            assertNotNull(r.getExpr(), r.getAlert());
            assertFalse(r.getExpr().toString().isBlank(), r.getAlert());
        }
    }

    @Test
    @DisplayName("with-proxy gives the agent containerd's proxy: registries go through it, the metadata address and "
            + "cluster names do not, and Go would read the values as written")
    void withProxySetsContainerdsProxy() {
        Map<String, String> env = env("with-proxy");
        assertTrue(env.containsKey("HTTPS_PROXY") && env.containsKey("NO_PROXY"), "HTTPS_PROXY and NO_PROXY: " + env);
        ProxySettings proxies = ProxySettings.fromEnvironment(env::get);
        assertEquals(List.of(), proxies.problems());
        assertTrue(proxies.proxyFor("public.ecr.aws").isPresent(), "public.ecr.aws goes through the proxy");
        for (String direct : List.of("169.254.169.254", "localhost", "kubernetes.default.svc",
                "metrics.kube-system.svc.cluster.local")) {
            assertEquals(Optional.empty(), proxies.proxyFor(direct), direct + " must bypass the proxy");
        }
        AgentConfig config = new ConfigLoader(env::get).parse(configYaml("with-proxy"), Path.of(CONFIG_KEY));
        assertTrue(config.probe().proxies().httpsProxy() != null, "the agent's config leaves the proxy to the env");
        assertTrue(env("base").isEmpty(), "the base sets no proxy");
    }

    @Test
    @DisplayName("private-ecr probes the private registry's three endpoints as well as public.ecr.aws")
    void privateEcrAddsTheRegistryEndpoints() {
        List<String> hosts = config("private-ecr").targets().stream().map(t -> t.target().host()).toList();
        assertTrue(hosts.contains("public.ecr.aws"), hosts.toString());
        assertTrue(hosts.stream().anyMatch(h -> h.matches("\\d{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com")),
                hosts.toString());
        assertTrue(hosts.stream().anyMatch(h -> h.startsWith("api.ecr.")), hosts.toString());
        assertTrue(hosts.stream().anyMatch(h -> h.contains("starport-layer-bucket")), hosts.toString());
        assertEquals(List.of("public.ecr.aws"), config("base").targets().stream().map(t -> t.target().host()).toList(),
                "the base probes public.ecr.aws only");
    }

    private DaemonSet daemonSet(String name) {
        return KubernetesTypes.only(built(name), DaemonSet.class);
    }

    private ConfigMap configMap(String name) {
        return KubernetesTypes.only(built(name), ConfigMap.class);
    }

    private String configYaml(String name) {
        String yaml = configMap(name).getData().get(CONFIG_KEY);
        assertNotNull(yaml, "ConfigMap has no " + CONFIG_KEY);
        return yaml;
    }

    /** The ConfigMap's config as the agent reads it, with no environment (NODE_NAME and the rest unset). */
    private AgentConfig config(String name) {
        return new ConfigLoader(Map.<String, String>of()::get).parse(configYaml(name), Path.of(CONFIG_KEY));
    }

    /** The literal environment variables of the agent container (not those from the downward API). */
    private Map<String, String> env(String name) {
        Map<String, String> env = new HashMap<>();
        agent(daemonSet(name).getSpec().getTemplate().getSpec()).getEnv().stream()
                .filter(e -> e.getValue() != null).forEach(e -> env.put(e.getName(), e.getValue()));
        return env;
    }

    static Container agent(PodSpec pod) {
        assertEquals(1, pod.getContainers().size(), "one container");
        return pod.getContainers().get(0);
    }

    static Optional<EnvVar> env(Container c, String name) {
        return c.getEnv() == null ? Optional.empty() : c.getEnv().stream().filter(e -> name.equals(e.getName()))
                .findFirst();
    }

    static Volume volume(PodSpec pod, String name) {
        return pod.getVolumes().stream().filter(v -> v.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no volume " + name));
    }

    /** Host path to the container path it is mounted at, for every hostPath volume. */
    static Map<String, String> hostPathMounts(PodSpec pod) {
        Map<String, String> mounts = new HashMap<>();
        for (VolumeMount m : agent(pod).getVolumeMounts()) {
            Volume v = volume(pod, m.getName());
            if (v.getHostPath() != null) {
                mounts.put(v.getHostPath().getPath(), m.getMountPath());
            }
        }
        return mounts;
    }
}
