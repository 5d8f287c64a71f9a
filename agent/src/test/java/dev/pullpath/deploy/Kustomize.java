package dev.pullpath.deploy;

import static org.junit.jupiter.api.Assertions.fail;

import dev.pullpath.testing.Netns;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** {@code kubectl kustomize} on the repository's deploy/kustomize directories: the real tool, not a re-implementation. */
final class Kustomize {
    static final Path ROOT = Path.of("..", "deploy", "kustomize").toAbsolutePath().normalize();
    static final Path BASE = ROOT.resolve("base");
    static final List<String> OVERLAYS = List.of("with-proxy", "private-ecr", "read-pull-secrets");

    private Kustomize() {
    }

    /** Skips locally without kubectl; fails under CI=true, where .ci/run installs it. */
    static void assumeKubectl() {
        Netns.assumeTool("kubectl");
    }

    static Path overlay(String name) {
        return ROOT.resolve("overlays").resolve(name);
    }

    /** The built manifests of {@code dir}, as kubectl would apply them. */
    static String build(Path dir) {
        ProcessBuilder pb = new ProcessBuilder("kubectl", "kustomize", dir.toString());
        try {
            Process p = pb.start();
            CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("kubectl kustomize " + dir + " did not finish in 60 s");
            }
            if (p.exitValue() != 0) {
                fail("kubectl kustomize " + dir + " exited " + p.exitValue() + ": "
                        + new String(err.join(), StandardCharsets.UTF_8));
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run kubectl: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static byte[] readAll(java.io.InputStream in) {
        try {
            return in.readAllBytes();
        } catch (IOException e) {
            return new byte[0];
        }
    }
}
