package dev.pullpath.kubernetes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pullpath.testing.Netns;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The jar the image ships, not the test classpath: the shade plugin merges service files and relocates nothing,
 * but a lost {@code META-INF/services} entry (fabric8's HTTP client factory, its Jackson modules) would only show
 * in a cluster. {@code java -jar pullpath-agent.jar run}, configured from the environment the way fabric8 reads it
 * outside a pod ({@code KUBERNETES_MASTER}), must patch its node's condition on fabric8's mock API server.
 */
class ShadedJarApiTest {
    private static final Path JAR = Path.of("target/pullpath-agent.jar");

    @TempDir
    Path dir;

    @Test
    @DisplayName("java -jar pullpath-agent.jar run with kubernetes enabled → the node's ImagePullPath condition "
            + "goes False with the blocked target's reason, and a Warning Event is posted")
    void shadedJarReportsToTheApiServer() throws Exception {
        if (!Files.isRegularFile(JAR)) {
            // .ci/run builds the jar before the tests; under CI a missing jar is a failure, not a skip.
            assertTrue(!"true".equals(System.getenv("CI")), "no " + JAR.toAbsolutePath() + ": run mvn package first");
            Assumptions.abort("no " + JAR + " (mvn -DskipTests package builds it)");
        }
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort(); // closed again at once: connection refused
        }
        try (KubeApiServer api = new KubeApiServer(); KubernetesClient kubectl = api.kubectl()) {
            kubectl.nodes().resource(new NodeBuilder().withNewMetadata().withName("node-jar").endMetadata().build())
                    .create();
            Files.writeString(dir.resolve("hosts"), "");
            Path config = Files.writeString(dir.resolve("config.yaml"), "listen: 127.0.0.1:0\nhostsFile: "
                    + dir.resolve("hosts") + "\nresolvers: [\"127.0.0.1:9\"]\nkubernetes: {enabled: true}\n"
                    + "targets: [{url: \"https://127.0.0.1:" + closedPort + "\", kind: tcp, interval: 1s}]\n");
            ProcessBuilder pb = Netns.withoutProxyEnvironment(new ProcessBuilder(
                    ProcessHandle.current().info().command().orElse("java"), "-Xmx96m", "-jar",
                    JAR.toAbsolutePath().toString(), "run", "--config", config.toString()))
                    .redirectErrorStream(true).redirectOutput(dir.resolve("out.log").toFile());
            pb.environment().put("NODE_NAME", "node-jar");
            pb.environment().put("KUBERNETES_MASTER", api.url());
            pb.environment().put("KUBECONFIG", dir.resolve("no-kubeconfig").toString());
            pb.environment().put("KUBERNETES_NAMESPACE", "default");
            Process agent = pb.start();
            try {
                NodeCondition down = null;
                Instant until = Instant.now().plusSeconds(60);
                while (down == null) {
                    assertTrue(agent.isAlive() && Instant.now().isBefore(until), () -> "no False condition: "
                            + read(dir.resolve("out.log")));
                    List<NodeCondition> conditions = kubectl.nodes().withName("node-jar").get().getStatus() == null
                            ? List.of() : kubectl.nodes().withName("node-jar").get().getStatus().getConditions();
                    down = conditions.stream().filter(c -> c.getType().equals("ImagePullPath")
                            && c.getStatus().equals("False")).findFirst().orElse(null);
                    Thread.sleep(200);
                }
                assertEquals("FirewallConnectRefused", down.getReason(), down.toString());
                Instant events = Instant.now().plusSeconds(20);
                while (kubectl.v1().events().inAnyNamespace().list().getItems().stream()
                        .noneMatch(e -> e.getType().equals("Warning") && e.getReason().equals("FirewallConnectRefused"))) {
                    assertTrue(Instant.now().isBefore(events), () -> "no Warning Event: " + read(dir.resolve("out.log")));
                    Thread.sleep(200);
                }
            } finally {
                agent.destroy();
                if (!agent.waitFor(5, TimeUnit.SECONDS)) {
                    agent.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            }
        }
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            return "(no log)";
        }
    }
}
