package dev.pullpath.deploy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pullpath.testing.Netns;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestInstance.Lifecycle;
import org.junit.jupiter.api.Assumptions;

/**
 * The agent's image, built without a Docker engine (none runs here) from deploy/Dockerfile's final stage into an OCI
 * archive, read back by skopeo, and started by runc as the DaemonSet's pod would be: uid 65532, read-only root, no
 * capabilities, in a network namespace of its own, where its /metrics is scraped.
 */
@TestInstance(Lifecycle.PER_CLASS)
class ContainerImageTest {
    /** The shaded jar the Dockerfile's build stage makes; .ci/run packages it before {@code mvn -B test}. */
    static final Path JAR = Path.of("target", "pullpath-agent.jar").toAbsolutePath();
    static final Path REPOSITORY = Path.of("..").toAbsolutePath().normalize();
    static final int PORT = 9847;

    private final Dockerfile dockerfile = Dockerfile.read();
    private Path work;
    private OciImage.Built image;
    private long buildMillis;

    /** Per test, not per class: surefire reports a class-level skip as "0 tests run", with no reason. */
    @BeforeEach
    void buildImageOnce() throws IOException {
        if (image != null) {
            return;
        }
        String why = null;
        if (!Files.isRegularFile(JAR)) {
            why = JAR + " is missing: run `mvn -B -DskipTests package` before the tests (.ci/run does)";
        } else if (newestClass().compareTo(Files.getLastModifiedTime(JAR)) > 0) {
            why = JAR + " is older than target/classes: run `mvn -B -DskipTests package` again, or the image would "
                    + "run yesterday's agent";
        }
        if (why != null) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                fail("the image test must run under CI=true, but " + why);
            }
            Assumptions.assumeTrue(false, "skipping the image test: " + why);
        }
        Netns.assumeTool("tar", "ldd");
        work = Files.createTempDirectory("pullpath-image");
        long start = System.nanoTime();
        image = OciImage.build(dockerfile, REPOSITORY, JAR, work);
        buildMillis = (System.nanoTime() - start) / 1_000_000;
        System.out.printf("image built in %d ms: %s, %d MiB%n", buildMillis, image.archive(),
                Files.size(image.archive()) >> 20);
    }

    /** {@code -Dpullpath.image.keep=DIR} keeps a copy of the archive there, for a look with skopeo or a registry. */
    @AfterAll
    void removeImage() throws IOException {
        String keep = System.getProperty("pullpath.image.keep");
        if (keep != null && image != null) {
            Files.createDirectories(Path.of(keep));
            Files.copy(image.archive(), Path.of(keep).resolve(image.archive().getFileName()),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        if (work != null) {
            OciImage.deleteTree(work);
        }
    }

    @Test
    @DisplayName("skopeo reads the archive as an OCI image with the Dockerfile's user, entrypoint, command and port, "
            + "the ones the chart, kustomize and Jib use too")
    void imageConfigIsTheDockerfiles() throws IOException {
        Netns.assumeTool("skopeo");
        JsonNode config = KubernetesTypes.JSON.readTree(Command.check(Duration.ofSeconds(60), "skopeo", "inspect",
                "--config", "oci-archive:" + image.archive() + ":" + OciImage.REF.split(":")[1])).get("config");
        assertEquals("65532:65532", config.get("User").asText(), "numeric, so the kubelet can check runAsNonRoot");
        assertEquals(List.of("java", "@/app/jvm.options",
                "-XX:SharedArchiveFile=/opt/java/openjdk/lib/server/classes.jsa:/app/pullpath.jsa", "-jar",
                "/app/pullpath-agent.jar"), strings(config.get("Entrypoint")));
        assertEquals(dockerfile.entrypoint(), strings(config.get("Entrypoint")));
        assertEquals(dockerfile.cmd(), strings(config.get("Cmd")));
        assertTrue(config.get("ExposedPorts").has(PORT + "/tcp"), config.toString());
        assertTrue(strings(config.get("Env")).contains("PATH=" + OciImage.PATH), "java on the PATH");

        // The pod replaces CMD with the same arguments, and runs as the image's user.
        DaemonSet daemonSet = KubernetesTypes.only(KubernetesTypes.parse(Files.readString(
                Kustomize.BASE.resolve("daemonset.yaml"))), DaemonSet.class);
        Container agent = KustomizeManifestsTest.agent(daemonSet.getSpec().getTemplate().getSpec());
        assertEquals(dockerfile.cmd(), agent.getArgs());
        var podContext = daemonSet.getSpec().getTemplate().getSpec().getSecurityContext();
        assertEquals(config.get("User").asText(), podContext.getRunAsUser() + ":" + podContext.getRunAsGroup());
        // Jib's configuration (agent/pom.xml) builds the same image for registries.
        String pom = Files.readString(REPOSITORY.resolve("agent").resolve("pom.xml"));
        assertTrue(pom.contains("<user>" + config.get("User").asText() + "</user>"), "Jib's user");
        assertTrue(pom.contains("<jvmFlag>@/app/jvm.options</jvmFlag>"), "Jib's JVM flags file");
        assertTrue(pom.contains("<port>" + PORT + "</port>"), "Jib's port");

        JsonNode manifest = KubernetesTypes.JSON.readTree(Command.check(Duration.ofSeconds(60), "skopeo", "inspect",
                "--raw", "oci-archive:" + image.archive() + ":" + OciImage.REF.split(":")[1]));
        assertEquals(2, manifest.get("layers").size(), "a base layer and the Dockerfile's COPYs");
    }

    @Test
    @DisplayName("the image holds the built jar and deploy/image/jvm.options where the entrypoint names them")
    void imageHoldsTheJarAndTheFlags() throws IOException {
        Path rootfs = work.resolve("check-rootfs");
        OciImage.unpack(image.layout(), rootfs);
        assertArrayEquals(Files.readAllBytes(JvmOptions.FILE), Files.readAllBytes(rootfs.resolve("app/jvm.options")));
        assertEquals(OciImage.digest(JAR), OciImage.digest(rootfs.resolve("app/pullpath-agent.jar")));
        assertTrue(Files.isExecutable(rootfs.resolve("opt/java/openjdk/bin/java")));
        assertTrue(Files.readString(REPOSITORY.resolve("deploy").resolve("README.md")).contains(
                "`" + String.join(" ", JvmOptions.read().flags()) + "`"), "deploy/README.md lists other JVM flags");
        assertFalse(Files.exists(rootfs.resolve("bin/sh")), "no shell in the image");
        OciImage.deleteTree(rootfs);
    }

    @Test
    @DisplayName("runc starts the image as uid 65532 with a read-only root, no capabilities and no privilege "
            + "escalation in a network namespace of its own; /metrics answers with the agent's metrics and the "
            + "image's JVM flags in force, and SIGTERM stops it")
    void startsAndServesMetrics() throws Exception {
        Netns.assumeAvailable();
        Netns.assumeTool("runc", "curl");
        Path bundle = work.resolve("bundle");
        JsonNode imageConfig = OciImage.unpack(image.layout(), bundle.resolve("rootfs"));

        // The pod's files: config.yaml as the ConfigMap mounts it, and the node's resolv.conf and hosts.
        Path configDir = Files.createDirectories(work.resolve("etc-pullpath"));
        Files.writeString(configDir.resolve("config.yaml"), String.join("\n",
                "listen: 0.0.0.0:" + PORT,
                "interval: 2s",
                "registryInterval: 10s",
                "fleet: {registryBudget: 100}",
                "timeout: 1s",
                "resolvConf: /host/etc/resolv.conf",
                "hostsFile: /host/etc/hosts",
                "targets:",
                "  - name: closed-port",
                "    url: https://127.0.0.1:1",
                ""));
        Path resolvConf = Files.writeString(work.resolve("resolv.conf"), "nameserver 127.0.0.1\n");
        Path hosts = Files.writeString(work.resolve("hosts"), "127.0.0.1 localhost\n");
        Map<String, Path> mounts = new LinkedHashMap<>();
        mounts.put("/etc/pullpath", configDir);
        mounts.put("/host/etc/resolv.conf", resolvConf);
        mounts.put("/host/etc/hosts", hosts);
        // The kustomize base's pod (HelmTemplateTest: the chart's defaults render the same one).
        RuncContainer.Pod pod = RuncContainer.Pod.of(KubernetesTypes.only(KubernetesTypes.parse(Files.readString(
                Kustomize.BASE.resolve("daemonset.yaml"))), DaemonSet.class));

        Path log = work.resolve("container.log");
        String id = "pullpath-test-" + ProcessHandle.current().pid();
        try (Netns ns = Netns.create()) {
            long start = System.nanoTime();
            try (RuncContainer container = RuncContainer.start(id, bundle, imageConfig, pod, ns.name(),
                    mounts, log)) {
                String metrics = null;
                long metricsAt = 0;
                long readyAt = 0;
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (System.nanoTime() < deadline && (readyAt == 0 || metrics == null)) {
                    if (metrics == null) {
                        Netns.Result r = ns.run(Duration.ofSeconds(5), "curl", "-fsS", "--max-time", "2",
                                "http://127.0.0.1:" + PORT + "/metrics");
                        if (r.exitCode() == 0 && r.out().contains("pullpath_probe_status{")) {
                            metrics = r.out();
                            metricsAt = System.nanoTime();
                        }
                    }
                    Netns.Result ready = ns.run(Duration.ofSeconds(5), "curl", "-fsS", "-o", "/dev/null",
                            "--max-time", "2", "http://127.0.0.1:" + PORT + "/readyz");
                    if (ready.exitCode() == 0 && readyAt == 0) {
                        readyAt = System.nanoTime();
                    }
                    if (!"running".equals(container.state().get("status").asText())) {
                        fail("the container stopped: " + Files.readString(log));
                    }
                    Thread.sleep(100);
                }
                assertTrue(metrics != null, () -> "no pullpath metrics within 60 s; container output: " + read(log));
                System.out.printf("container: /metrics with probe results after %d ms, /readyz after %d ms%n",
                        (metricsAt - start) / 1_000_000, readyAt == 0 ? -1 : (readyAt - start) / 1_000_000);
                assertTrue(readyAt != 0, "/readyz never answered 200");
                assertTrue(metrics.contains("pullpath_probe_success{target=\"closed-port\"} 0"), metrics);
                // UseSerialGC from /app/jvm.options: its old generation's pool is Tenured Gen.
                assertTrue(metrics.contains("id=\"Tenured Gen\""), "the image's JVM flags are not in force");

                long pid = container.pid();
                Map<String, String> status = procStatus(pid);
                assertEquals("65532\t65532\t65532\t65532", status.get("Uid"));
                assertEquals("65532\t65532\t65532\t65532", status.get("Gid"));
                for (String set : List.of("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")) {
                    assertEquals("0000000000000000", status.get(set), set);
                }
                assertEquals("1", status.get("NoNewPrivs"));
                assertTrue(rootMountOptions(pid).contains("ro"), "root filesystem mounted " + rootMountOptions(pid));
                List<String> cmdline = List.of(new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid),
                        "cmdline")), StandardCharsets.UTF_8).split("\0"));
                List<String> expected = new ArrayList<>(dockerfile.entrypoint());
                expected.addAll(pod.args());
                assertEquals(expected, cmdline);

                assertEquals(pod.memoryLimitBytes(), memoryLimit(pid), "the pod's memory limit on the cgroup");

                container.signal("TERM");
                long stopDeadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (System.nanoTime() < stopDeadline && !"stopped".equals(container.state().get("status")
                        .asText())) {
                    Thread.sleep(100);
                }
                assertEquals("stopped", container.state().get("status").asText(),
                        "SIGTERM did not stop the agent within the pod's 10 s grace period");
            } finally {
                System.out.println("container output:\n" + read(log));
            }
        }
    }

    private static java.nio.file.attribute.FileTime newestClass() throws IOException {
        try (var files = Files.walk(Path.of("target", "classes"))) {
            return files.filter(Files::isRegularFile).map(f -> {
                try {
                    return Files.getLastModifiedTime(f);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).max(java.util.Comparator.naturalOrder()).orElseThrow();
        }
    }

    private static Map<String, String> procStatus(long pid) throws IOException {
        Map<String, String> status = new LinkedHashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            int colon = line.indexOf(':');
            status.put(line.substring(0, colon), line.substring(colon + 1).strip());
        }
        return status;
    }

    /** The memory limit of the process's cgroup: cgroup v2's memory.max, or v1's memory controller. */
    private static long memoryLimit(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "cgroup"))) {
            String[] f = line.split(":", 3);
            if (f[1].isEmpty() && Files.exists(Path.of("/sys/fs/cgroup", f[2], "memory.max"))) {
                return Long.parseLong(Files.readString(Path.of("/sys/fs/cgroup", f[2], "memory.max")).strip());
            }
            if (List.of(f[1].split(",")).contains("memory")) {
                return Long.parseLong(Files.readString(Path.of("/sys/fs/cgroup/memory", f[2],
                        "memory.limit_in_bytes")).strip());
            }
        }
        throw new AssertionError("no memory cgroup for " + pid);
    }

    /** The mount options of the process's "/" (mountinfo field 6). */
    private static List<String> rootMountOptions(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "mountinfo"))) {
            String[] f = line.split(" ");
            if (f[4].equals("/")) {
                return List.of(f[5].split(","));
            }
        }
        throw new AssertionError("no / in mountinfo of " + pid);
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static String read(Path log) {
        try {
            return Files.exists(log) ? Files.readString(log) : "(none)";
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }
}
