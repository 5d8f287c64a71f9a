package dev.pullpath.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The agent's image built without an engine, as an OCI image archive (what {@code docker save}/{@code skopeo} and
 * every OCI runtime tool read): a base layer, then one layer with deploy/Dockerfile's final-stage COPYs, and an
 * image config with its USER, EXPOSE, ENTRYPOINT and CMD.
 *
 * <p>The base stands in for {@code eclipse-temurin:17-jre}, which cannot be pulled here: a JRE that {@code jlink}
 * makes from this machine's JDK, at temurin's path ({@code /opt/java/openjdk}, on the PATH, as JAVA_HOME), plus the
 * shared libraries it links (found by {@code ldd}) and nothing else: no shell, no package manager, no
 * /etc/passwd (the user is numeric, as in the Dockerfile).
 */
final class OciImage {
    static final String JAVA_HOME = "/opt/java/openjdk";
    static final String PATH = JAVA_HOME + "/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    /**
     * A JRE's modules: Java SE plus what the agent and its libraries reach for: Netty's Unsafe, EC crypto, JMX
     * extras, and jdk.random (the agent's L32X64MixRandom: without it the agent stops at start, as this test found).
     */
    static final String MODULES = "java.se,jdk.unsupported,jdk.crypto.ec,jdk.management,jdk.net,jdk.zipfs,"
            + "jdk.naming.dns,jdk.random,jdk.charsets";
    /** The JRE's AWT/sound libraries: never loaded by a headless agent, and they would pull in X11. */
    static final Pattern DESKTOP_LIBRARY = Pattern.compile(
            "lib(awt.*|splashscreen|jsound|fontmanager|lcms|javajpeg|mlib_image|jawt)\\.so");
    static final Duration STEP = Duration.ofSeconds(120);
    static final String REF = "pullpath:test";

    /** The archive and its unpacked layout (for the test to read back). */
    record Built(Path archive, Path layout) {
    }

    private OciImage() {
    }

    /**
     * Builds the image of {@code dockerfile}'s final stage into {@code work}; {@code jar} is what the build stage
     * produces (agent/target/pullpath-agent.jar), {@code context} the repository root.
     */
    static Built build(Dockerfile dockerfile, Path context, Path jar, Path work) throws IOException {
        Path layout = Files.createDirectories(work.resolve("oci"));
        Path blobs = Files.createDirectories(layout.resolve("blobs").resolve("sha256"));

        Path base = Files.createDirectories(work.resolve("base"));
        baseRootfs(base);
        Path app = Files.createDirectories(work.resolve("app"));
        for (Dockerfile.Copy copy : dockerfile.copies()) {
            Path source = copy.fromStage() == null ? context.resolve(copy.source())
                    : buildStageOutput(copy, jar);
            if (source == null) {
                continue;
            }
            Path target = app.resolve(copy.destination().replaceFirst("^/", ""));
            Files.createDirectories(target.getParent());
            Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
        }
        Command.check(STEP, "chmod", "-R", "u=rwX,go=rX", app.toString());

        ArrayNode layers = KubernetesTypes.JSON.createArrayNode();
        ArrayNode diffIds = KubernetesTypes.JSON.createArrayNode();
        for (Path dir : List.of(base, app)) {
            Path tar = work.resolve(dir.getFileName() + ".tar");
            // Reproducible: sorted, owned by root, one timestamp.
            Command.check(STEP, "tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0",
                    "-C", dir.toString(), "-cf", tar.toString(), ".");
            long size = Files.size(tar);
            String digest = blob(tar, blobs);
            diffIds.add(digest);
            layers.addObject().put("mediaType", "application/vnd.oci.image.layer.v1.tar").put("digest", digest)
                    .put("size", size);
        }

        ObjectNode config = KubernetesTypes.JSON.createObjectNode();
        config.put("architecture", "amd64").put("os", "linux");
        ObjectNode runtime = config.putObject("config");
        runtime.put("User", dockerfile.user());
        ObjectNode ports = runtime.putObject("ExposedPorts");
        dockerfile.exposed().forEach(p -> ports.putObject(p.contains("/") ? p : p + "/tcp"));
        runtime.putArray("Env").add("PATH=" + PATH).add("JAVA_HOME=" + JAVA_HOME);
        ArrayNode entrypoint = runtime.putArray("Entrypoint");
        dockerfile.entrypoint().forEach(entrypoint::add);
        ArrayNode cmd = runtime.putArray("Cmd");
        dockerfile.cmd().forEach(cmd::add);
        ObjectNode rootfs = config.putObject("rootfs");
        rootfs.put("type", "layers");
        rootfs.set("diff_ids", diffIds);
        config.putArray("history").addObject().put("created_by", "jlink " + MODULES + " (stands in for "
                + dockerfile.base() + ")");
        String configDigest = json(config, blobs);

        ObjectNode manifest = KubernetesTypes.JSON.createObjectNode();
        manifest.put("schemaVersion", 2).put("mediaType", "application/vnd.oci.image.manifest.v1+json");
        manifest.putObject("config").put("mediaType", "application/vnd.oci.image.config.v1+json")
                .put("digest", configDigest).put("size", Files.size(blobPath(blobs, configDigest)));
        manifest.set("layers", layers);
        String manifestDigest = json(manifest, blobs);

        ObjectNode index = KubernetesTypes.JSON.createObjectNode();
        index.put("schemaVersion", 2).put("mediaType", "application/vnd.oci.image.index.v1+json");
        index.putArray("manifests").addObject().put("mediaType", "application/vnd.oci.image.manifest.v1+json")
                .put("digest", manifestDigest).put("size", Files.size(blobPath(blobs, manifestDigest)))
                .putObject("annotations").put("org.opencontainers.image.ref.name", REF.split(":")[1]);
        Files.writeString(layout.resolve("index.json"), KubernetesTypes.JSON.writeValueAsString(index));
        Files.writeString(layout.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");

        Path archive = work.resolve("pullpath-image.tar");
        Command.check(STEP, "tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0", "-C",
                layout.toString(), "-cf", archive.toString(), ".");
        return new Built(archive, layout);
    }

    /**
     * The build stages' output the final stage copies: the agent's jar, built by Maven before the tests; null for
     * the training stage's class data sharing archive (/app/pullpath.jsa), which this image goes without: a CDS
     * archive maps only in the JVM build that wrote it (eclipse-temurin's, in the Dockerfile), and the base here is
     * this machine's JDK. So the image starts as Jib's does, with the archive missing, which the entrypoint's
     * "base:top" form has to survive.
     */
    private static Path buildStageOutput(Dockerfile.Copy copy, Path jar) {
        if ("train".equals(copy.fromStage()) && copy.source().endsWith(".jsa")) {
            return null;
        }
        if (!copy.source().endsWith("/agent/target/" + jar.getFileName())) {
            throw new IllegalStateException("deploy/Dockerfile copies " + copy.source() + " from stage "
                    + copy.fromStage() + "; the image test only knows the agent's jar and the training stage's "
                    + "archive");
        }
        return jar;
    }

    /** A JRE at /opt/java/openjdk and the shared libraries that it and its native libraries link. */
    private static void baseRootfs(Path root) throws IOException {
        for (String dir : List.of("etc", "tmp", "proc", "sys", "dev", "opt/java")) {
            Files.createDirectories(root.resolve(dir));
        }
        Path jre = root.resolve(JAVA_HOME.substring(1));
        Path jdk = Path.of(System.getProperty("java.home"));
        Command.check(STEP, jdk.resolve("bin").resolve("jlink").toString(), "--add-modules", MODULES,
                "--strip-debug", "--no-header-files", "--no-man-pages", "--compress=2", "--output", jre.toString());
        Set<String> libraries = new LinkedHashSet<>();
        List<Path> binaries = new java.util.ArrayList<>(List.of(jre.resolve("bin/java"),
                jre.resolve("lib/server/libjvm.so")));
        try (var files = Files.list(jre.resolve("lib"))) {
            files.filter(f -> f.getFileName().toString().endsWith(".so"))
                    .filter(f -> !DESKTOP_LIBRARY.matcher(f.getFileName().toString()).matches())
                    .forEach(binaries::add);
        }
        Pattern resolved = Pattern.compile("=> (/\\S+)|^\\s*(/\\S+) \\(0x");
        for (Path binary : binaries) {
            for (String line : Command.check(STEP, "ldd", binary.toString()).split("\n")) {
                Matcher m = resolved.matcher(line);
                if (m.find()) {
                    String lib = m.group(1) != null ? m.group(1) : m.group(2);
                    if (!lib.startsWith(jre.toString())) {
                        libraries.add(lib);
                    }
                }
            }
        }
        for (String lib : libraries) {
            Path target = root.resolve(lib.substring(1));
            Files.createDirectories(target.getParent());
            Files.copy(Path.of(lib), target, StandardCopyOption.REPLACE_EXISTING); // follows symlinks: real files
        }
        Command.check(STEP, "chmod", "1777", root.resolve("tmp").toString());
    }

    /** Unpacks the image's layers, in order, into {@code rootfs}, and returns its config. */
    static JsonNode unpack(Path layout, Path rootfs) throws IOException {
        JsonNode index = KubernetesTypes.JSON.readTree(layout.resolve("index.json").toFile());
        Path blobs = layout.resolve("blobs").resolve("sha256");
        JsonNode manifest = KubernetesTypes.JSON.readTree(blobPath(blobs, index.get("manifests").get(0)
                .get("digest").asText()).toFile());
        Files.createDirectories(rootfs);
        for (JsonNode layer : manifest.get("layers")) {
            Path blob = blobPath(blobs, layer.get("digest").asText());
            if (!layer.get("digest").asText().equals(digest(blob))) {
                throw new IllegalStateException("layer " + blob + " does not match its digest");
            }
            Command.check(STEP, "tar", "--numeric-owner", "-xpf", blob.toString(), "-C", rootfs.toString());
        }
        return KubernetesTypes.JSON.readTree(blobPath(blobs, manifest.get("config").get("digest").asText())
                .toFile());
    }

    static Path blobPath(Path blobs, String digest) {
        return blobs.resolve(digest.substring("sha256:".length()));
    }

    private static String json(JsonNode node, Path blobs) throws IOException {
        Path tmp = Files.createTempFile(blobs.getParent(), "json", ".tmp");
        Files.write(tmp, KubernetesTypes.JSON.writeValueAsBytes(node));
        return blob(tmp, blobs);
    }

    /** Moves {@code file} into the blob store under its digest. */
    private static String blob(Path file, Path blobs) throws IOException {
        String digest = digest(file);
        Files.move(file, blobPath(blobs, digest), StandardCopyOption.REPLACE_EXISTING);
        return digest;
    }

    static String digest(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file, java.nio.file.StandardOpenOption.READ)) {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                sha.update(buf, 0, n);
            }
            return "sha256:" + HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static void deleteTree(Path dir) {
        if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            Command.run(STEP, List.of("rm", "-rf", "--one-file-system", dir.toString()));
        }
    }

}
