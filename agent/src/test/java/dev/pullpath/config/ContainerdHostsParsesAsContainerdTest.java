package dev.pullpath.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** hosts.toml read as containerd's config/hosts.go reads it, on the inputs where the two once differed. */
class ContainerdHostsParsesAsContainerdTest {
    private static final Path FILE = Path.of("/etc/containerd/certs.d/registry.test/hosts.toml");

    @Test
    void capabilitiesAreCaseInsensitive() {
        // hosts.go parseHostConfig: switch strings.ToLower(c) { case "pull": ... }
        ContainerdHosts h = ContainerdHosts.parse(FILE, "server = \"https://registry.test\"\n"
                + "capabilities = [\"Pull\", \"Resolve\"]\n", "registry.test");
        assertNull(h.problem(), "containerd accepts capitalised capabilities");
        assertEquals(1, h.endpoints().size());
    }

    @Test
    void unknownCapabilityIsAnErrorInContainerd() {
        // hosts.go parseHostConfig: default: return hostConfig{}, fmt.Errorf("unknown capability %v", c)
        ContainerdHosts h = ContainerdHosts.parse(FILE, "[host.\"https://mirror.test\"]\n"
                + "  capabilities = [\"pull\", \"fetch\"]\n", "registry.test");
        assertNotNull(h.problem(), "containerd refuses the file: every pull of the registry fails");
    }

    @Test
    void underscoreInAMirrorHostNameIsAcceptedAsContainerdDoes() {
        // Go's url.Parse accepts "https://pull_cache.corp:5000"; java.net.URI then has getHost() == null.
        ContainerdHosts h = ContainerdHosts.parse(FILE, "[host.\"https://pull_cache.corp:5000\"]\n", "registry.test");
        assertNull(h.problem(), "containerd uses this mirror; pullpath calls every pull of the registry failing");
    }

    @Test
    void portDirectoryFormIsFoundFirst() throws Exception {
        // hosts.go hostPaths: <root>/<host>_<port>_ first, then <root>/<host>:<port>, then <root>/_default
        Path certs = Files.createTempDirectory("certs.d");
        Path hostDir = Files.createDirectories(certs.resolve("registry.test_5000_"));
        Files.writeString(hostDir.resolve("hosts.toml"), "[host.\"https://mirror.test\"]\n");
        var found = ContainerdHosts.find(certs, "registry.test:5000");
        assertEquals(2, found.map(h -> h.endpoints().size()).orElse(0), "containerd reads registry.test_5000_/hosts.toml");
    }

    @Test
    void caPathWithANulCharacterIsAProblemNotAnException() {
        // Path.of throws InvalidPathException (not ConfigException): it escapes parse(), find() and
        // PathProber.probe(); the scheduler logs "a bug" every interval and the target gets no status.
        ContainerdHosts h = ContainerdHosts.parse(FILE, "[host.\"https://mirror.test\"]\n  ca = \"ca\\u0000.pem\"\n",
                "registry.test");
        assertNotNull(h.problem());
    }
}
