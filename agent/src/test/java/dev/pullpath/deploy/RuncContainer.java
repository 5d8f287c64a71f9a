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
 * An unpacked image started by Debian's {@code runc} as the kubelet's runtime would start the chart's pod: the
 * image's user, entrypoint and command, a read-only root filesystem, no capabilities, no privilege escalation, a
 * 16 MiB /tmp, the config directory and the node's files mounted read-only, the chart's memory limit, and the
 * network namespace given (the test's, standing in for the node's).
 */
final class RuncContainer implements AutoCloseable {
    static final Duration STEP = Duration.ofSeconds(30);

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
    static RuncContainer start(String id, Path bundle, JsonNode imageConfig, String netnsName,
            Map<String, Path> mounts, long memoryLimitBytes, Path log) throws IOException {
        Command.check(STEP, "runc", "spec", "--bundle", bundle.toString());
        Path configFile = bundle.resolve("config.json");
        ObjectNode spec = (ObjectNode) KubernetesTypes.JSON.readTree(configFile.toFile());
        JsonNode image = imageConfig.get("config");

        ObjectNode process = (ObjectNode) spec.get("process");
        process.put("terminal", false);
        ArrayNode args = process.putArray("args");
        image.get("Entrypoint").forEach(args::add);
        image.get("Cmd").forEach(args::add);
        ArrayNode env = process.putArray("env");
        image.get("Env").forEach(env::add);
        process.put("cwd", "/");
        String[] user = image.get("User").asText().split(":");
        process.putObject("user").put("uid", Integer.parseInt(user[0])).put("gid", Integer.parseInt(user[1]));
        // capabilities: drop: [ALL]; allowPrivilegeEscalation: false
        ObjectNode caps = process.putObject("capabilities");
        for (String set : List.of("bounding", "effective", "inheritable", "permitted", "ambient")) {
            caps.putArray(set);
        }
        process.put("noNewPrivileges", true);

        spec.putObject("root").put("path", "rootfs").put("readonly", true);
        ArrayNode specMounts = (ArrayNode) spec.get("mounts");
        ObjectNode tmp = specMounts.addObject().put("destination", "/tmp").put("type", "tmpfs").put("source", "tmpfs");
        tmp.putArray("options").add("nosuid").add("nodev").add("mode=1777").add("size=16m");
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
        resources.putObject("memory").put("limit", memoryLimitBytes);
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
