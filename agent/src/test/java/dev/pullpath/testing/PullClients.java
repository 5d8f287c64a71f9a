package dev.pullpath.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * Pull clients nobody here wrote, run in the lab's client namespace: containerd 1.6's {@code ctr images pull}
 * (against a containerd started for the lab: root and state in the lab's directory, only the native snapshotter,
 * content isolated per namespace so that every pull downloads its blobs again) and {@code skopeo copy} (which
 * downloads the manifest and every blob). A client that has not ended within its time has not pulled.
 */
public final class PullClients {
    private static final Duration PULL_TIME = Duration.ofSeconds(150);
    private static final AtomicInteger PULLS = new AtomicInteger();

    /** What a client did: pulled or not, and what it printed (its error names the request it died in). */
    public record Pull(String client, boolean pulled, String output, Duration took) {
        public static final String REGISTRY = "registry";
        public static final String LAYER_HOST = "layer host";
        private static final Pattern BLOB_DOWNLOAD = Pattern.compile("/blobs/sha256:|reading blob sha256:");

        /**
         * Where the pull died: in a blob download (ctr's error names the {@code /blobs/} URL it asked, before the
         * redirect; skopeo's says {@code reading blob}), which the lab's registry always redirects to the layer host, or before,
         * at the registry (the manifest, the login). Null when it pulled.
         */
        public String failedAt() {
            return pulled ? null : BLOB_DOWNLOAD.matcher(output).find() ? LAYER_HOST : REGISTRY;
        }
    }

    private final Netns client;
    private final Path work;
    private final Path socket;

    private PullClients(Netns client, Path work, Path socket) {
        this.client = client;
        this.work = work;
        this.socket = socket;
    }

    /** Starts containerd in the lab's client namespace; it is stopped with the lab. */
    public static PullClients start(NetworkLab lab) throws Exception {
        Netns.assumeTool("containerd", "ctr", "skopeo");
        Path dir = Files.createDirectories(lab.work().resolve("containerd"));
        Path socket = dir.resolve("c.sock");
        Path config = Files.writeString(dir.resolve("config.toml"), "version = 2\nroot = \"" + dir.resolve("root")
                + "\"\nstate = \"" + dir.resolve("state") + "\"\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\", "
                + "\"io.containerd.snapshotter.v1.overlayfs\", \"io.containerd.snapshotter.v1.btrfs\", "
                + "\"io.containerd.snapshotter.v1.zfs\", \"io.containerd.snapshotter.v1.aufs\", "
                + "\"io.containerd.snapshotter.v1.devmapper\", \"io.containerd.internal.v1.opt\"]\n"
                + "[grpc]\n  address = \"" + socket + "\"\n[ttrpc]\n  address = \"" + socket + ".ttrpc\"\n"
                // Isolated: a blob one namespace pulled is not handed to the next, so each row downloads again.
                + "[plugins.\"io.containerd.metadata.v1.bolt\"]\n  content_sharing_policy = \"isolated\"\n");
        lab.peer(lab.client(), List.of("containerd", "--config", config.toString()), "containerd successfully booted",
                Duration.ofSeconds(30));
        return new PullClients(lab.client(), dir, socket);
    }

    /**
     * {@code ctr images pull} of {@code ref} with containerd's hosts directory {@code hostsDir}, in a containerd
     * namespace of its own; {@code env} (e.g. {@code HTTPS_PROXY=...}) is ctr's environment, where its resolver
     * takes the proxy from; {@code creds} {@code user:password} or null.
     */
    public Pull ctr(String ref, Path hostsDir, String creds, String... env) {
        List<String> cmd = new ArrayList<>(List.of("env"));
        cmd.addAll(List.of(env));
        cmd.addAll(List.of("ctr", "--address", socket.toString(), "--namespace", "row" + PULLS.incrementAndGet(),
                "images", "pull", "--snapshotter", "native", "--hosts-dir", hostsDir.toString()));
        if (creds != null) {
            cmd.addAll(List.of("--user", creds));
        }
        cmd.add(ref);
        return run("ctr", cmd);
    }

    /** {@code skopeo copy docker://REF dir:...} trusting {@code certDir}'s {@code *.crt}; creds as for ctr. */
    public Pull skopeo(String ref, Path certDir, String creds, String... env) {
        Path out;
        try {
            out = Files.createTempDirectory(work, "skopeo");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> cmd = new ArrayList<>(List.of("env"));
        cmd.addAll(List.of(env));
        cmd.addAll(List.of("skopeo", "--insecure-policy", "--command-timeout", "90s", "copy", "--src-cert-dir",
                certDir.toString()));
        if (creds != null) {
            cmd.addAll(List.of("--src-creds", creds));
        } else {
            cmd.add("--src-no-creds");
        }
        cmd.addAll(List.of("docker://" + ref, "dir:" + out));
        return run("skopeo", cmd);
    }

    private Pull run(String name, List<String> cmd) {
        long t0 = System.nanoTime();
        try {
            Netns.Result r = client.run(PULL_TIME, cmd.toArray(String[]::new));
            return new Pull(name, r.exitCode() == 0, r.out() + r.err(), Duration.ofNanos(System.nanoTime() - t0));
        } catch (IllegalStateException e) {
            // runOnHost kills a command that outlives its time: a pull that hangs has not pulled (nor said where).
            return new Pull(name, false, e.getMessage(), Duration.ofNanos(System.nanoTime() - t0));
        }
    }
}
