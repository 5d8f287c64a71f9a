package dev.pullpath.config;

import java.nio.file.Path;

/** Test access to {@link ContainerdHosts#parse}, which is package-private, for the fuzz targets. */
public final class ContainerdHostsAccess {
    private ContainerdHostsAccess() {
    }

    public static ContainerdHosts parse(Path file, String text, String authority) {
        ContainerdHosts h = ContainerdHosts.parse(file, text, authority);
        if ((h.problem() == null) == h.endpoints().isEmpty()) {
            throw new AssertionError("a hosts.toml is either usable or has a problem: " + h);
        }
        return h;
    }
}
