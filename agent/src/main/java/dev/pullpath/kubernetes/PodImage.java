package dev.pullpath.kubernetes;

import dev.pullpath.config.ConfigException;
import dev.pullpath.config.ContainerdHosts;
import dev.pullpath.config.Target;
import dev.pullpath.probe.ManifestProbe;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A pod's image reference as the kubelet hands it to containerd: the registry (Docker Hub's {@code docker.io} when
 * the first component is not a host, {@code library/} for official images), the repository, and the tag
 * ({@code latest} when none) or digest.
 *
 * @param registry the registry's authority, {@code host[:port]}
 * @param image    repository and reference, as the manifest probe requests them
 */
record PodImage(String registry, ManifestProbe.Image image) {

    /** distribution/reference's ParseNormalizedNamed, as far as a pull needs it. */
    static PodImage parse(String text) {
        String s = text == null ? "" : text.strip();
        if (s.isEmpty()) {
            throw new ConfigException("empty image reference");
        }
        dev.pullpath.gocompat.DockerReference.Split split = dev.pullpath.gocompat.DockerReference.splitDomain(s);
        String registry = split.domain().toLowerCase(Locale.ROOT);
        String rest = split.remainder();
        String name = rest;
        String reference = null;
        int at = rest.indexOf('@');
        if (at >= 0) {
            name = rest.substring(0, at);
            reference = "@" + rest.substring(at + 1);
            int colon = name.lastIndexOf(':');
            if (colon >= 0) {
                name = name.substring(0, colon); // name:tag@digest pulls by digest
            }
        } else {
            int colon = rest.lastIndexOf(':');
            if (colon > rest.lastIndexOf('/')) {
                name = rest.substring(0, colon);
                reference = ":" + rest.substring(colon + 1);
            }
        }
        // The repository grammar and the tag/digest forms are the manifest probe's (and its error message).
        return new PodImage(registry, ManifestProbe.parse(name + (reference == null ? ":latest" : reference),
                registry));
    }

    /**
     * The target a pull of this image walks: the registry itself, or for Docker Hub its API host, unless
     * containerd's hosts.toml for {@code docker.io} says where pulls go.
     */
    Target target(Path containerdCertsDir) {
        if (registry.equals("docker.io") && (containerdCertsDir == null
                || ContainerdHosts.find(containerdCertsDir, "docker.io",
                dev.pullpath.config.ContainerdVersion.ASSUMED).isEmpty())) {
            return Target.parse("registry-1.docker.io");
        }
        return Target.parse(registry);
    }

    @Override
    public String toString() {
        return registry + "/" + image;
    }
}
