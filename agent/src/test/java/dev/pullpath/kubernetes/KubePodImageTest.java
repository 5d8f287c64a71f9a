package dev.pullpath.kubernetes;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.pullpath.config.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** A pod's image as containerd pulls it: the registry, the repository with Docker Hub's rules, tag or digest. */
class KubePodImageTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "busybox | docker.io | library/busybox:latest",
            "busybox:1.36 | docker.io | library/busybox:1.36",
            "bitnami/redis:7 | docker.io | bitnami/redis:7",
            "docker.io/nginx | docker.io | library/nginx:latest",
            "index.docker.io/library/nginx:1 | docker.io | library/nginx:1",
            "public.ecr.aws/eks/coredns:v1.11 | public.ecr.aws | eks/coredns:v1.11",
            "localhost:5000/app | localhost:5000 | app:latest",
            "127.0.0.1:5000/team/app:1.2 | 127.0.0.1:5000 | team/app:1.2",
            "registry.k8s.io/pause:3.9@sha256:abababababababababababababababababababababababababababababababab | registry.k8s.io | pause@sha256:abababababababababababababababababababababababababababababababab",
            "ghcr.io/org/tool@sha256:abababababababababababababababababababababababababababababababab | ghcr.io | org/tool@sha256:abababababababababababababababababababababababababababababababab",
    })
    void parsesAsTheKubeletDoes(String text, String registry, String image) {
        PodImage parsed = PodImage.parse(text);
        assertEquals(registry, parsed.registry());
        assertEquals(image, parsed.image().toString());
    }

    @Test
    void aBrokenReferenceIsRefused() {
        assertThrows(ConfigException.class, () -> PodImage.parse("Registry.Test/UPPER:1"));
        assertThrows(ConfigException.class, () -> PodImage.parse(""));
    }

    @Test
    void dockerHubPullsGoToItsApiHostUnlessHostsTomlRoutesThem(@TempDir Path certs) throws Exception {
        PodImage hub = PodImage.parse("busybox");
        assertEquals("registry-1.docker.io", hub.target(certs).host());
        Files.createDirectories(certs.resolve("docker.io"));
        Files.writeString(certs.resolve("docker.io").resolve("hosts.toml"), "server = \"https://registry-1.docker.io\"\n"
                + "[host.\"https://mirror.test\"]\n  capabilities = [\"pull\", \"resolve\"]\n");
        assertEquals("docker.io", hub.target(certs).host(), "the prober follows docker.io's hosts.toml route");
        assertEquals("public.ecr.aws", PodImage.parse("public.ecr.aws/x/y:1").target(certs).host());
    }
}
