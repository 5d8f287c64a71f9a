package dev.pullpath.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * hosts.toml read as containerd's remotes/docker/config/hosts.go reads it. Where releases differ, each case names
 * the release; the ignored-file cases were run with Debian's containerd 1.6.20 ({@code ctr images pull --hosts-dir})
 * against a TLS server whose CA only the file names: every one of them ended in "x509: certificate signed by
 * unknown authority" at the default host, and the file with a {@code [host]} table carrying the CA pulled.
 */
class ContainerdHostsParsesAsContainerdTest {
    private static final Path FILE = Path.of("/etc/containerd/certs.d/registry.test/hosts.toml");
    private static final ContainerdVersion V1_6 = ContainerdVersion.parse("1.6.20~ds1", "test");
    private static final ContainerdVersion V1_7_32 = ContainerdVersion.parse("containerd://1.7.32", "test");
    private static final ContainerdVersion V2 = ContainerdVersion.parse("v2.0.0", "test");

    private static ContainerdHosts parse(String text, ContainerdVersion version) {
        return ContainerdHosts.parse(FILE, text, "registry.test", version);
    }

    @Test
    void capabilitiesAreCaseInsensitive() {
        // hosts.go parseHostConfig: switch strings.ToLower(c) { case "pull": ... }
        ContainerdHosts h = parse("server = \"https://registry.test\"\n[host.\"https://mirror.test\"]\n"
                + "  capabilities = [\"Pull\", \"Resolve\"]\n", V1_6);
        assertNull(h.problem(), "containerd accepts capitalised capabilities");
        assertNull(h.ignored());
        assertEquals(2, h.endpoints().size());
    }

    @Test
    @DisplayName("an unknown capability is a decode error: containerd ignores the file and pulls from the registry")
    void unknownCapabilityMakesContainerdIgnoreTheFile() {
        // parseHostConfig: default: return hostConfig{}, fmt.Errorf("unknown capability %v", c); loadHostDir then
        // logs "failed to decode hosts.toml" and falls back to loadCertFiles.
        ContainerdHosts h = parse("[host.\"https://mirror.test\"]\n  capabilities = [\"pull\", \"fetch\"]\n", V1_6);
        assertNull(h.problem());
        assertNotNull(h.ignored());
        assertTrue(h.ignored().contains("unknown capability 'fetch'"), h.ignored());
        assertEquals(List.of("server https://registry.test"), h.endpoints().stream().map(ContainerdHosts.Endpoint::describe)
                .toList(), "only the default host, without the mirror");
    }

    @ParameterizedTest(name = "1.6 ignores: {0}")
    @ValueSource(strings = {
            "server = \"https://registry.test\nca = \"ca.pem\"\n",                  // TOML syntax
            "server = 5\n[host.\"https://mirror.test\"]\n",                           // type: server
            "[host.\"https://mirror.test\"]\n  skip_verify = \"yes\"\n",              // type: skip_verify
            "[host.\"https://mirror.test\"]\n  capabilities = \"pull\"\n",            // type: capabilities
            "[host.\"https://mirror.test\"]\n  ca = 5\n",                             // invalid type for "ca"
            "[host.\"https://mirror.test\"]\n  header = 5\n",                         // type: header
            "host = 5\n",                                                             // invalid `host` tree
    })
    void decodeErrorsMakeContainerdUseTheDefaultHost(String text) {
        for (ContainerdVersion v : List.of(V1_6, V2)) {
            ContainerdHosts h = parse(text, v);
            assertNull(h.problem(), v + ": " + text);
            assertNotNull(h.ignored(), v + ": " + text);
            assertEquals(1, h.endpoints().size());
            assertEquals("https://registry.test", h.endpoints().get(0).url());
        }
    }

    @Test
    @DisplayName("server and ca without any [host] table: ignored before 1.7.32 (no CA: x509), read from 1.7.32 on")
    void serverOnlyFileDependsOnTheRelease() {
        String text = "server = \"https://registry.test\"\nca = \"/etc/pki/registry.pem\"\n";
        ContainerdHosts old = parse(text, V1_6);
        assertNotNull(old.ignored(), "1.6: getSortedHosts returns \"invalid `host` tree\"");
        assertTrue(old.ignored().contains("containerd 1.6.20") && old.ignored().contains("[host.\"URL\"] table"),
                old.ignored());
        assertEquals(List.of(), old.endpoints().get(0).caFiles(), "the file's ca is not used");
        for (ContainerdVersion v : List.of(V1_7_32, V2)) {
            ContainerdHosts read = parse(text, v);
            assertNull(read.ignored(), v.toString());
            assertEquals(List.of(Path.of("/etc/pki/registry.pem")), read.endpoints().get(0).caFiles());
        }
        assertTrue(parse(text, ContainerdVersion.ASSUMED).ignored().contains("version not known"),
                "a verdict that rests on an assumed release says so");
    }

    @Test
    @DisplayName("an empty capability list means every capability, as containerd reads it")
    void emptyCapabilitiesMeanAll() {
        ContainerdHosts h = parse("[host.\"https://mirror.test\"]\n  capabilities = []\n", V1_6);
        assertNull(h.ignored());
        assertEquals(2, h.endpoints().size(), "the mirror serves pulls, then the registry");
    }

    @Test
    @DisplayName("a CA file containerd cannot read fails every pull: a problem, not an ignored file")
    void caPathWithANulCharacterIsAProblemNotAnException() {
        // Path.of throws InvalidPathException (not ConfigException): it must not escape parse(); containerd's
        // os.ReadFile fails, and ConfigureHosts returns "unable to read CA cert": the pull fails.
        ContainerdHosts h = parse("[host.\"https://mirror.test\"]\n  ca = \"ca\\u0000.pem\"\n", V1_6);
        assertNotNull(h.problem());
        assertNull(h.ignored());
    }

    @Test
    void underscoreInAMirrorHostNameIsAcceptedAsContainerdDoes() {
        // Go's url.Parse accepts "https://pull_cache.corp:5000"; java.net.URI then has getHost() == null.
        ContainerdHosts h = parse("[host.\"https://pull_cache.corp:5000\"]\n", V1_6);
        assertNull(h.problem(), "containerd uses this mirror; pullpath calls every pull of the registry failing");
        assertNull(h.ignored());
    }

    @Test
    void portDirectoryFormIsFoundFirst() throws Exception {
        // hosts.go hostPaths: <root>/<host>_<port>_ first, then <root>/<host>:<port>, then <root>/_default
        Path certs = Files.createTempDirectory("certs.d");
        Path hostDir = Files.createDirectories(certs.resolve("registry.test_5000_"));
        Files.writeString(hostDir.resolve("hosts.toml"), "[host.\"https://mirror.test\"]\n");
        var found = ContainerdHosts.find(certs, "registry.test:5000", V1_6);
        assertEquals(2, found.map(h -> h.endpoints().size()).orElse(0), "containerd reads registry.test_5000_/hosts.toml");
    }

    @Test
    @DisplayName("an ignored file leaves the directory's Docker-style *.crt as the registry's CAs (loadCertFiles)")
    void ignoredFileKeepsDockerStyleCertificates() throws Exception {
        Path certs = Files.createTempDirectory("certs.d");
        Path hostDir = Files.createDirectories(certs.resolve("registry.test"));
        Files.writeString(hostDir.resolve("hosts.toml"), "server = \"https://registry.test\nbroken");
        Files.writeString(hostDir.resolve("ca.crt"), "not read here");
        ContainerdHosts h = ContainerdHosts.find(certs, "registry.test", V1_6).orElseThrow();
        assertNotNull(h.ignored());
        assertEquals(List.of(hostDir.resolve("ca.crt")), h.endpoints().get(0).caFiles());
    }

    @Test
    void versionsParseAsNodesReportThem() {
        assertEquals(new ContainerdVersion(1, 7, 11, "node"), ContainerdVersion.parse("containerd://1.7.11", "node"));
        assertTrue(ContainerdVersion.parse("1.7.31", "x").needsHostTable());
        assertTrue(!ContainerdVersion.parse("1.7.32", "x").needsHostTable());
        assertTrue(!ContainerdVersion.parse("2.1", "x").needsHostTable());
        org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                () -> ContainerdVersion.parse("latest", "--containerd-version"));
    }
}
