package dev.pullpath.gocompat;

import java.util.Locale;

/**
 * distribution/reference's splitDockerDomain, the one rule every image-reference reader here shares (the kubelet's
 * keyring lookup, the pod's failed pull): a first path component with a '.' or ':', {@code localhost}, or an upper
 * case letter names a registry; anything else is a Docker Hub repository. {@code index.docker.io} is Docker Hub,
 * and a Docker Hub repository without a namespace is in {@code library/}.
 */
public final class DockerReference {
    public static final String DOCKER_HUB = "docker.io";

    private DockerReference() {
    }

    /** A reference split into its registry and what follows it (repository, and any tag or digest as given). */
    public record Split(String domain, String remainder) {
    }

    public static Split splitDomain(String name) {
        int slash = name.indexOf('/');
        String domain;
        String remainder;
        if (slash < 0 || !isDomain(name.substring(0, slash))) {
            domain = DOCKER_HUB;
            remainder = name;
        } else {
            domain = name.substring(0, slash);
            remainder = name.substring(slash + 1);
        }
        if (domain.equals("index.docker.io")) {
            domain = DOCKER_HUB;
        }
        if (domain.equals(DOCKER_HUB) && remainder.indexOf('/') < 0) {
            remainder = "library/" + remainder;
        }
        return new Split(domain, remainder);
    }

    static boolean isDomain(String first) {
        return first.indexOf('.') >= 0 || first.indexOf(':') >= 0 || first.equals("localhost")
                || !first.equals(first.toLowerCase(Locale.ROOT));
    }
}
