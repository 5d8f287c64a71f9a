package dev.pullpath.config;

import java.nio.file.Path;

/** Test access to {@link ContainerdHosts#parse}, which is package-private, for the fuzz targets. */
public final class ContainerdHostsAccess {
    private ContainerdHostsAccess() {
    }

    /** Parsed as containerd 1.6 and as 2.0 read it; either way usable, ignored (one default host) or a problem. */
    public static ContainerdHosts parse(Path file, String text, String authority) {
        ContainerdHosts h = null;
        for (ContainerdVersion v : new ContainerdVersion[] {ContainerdVersion.parse("1.6.20", "test"),
                ContainerdVersion.parse("2.0.0", "test")}) {
            h = ContainerdHosts.parse(file, text, authority, v);
            if ((h.problem() == null) == h.endpoints().isEmpty()) {
                throw new AssertionError("a hosts.toml is either usable or has a problem: " + h);
            }
            if (h.ignored() != null && (h.endpoints().size() != 1 || h.problem() != null)) {
                throw new AssertionError("an ignored hosts.toml leaves exactly the default host: " + h);
            }
        }
        return h;
    }
}
