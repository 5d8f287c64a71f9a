package dev.pullpath.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * An unpacked image started by Debian's {@code runc} as the kubelet's runtime would start the DaemonSet's pod (its
 * {@link Pod} settings over the image's entrypoint and env), with the config directory and the node's files mounted
 * read-only, in the network namespace given (the test's, standing in for the node's).
 */
final class RuncContainer implements AutoCloseable {
    static final Duration STEP = Duration.ofSeconds(30);

    /**
     * What the DaemonSet's pod sets for its container, as the kubelet hands it to the runtime: args replace the
     * image's CMD, runAsUser/runAsGroup its USER; drop ALL plus the added capabilities; allowPrivilegeEscalation
     * false is no_new_privs; the /tmp emptyDir's size and the memory limit.
     */
    record Pod(List<String> args, long uid, long gid, boolean readOnlyRoot, boolean noNewPrivileges,
            List<String> capabilities, long tmpBytes, long memoryLimitBytes) {
        static Pod of(io.fabric8.kubernetes.api.model.apps.DaemonSet daemonSet) {
            var pod = daemonSet.getSpec().getTemplate().getSpec();
            var agent = KustomizeManifestsTest.agent(pod);
            var sc = agent.getSecurityContext();
            if (!sc.getCapabilities().getDrop().contains("ALL")) {
                throw new IllegalStateException("the image test models capabilities.drop: [ALL] only");
            }
            var tmp = KustomizeManifestsTest.volume(pod, agent.getVolumeMounts().stream()
                    .filter(m -> m.getMountPath().equals("/tmp")).findFirst().orElseThrow().getName());
            return new Pod(agent.getArgs(), pod.getSecurityContext().getRunAsUser(),
                    pod.getSecurityContext().getRunAsGroup(), Boolean.TRUE.equals(sc.getReadOnlyRootFilesystem()),
                    Boolean.FALSE.equals(sc.getAllowPrivilegeEscalation()),
                    sc.getCapabilities().getAdd().stream().map(c -> "CAP_" + c).toList(),
                    io.fabric8.kubernetes.api.model.Quantity.getAmountInBytes(tmp.getEmptyDir().getSizeLimit())
                            .longValue(),
                    io.fabric8.kubernetes.api.model.Quantity.getAmountInBytes(agent.getResources().getLimits()
                            .get("memory")).longValue());
        }
    }

    private final String id;
    private final Path bundle;

    private RuncContainer(String id, Path bundle) {
        this.id = id;
        this.bundle = bundle;
    }

    /**
     * Writes the bundle's config.json ({@code runc spec}, then the pod's settings) and starts the container
     * detached; its output goes to {@code log}. {@code mounts} maps container paths to host paths, all read-only.
     */
    static RuncContainer start(String id, Path bundle, JsonNode imageConfig, Pod pod, String netnsName,
            Map<String, Path> mounts, Path log) throws IOException {
        Command.check(STEP, "runc", "spec", "--bundle", bundle.toString());
        Path configFile = bundle.resolve("config.json");
        ObjectNode spec = (ObjectNode) KubernetesTypes.JSON.readTree(configFile.toFile());
        JsonNode image = imageConfig.get("config");

        ObjectNode process = (ObjectNode) spec.get("process");
        process.put("terminal", false);
        ArrayNode args = process.putArray("args");
        image.get("Entrypoint").forEach(args::add);
        pod.args().forEach(args::add);
        ArrayNode env = process.putArray("env");
        image.get("Env").forEach(env::add);
        process.put("cwd", "/");
        process.putObject("user").put("uid", pod.uid()).put("gid", pod.gid());
        ObjectNode caps = process.putObject("capabilities");
        for (String set : List.of("bounding", "effective", "permitted")) {
            pod.capabilities().forEach(caps.putArray(set)::add);
        }
        caps.putArray("inheritable");
        caps.putArray("ambient");
        process.put("noNewPrivileges", pod.noNewPrivileges());

        spec.putObject("root").put("path", "rootfs").put("readonly", pod.readOnlyRoot());
        ArrayNode specMounts = (ArrayNode) spec.get("mounts");
        ObjectNode tmp = specMounts.addObject().put("destination", "/tmp").put("type", "tmpfs").put("source", "tmpfs");
        tmp.putArray("options").add("nosuid").add("nodev").add("mode=1777").add("size=" + pod.tmpBytes());
        mounts.forEach((inContainer, onHost) -> {
            ObjectNode m = specMounts.addObject().put("destination", inContainer).put("type", "bind")
                    .put("source", onHost.toString());
            m.putArray("options").add("rbind").add("ro").add("nosuid").add("nodev");
        });

        ObjectNode linux = (ObjectNode) spec.get("linux");
        ArrayNode namespaces = linux.putArray("namespaces");
        for (String ns : List.of("pid", "ipc", "uts", "mount")) {
            namespaces.addObject().put("type", ns);
        }
        namespaces.addObject().put("type", "network").put("path", "/var/run/netns/" + netnsName);
        ObjectNode resources = linux.has("resources") ? (ObjectNode) linux.get("resources")
                : linux.putObject("resources");
        resources.putObject("memory").put("limit", pod.memoryLimitBytes());
        Files.write(configFile, KubernetesTypes.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(spec));

        ProcessBuilder pb = new ProcessBuilder("runc", "run", "--detach", "--bundle", bundle.toString(), id)
                .redirectOutput(log.toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        try {
            Process p = pb.start();
            if (!p.waitFor(STEP.toSeconds(), java.util.concurrent.TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("runc run did not return within " + STEP);
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("runc run exited " + p.exitValue() + ": " + Files.readString(log));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return new RuncContainer(id, bundle);
    }

    /** {@code runc state}: "running", "stopped"... */
    JsonNode state() {
        try {
            return KubernetesTypes.JSON.readTree(Command.check(STEP, "runc", "state", id));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    long pid() {
        return state().get("pid").asLong();
    }

    void signal(String signal) {
        Command.check(STEP, "runc", "kill", id, signal);
    }

    @Override
    public void close() {
        Command.run(STEP, List.of("runc", "delete", "--force", id));
    }

    Path bundle() {
        return bundle;
    }
}
