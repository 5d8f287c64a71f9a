package dev.pullpath.kubernetes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pullpath.config.AgentConfig;
import dev.pullpath.config.KubernetesOptions;
import dev.pullpath.config.ProbeOptions;
import dev.pullpath.credentials.Credential;
import dev.pullpath.probe.PathProber;
import dev.pullpath.schedule.ProbeScheduler;
import dev.pullpath.schedule.StatusBoard;
import dev.pullpath.testing.LoopbackLab;
import dev.pullpath.testing.RegistryResponder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The opt-in reading of a pod's imagePullSecrets ({@code kubernetes.readPullSecrets}): the failing pod's secrets
 * are read from the API (fabric8's mock server), their logins for the image go to the registry (a loopback registry
 * that wants Basic auth, as private registries and private ECR do), and the Event says which secrets were read and
 * what came of them, never their contents.
 */
class KubePullSecretsTest {
    private static final String NODE = "node-a";
    private static final String USER = "puller";
    private static final String PASSWORD = "s3cret-Pa55";

    @TempDir
    Path dir;
    private KubeApiServer api;
    private KubernetesClient kubectl;
    private LoopbackLab lab;
    private RegistryResponder registry;
    private PathProber prober;
    private ProbeScheduler scheduler;
    private KubernetesReporter reporter;

    private void start(boolean readPullSecrets) throws Exception {
        api = new KubeApiServer();
        kubectl = api.kubectl();
        kubectl.nodes().resource(new NodeBuilder().withNewMetadata().withName(NODE).endMetadata().build()).create();
        lab = LoopbackLab.byAddress(dir, "CN=pullpath pull-secrets test CA");
        registry = lab.registry().mode(RegistryResponder.Mode.BASIC).basicLogin(USER + ":" + PASSWORD);
        ProbeOptions probe = lab.probeOptions(Duration.ofSeconds(2), 4);
        AgentConfig config = new AgentConfig("test", new InetSocketAddress("127.0.0.1", 0), NODE, "", 4, false, true,
                probe, List.of(), null);
        prober = new PathProber(probe, 1, null);
        // A node alone (no fleet: section): its diagnoses walk the whole path, the pod's logins included.
        scheduler = new ProbeScheduler(prober, new StatusBoard(Clock.systemUTC()), Clock.systemUTC(),
                RandomGenerator.getDefault());
        reporter = new KubernetesReporter(api.agentClient(), NODE, new KubernetesOptions(true, Duration.ofSeconds(10),
                Duration.ofMinutes(10), 2, readPullSecrets), () -> prober, () -> config,
                scheduler::borrowRegistryCheck, new PrometheusRegistry(), Clock.systemUTC(), Duration.ofMillis(500));
        reporter.start();
    }

    @AfterEach
    void stop() {
        if (reporter != null) {
            reporter.close();
            scheduler.close();
            prober.close();
            lab.close();
            kubectl.close();
            api.close();
        }
    }

    @Test
    @DisplayName("readPullSecrets on, the pod's secret holds a login the registry rejects → "
            + "auth/credentials_rejected, the Event names the secret and its login, never the password")
    void staleLoginInThePodsSecretIsTheDiagnosis() throws Exception {
        start(true);
        kubectl.secrets().inNamespace("team").resource(dockerConfigSecret("regcred", USER, "an-old-password"))
                .create();
        kubectl.pods().inNamespace("team").resource(pullingPod("app-1", "regcred")).create();

        Event e = awaitEvent("app-1");
        assertEquals("Warning", e.getType(), e.getMessage());
        assertTrue(e.getMessage().contains("auth/credentials_rejected"), e.getMessage());
        assertTrue(e.getMessage().contains("imagePullSecrets read: team/regcred: 1 login for 127.0.0.1:"
                + registry.port()), e.getMessage());
        assertTrue(e.getMessage().contains("imagePullSecret (secret team/regcred .dockerconfigjson)")
                || e.getMessage().contains("team/regcred"), e.getMessage());
        assertFalse(e.getMessage().contains("an-old-password"), "never the secret: " + e.getMessage());
        assertTrue(registry.requests().stream().anyMatch(r -> "Basic".equals(r.authorizationScheme())),
                "the secret's login was sent to the registry: " + registry.requests());
        assertTrue(api.requests().contains("GET /api/v1/namespaces/team/secrets/regcred"), api.requests().toString());
    }

    @Test
    @DisplayName("readPullSecrets on, the secret does not exist → the Event says so (the kubelet pulls without it)")
    void missingSecretIsSaid() throws Exception {
        start(true);
        kubectl.pods().inNamespace("team").resource(pullingPod("app-2", "gone")).create();

        Event e = awaitEvent("app-2");
        assertTrue(e.getMessage().contains("imagePullSecrets read: team/gone not found (the kubelet pulls without "
                + "it)."), e.getMessage());
        assertTrue(e.getMessage().contains("auth/"), "anonymous against a Basic-only registry: " + e.getMessage());
    }

    @Test
    @DisplayName("readPullSecrets off (the default) → no secret is read and the Event says so")
    void secretsAreNotReadByDefault() throws Exception {
        start(false);
        kubectl.secrets().inNamespace("team").resource(dockerConfigSecret("regcred", USER, PASSWORD)).create();
        kubectl.pods().inNamespace("team").resource(pullingPod("app-3", "regcred")).create();

        Event e = awaitEvent("app-3");
        assertTrue(e.getMessage().endsWith(PullSecrets.NOT_READ), e.getMessage());
        assertTrue(api.requests().stream().noneMatch(r -> r.startsWith("GET ") && r.contains("/secrets")),
                "no secret read: "
                + api.requests());
        assertTrue(registry.requests().stream().noneMatch(r -> r.authorizationPresent()), "no login sent");
    }

    @Test
    @DisplayName("a secret's keys match the image as the kubelet's keyring matches them: host globs, path "
            + "prefixes, the older .dockercfg, a non-base64 value reported and never thrown")
    void secretKeysMatchAsTheKubeletMatchesThem() {
        String image = "registry.team.example:5000/apps/web:1.2";
        Secret json = dockerConfigSecret("a", Map.of("https://registry.team.example:5000/apps", "u:p",
                "registry.team.example:5000/other", "x:y", "*.team.example:5000", "g:h"));
        List<Credential> found = PullSecrets.logins(json, "team/a", image, "registry.team.example:5000");
        assertEquals(List.of("u", "g"), found.stream().map(Credential::username).sorted(
                java.util.Comparator.reverseOrder()).toList(), found.toString());
        assertTrue(found.stream().allMatch(c -> c.location().equals("secret team/a .dockerconfigjson")));

        Secret legacy = new SecretBuilder().withNewMetadata().withName("b").withNamespace("team").endMetadata()
                .withType("kubernetes.io/dockercfg").addToData(".dockercfg", b64("{\"registry.team.example:5000\":"
                        + "{\"auth\":\"" + b64("old:pw") + "\"}}")).build();
        assertEquals("old", PullSecrets.logins(legacy, "team/b", image, "registry.team.example:5000").get(0)
                .username());

        Secret broken = new SecretBuilder().withNewMetadata().withName("c").withNamespace("team").endMetadata()
                .addToData(".dockerconfigjson", "%%% not base64").build();
        Credential bad = PullSecrets.logins(broken, "team/c", image, "registry.team.example:5000").get(0);
        assertFalse(bad.usable());
        assertTrue(bad.problem().contains("not base64"), bad.problem());
    }

    // ---------------------------------------------------------------------------------------------------------

    private Pod pullingPod(String name, String secret) {
        String image = "127.0.0.1:" + registry.port() + "/team/app:1.2";
        return new PodBuilder().withNewMetadata().withName(name).withNamespace("team").withUid("uid-" + name)
                .endMetadata().withNewSpec().withNodeName(NODE).addNewImagePullSecret(secret).addNewContainer()
                .withName("app").withImage(image).endContainer().endSpec().withNewStatus().withPhase("Pending")
                .addNewContainerStatus().withName("app").withImage(image).withReady(false).withRestartCount(0)
                .withNewState().withNewWaiting().withReason("ErrImagePull").endWaiting().endState()
                .endContainerStatus().endStatus().build();
    }

    private Secret dockerConfigSecret(String name, String user, String password) {
        return dockerConfigSecret(name, Map.of("127.0.0.1:" + registry.port(), user + ":" + password));
    }

    private static Secret dockerConfigSecret(String name, Map<String, String> logins) {
        StringBuilder auths = new StringBuilder("{\"auths\":{");
        logins.forEach((key, login) -> auths.append(auths.charAt(auths.length() - 1) == '{' ? "" : ",")
                .append('"').append(key).append("\":{\"auth\":\"").append(b64(login)).append("\"}"));
        auths.append("}}");
        return new SecretBuilder().withNewMetadata().withName(name).withNamespace("team").endMetadata()
                .withType("kubernetes.io/dockerconfigjson").addToData(".dockerconfigjson", b64(auths.toString()))
                .build();
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    private Event awaitEvent(String pod) throws InterruptedException {
        await(() -> !podEvents(pod).isEmpty(), "an Event on pod " + pod);
        return podEvents(pod).get(0);
    }

    private List<Event> podEvents(String pod) {
        return kubectl.v1().events().inNamespace("team").list().getItems().stream()
                .filter(e -> e.getInvolvedObject().getName().equals(pod)).toList();
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        Instant until = Instant.now().plusSeconds(20);
        while (!condition.getAsBoolean()) {
            if (Instant.now().isAfter(until)) {
                throw new AssertionError("within 20 s: " + what);
            }
            Thread.sleep(100);
        }
    }
}
