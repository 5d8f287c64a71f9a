package dev.pullpath.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * containerd's proxy comes from its systemd unit, as systemd builds its environment: the unit file, then drop-ins by
 * file name across /etc, /run and /usr/lib (a name higher up masks the same name below), Environment= in order
 * (empty resets), EnvironmentFile= over them.
 */
class ContainerdUnitTest {
    private static final String SECRET = "pr0xy-s3cret";
    @TempDir
    Path root;

    private void write(String hostPath, String text) throws Exception {
        Path p = root.resolve(hostPath.substring(1));
        Files.createDirectories(p.getParent());
        Files.writeString(p, text);
    }

    private static final String MAIN = "[Unit]\nDescription=containerd\n[Service]\nExecStart=/usr/bin/containerd\n";

    @Test
    @DisplayName("a drop-in sets HTTPS_PROXY with a login and NO_PROXY → containerd's proxy, named by its file, "
            + "the password never shown")
    void dropInProxyIsContainerds() throws Exception {
        write("/usr/lib/systemd/system/containerd.service", MAIN);
        write("/etc/systemd/system/containerd.service.d/http-proxy.conf", "[Service]\n"
                + "Environment=\"HTTPS_PROXY=http://ops:" + SECRET + "@proxy.corp:3128\" "
                + "\"NO_PROXY=169.254.169.254,.svc,10.0.0.0/8\"\n");
        ProxySettings p = ContainerdUnit.proxies(root, Map.<String, String>of()::get);
        assertEquals("proxy.corp", p.httpsProxy().host());
        assertEquals(3128, p.httpsProxy().port());
        assertEquals("containerd's HTTPS_PROXY in /etc/systemd/system/containerd.service.d/http-proxy.conf",
                p.proxySource());
        assertEquals("169.254.169.254,.svc,10.0.0.0/8", p.noProxy().raw());
        assertFalse(p.toString().contains(SECRET), p.toString());
        assertTrue(p.problems().stream().anyMatch(n -> n.contains("the agent's own environment no https proxy")),
                "the agent's environment (none) disagrees with containerd's: " + p.problems());
        assertTrue(p.problems().stream().noneMatch(n -> n.contains(SECRET)), p.problems().toString());
    }

    @Test
    @DisplayName("the agent's environment equal to containerd's → no disagreement noted")
    void agreementIsQuiet() throws Exception {
        write("/etc/systemd/system/containerd.service.d/proxy.conf",
                "[Service]\nEnvironment=HTTPS_PROXY=http://proxy.corp:3128 NO_PROXY=.svc\n");
        ProxySettings p = ContainerdUnit.proxies(root,
                Map.of("HTTPS_PROXY", "http://proxy.corp:3128", "NO_PROXY", ".svc")::get);
        assertEquals(List.of(), p.problems());
    }

    @Test
    @DisplayName("the agent has a proxy in its environment, containerd's unit none → pulls go direct, and so does "
            + "the walk")
    void unitWithoutProxyMeansDirect() throws Exception {
        write("/lib/systemd/system/containerd.service", MAIN + "Environment=GOMAXPROCS=2\n");
        ProxySettings p = ContainerdUnit.proxies(root, Map.of("HTTPS_PROXY", "http://pod-proxy:8080")::get);
        assertNull(p.httpsProxy());
        assertTrue(p.problems().stream().anyMatch(n -> n.contains("has no https proxy")), p.problems().toString());
    }

    @Test
    @DisplayName("a drop-in in /etc masks the same name in /usr/lib; drop-ins apply in file-name order, later wins")
    void precedenceAsSystemd() throws Exception {
        write("/usr/lib/systemd/system/containerd.service", MAIN + "Environment=HTTPS_PROXY=http://vendor:1\n");
        write("/usr/lib/systemd/system/containerd.service.d/10-proxy.conf",
                "[Service]\nEnvironment=HTTPS_PROXY=http://masked:2\n");
        write("/etc/systemd/system/containerd.service.d/10-proxy.conf",
                "[Service]\nEnvironment=HTTPS_PROXY=http://admin:3\n");
        write("/usr/lib/systemd/system/containerd.service.d/20-later.conf",
                "[Service]\nEnvironment=NO_PROXY=.internal\n");
        ContainerdUnit unit = ContainerdUnit.read(root).orElseThrow();
        assertEquals(List.of("/usr/lib/systemd/system/containerd.service",
                "/etc/systemd/system/containerd.service.d/10-proxy.conf",
                "/usr/lib/systemd/system/containerd.service.d/20-later.conf"), unit.files());
        assertEquals("http://admin:3", unit.vars().get("HTTPS_PROXY"));
        assertEquals(".internal", unit.vars().get("NO_PROXY"));
    }

    @Test
    @DisplayName("an empty Environment= resets what came before; EnvironmentFile= overrides Environment=")
    void resetAndEnvironmentFile() throws Exception {
        write("/etc/systemd/system/containerd.service", MAIN
                + "Environment=HTTPS_PROXY=http://old:1 NO_PROXY=.old\nEnvironment=\n"
                + "Environment=HTTPS_PROXY=http://new:2\nEnvironmentFile=-/etc/default/absent\n"
                + "EnvironmentFile=/etc/sysconfig/containerd\n");
        write("/etc/sysconfig/containerd", "# proxy for pulls\nHTTPS_PROXY=\"http://fromfile:3\"\nexport X=1\n");
        ContainerdUnit unit = ContainerdUnit.read(root).orElseThrow();
        assertEquals("http://fromfile:3", unit.vars().get("HTTPS_PROXY"));
        assertFalse(unit.vars().containsKey("NO_PROXY"), "reset by the empty Environment=");
        assertEquals("/etc/sysconfig/containerd", unit.origin().get("HTTPS_PROXY"));
        assertEquals(List.of(), unit.notes(), "an optional (-) file that is missing is silent");
    }

    @Test
    @DisplayName("quotes, C escapes, %% and continuation lines, as systemd reads them; an unclosed quote drops the "
            + "line with a note")
    void systemdSyntax() throws Exception {
        write("/etc/systemd/system/containerd.service.d/x.conf", "[Service]\n"
                + "Environment='HTTPS_PROXY=http://p:3128' \\\n  NO_PROXY=a\\x2cb,100%%.corp\n"
                + "Environment=\"HTTP_PROXY=http://broken\n");
        ContainerdUnit unit = ContainerdUnit.read(root).orElseThrow();
        assertEquals("http://p:3128", unit.vars().get("HTTPS_PROXY"));
        assertEquals("a,b,100%.corp", unit.vars().get("NO_PROXY"));
        assertFalse(unit.vars().containsKey("HTTP_PROXY"));
        assertTrue(unit.notes().stream().anyMatch(n -> n.contains("unclosed quote")), unit.notes().toString());
    }

    @Test
    @DisplayName("Environment= outside [Service] is not containerd's; no unit at all → the agent's environment, said")
    void onlyTheServiceSection() throws Exception {
        assertTrue(ContainerdUnit.proxies(root, Map.of("HTTPS_PROXY", "http://own:1")::get).problems().stream()
                .anyMatch(n -> n.startsWith("no containerd unit file under")));
        write("/etc/systemd/system/containerd.service", "[Unit]\nEnvironment=HTTPS_PROXY=http://nope:1\n");
        assertFalse(ContainerdUnit.read(root).orElseThrow().vars().containsKey("HTTPS_PROXY"));
    }
}
