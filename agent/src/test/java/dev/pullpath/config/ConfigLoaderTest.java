package dev.pullpath.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pullpath.probe.CredentialStoresBySettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigLoaderTest {
    private static final Path FILE = Path.of("/etc/pullpath/config.yaml");

    private static AgentConfig parse(String yaml, Map<String, String> env) {
        return new ConfigLoader(env::get).parse(yaml, FILE);
    }

    private static String error(String yaml) {
        return assertThrows(ConfigException.class, () -> parse(yaml, Map.of())).getMessage();
    }

    @Test
    void aFullConfigurationReadsAsWritten() {
        AgentConfig c = parse("""
                listen: 127.0.0.1:9999
                zone: eu-west-1a
                interval: 15s
                registryInterval: 10m
                timeout: 2s
                maxConcurrentProbes: 2
                targets:
                  - name: ecr-public
                    url: https://public.ecr.aws
                    labels: {team: platform}
                  - host: 123456789012.dkr.ecr.eu-west-1.amazonaws.com
                    kind: tls
                    interval: 1m
                  - host: 10.0.0.2
                    port: 53
                    kind: tcp
                """, Map.of("NODE_NAME", "ip-10-0-1-7.ec2.internal"));
        assertEquals("127.0.0.1", c.listen().getAddress().getHostAddress());
        assertEquals(9999, c.listen().getPort());
        assertEquals("ip-10-0-1-7.ec2.internal", c.node());
        assertEquals("eu-west-1a", c.zone());
        assertEquals(2, c.maxConcurrentProbes());
        assertEquals(3, c.targets().size());
        TargetConfig ecr = c.targets().get(0);
        assertEquals("ecr-public", ecr.name());
        assertEquals(TargetKind.REGISTRY, ecr.kind());
        assertEquals(Duration.ofSeconds(15), ecr.interval());
        assertEquals(Duration.ofMinutes(10), ecr.registryInterval());
        assertEquals(Duration.ofSeconds(2), ecr.timeout());
        assertEquals(Map.of("team", "platform"), ecr.labels());
        TargetConfig priv = c.targets().get(1);
        assertEquals("123456789012.dkr.ecr.eu-west-1.amazonaws.com", priv.name(), "named after the host");
        assertEquals(Duration.ofMinutes(1), priv.interval());
        assertEquals("10.0.0.2:53", c.targets().get(2).name());
    }

    @Test
    void noFileMeansUsefulDefaults(@TempDir Path dir) {
        AgentConfig c = new ConfigLoader(Map.<String, String>of()::get).load(dir.resolve("absent.yaml"), false);
        assertEquals("built-in defaults", c.source());
        assertEquals(ConfigLoader.DEFAULT_PORT, c.listen().getPort());
        assertEquals(1, c.targets().size());
        TargetConfig t = c.targets().get(0);
        assertEquals("public.ecr.aws", t.name());
        assertEquals(Duration.ofSeconds(30), t.interval());
        assertEquals(Duration.ofSeconds(5), t.timeout());
        assertEquals(Duration.ofMinutes(5), t.registryInterval());
    }

    @Test
    void anExplicitlyNamedFileMustExist(@TempDir Path dir) {
        ConfigException e = assertThrows(ConfigException.class,
                () -> new ConfigLoader(Map.<String, String>of()::get).load(dir.resolve("absent.yaml"), true));
        assertTrue(e.getMessage().endsWith("absent.yaml: no such file"), e.getMessage());
    }

    @Test
    void environmentOverridesTheFile() {
        AgentConfig c = parse("interval: 15s\ntargets: [{url: registry.test}]\n", Map.of("PULLPATH_INTERVAL", "45s",
                "PULLPATH_TARGETS", "public.ecr.aws, quay.io:8443", "PULLPATH_ZONE", "use1-az1",
                "PULLPATH_LISTEN", ":9100"));
        assertEquals(List.of("public.ecr.aws", "quay.io:8443"), c.targets().stream().map(TargetConfig::name).toList());
        assertEquals(Duration.ofSeconds(45), c.targets().get(0).interval());
        assertEquals("use1-az1", c.zone());
        assertEquals(9100, c.listen().getPort());
    }

    @Test
    void proxiesFromTheFileOrTheEnvironmentAsContainerdWould() {
        AgentConfig c = parse("""
                proxy: {url: "http://robot:hunter2@proxy.corp:3128", noProxy: ".internal,10.0.0.0/8"}
                targets:
                  - url: public.ecr.aws
                  - url: registry.internal
                  - url: quay.io
                    proxy: {url: "http://other-proxy:8080"}
                """, Map.of());
        ProxySettings agent = c.probe().proxies();
        assertEquals("proxy.corp", agent.proxyFor("public.ecr.aws", 443).orElseThrow().host());
        assertTrue(agent.proxyFor("registry.internal", 443).isEmpty(), "NO_PROXY .internal");
        assertEquals("other-proxy", c.targets().get(2).proxies().proxyFor("quay.io", 443).orElseThrow().host());
        assertFalse(c.toString().contains("hunter2"), "no password in the config's text");

        AgentConfig fromEnv = parse("", Map.of("HTTPS_PROXY", "http://env-proxy:3128", "NO_PROXY", "localhost"));
        assertEquals("env-proxy", fromEnv.probe().proxies().proxyFor("public.ecr.aws", 443).orElseThrow().host());
    }

    @Test
    void anEcrTargetExpandsToItsThreeEndpoints() {
        AgentConfig c = parse("targets:\n  - ecr: {region: eu-west-1, account: \"123456789012\"}\n    interval: 1m\n",
                Map.of());
        assertEquals(List.of("123456789012.dkr.ecr.eu-west-1.amazonaws.com", "api.ecr.eu-west-1.amazonaws.com",
                "prod-eu-west-1-starport-layer-bucket.s3.eu-west-1.amazonaws.com"),
                c.targets().stream().map(TargetConfig::name).toList());
        assertEquals(List.of(TargetKind.REGISTRY, TargetKind.TLS, TargetKind.TLS),
                c.targets().stream().map(TargetConfig::kind).toList());
        assertEquals(Duration.ofMinutes(1), c.targets().get(2).interval());
        String bad = assertThrows(ConfigException.class, () -> parse(
                "targets:\n  - ecr: {region: mars-1, account: \"1\"}\n", Map.of())).getMessage();
        assertTrue(bad.contains("targets[0].ecr: region 'mars-1'"), bad);
    }

    @Test
    @org.junit.jupiter.api.DisplayName("node credential sources and containerd's certs.d: defaults, and as configured")
    void credentialSourcesAndContainerdDirectory() {
        AgentConfig defaults = parse("", Map.of());
        assertEquals(Path.of("/etc/containerd/certs.d"), defaults.probe().containerdCertsDir());
        assertTrue(CredentialStoresBySettings.build(defaults.probe().credentials()).find("public.ecr.aws").isEmpty(),
                "no store is read unless named");
        AgentConfig c = parse("containerdCertsDir: /host/etc/containerd/certs.d\ncredentials:\n"
                + "  dockerConfig: /nonexistent/config.json\n  credentialProviderConfig: /nonexistent/provider.json\n"
                + "  timeout: 20s\n", Map.of("HOME", "/root", "DOCKER_CONFIG", "/root/.docker"));
        assertEquals(Path.of("/host/etc/containerd/certs.d"), c.probe().containerdCertsDir());
        assertTrue(CredentialStoresBySettings.build(c.probe().credentials()).find("public.ecr.aws").isEmpty(),
                "missing files are no logins");
    }

    @Test
    void containerdVersionSaysWhichDecoderReadsHostsToml() {
        assertTrue(parse("", Map.of()).probe().containerdVersion().assumed());
        ContainerdVersion v = parse("containerdVersion: \"containerd://1.7.11\"\n", Map.of()).probe()
                .containerdVersion();
        assertEquals(new ContainerdVersion(1, 7, 11, "containerdVersion"), v);
        assertTrue(error("containerdVersion: latest\n").contains("'latest' is not a containerd version"),
                error("containerdVersion: latest\n"));
    }

    @Test
    void aBadEnvironmentValueNamesTheVariable() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> parse("", Map.of("PULLPATH_INTERVAL", "often")));
        assertTrue(e.getMessage().startsWith("environment PULLPATH_INTERVAL: invalid duration 'often'"), e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "typo in a target key | targets:\\n  - url: registry.test\\n    intervall: 5s\\n"
                    + " | config.yaml:3:5: targets[0]: unknown key 'intervall' (known: ",
            "bad duration | interval: soon\\n | config.yaml:1:11: interval: invalid duration 'soon'",
            "bad target URL | targets:\\n  - url: http://registry.test\\n"
                    + " | config.yaml:2:10: targets[0].url: invalid target 'http://registry.test': only https://",
            "wrong type | targets:\\n  - host: registry.test\\n    port: https\\n"
                    + " | config.yaml:3:11: targets[0].port: wrong type: expected a number",
            "unknown kind | targets:\\n  - url: registry.test\\n    kind: ping\\n"
                    + " | config.yaml:3:11: targets[0].kind: unknown kind 'ping' (use registry, tls, tcp, dns)",
            "YAML syntax | targets: [\\n | config.yaml:1:10: targets: YAML syntax:",
            "duplicate key | interval: 5s\\ninterval: 6s\\n | config.yaml:2:",
            "list where a value goes | timeout: [1s]\\n | config.yaml:1:10: timeout: expected a single value",
            "duplicate names | targets:\\n  - url: registry.test\\n  - host: registry.test\\n"
                    + " | targets[1].name: duplicate target name 'registry.test'",
            "registry hammering | registryInterval: 1s\\n | config.yaml: registryInterval: at least 10s",
            "credentials per target | targets:\\n  - url: registry.test\\n    credentials: {helper: ecr-login}\\n"
                    + " | targets[0].credentials: credential sources are set once, at the top level",
            "typo in credentials | credentials:\\n  dockerconfig: /x\\n"
                    + " | config.yaml:2:3: credentials: unknown key 'dockerconfig' (known: ",
            "provider bin dir alone | credentials:\\n  credentialProviderBinDir: /usr/libexec\\n"
                    + " | credentials.credentialProviderBinDir: set credentialProviderConfig too",
            "credential timeout past the kubelet's | credentials:\\n  timeout: 2m\\n"
                    + " | credentials.timeout: at most 1m",
            "containerd dir as a list | containerdCertsDir: [a]\\n | config.yaml:1:21: containerdCertsDir: wrong type: expected a text value",
            "listen by name | listen: localhost:9847\\n | listen 'localhost:9847': give an IP address",
            "bad label | targets:\\n  - url: registry.test\\n    labels: {bad-key: x}\\n"
                    + " | targets[0].labels.bad-key: label keys are",
            "typo in kubernetes | kubernetes:\\n  enable: true\\n"
                    + " | config.yaml:2:3: kubernetes: unknown key 'enable' (known: ",
            "kubernetes not a map | kubernetes: true\\n | config.yaml:1:13: kubernetes: ",
            "heartbeat too often | kubernetes:\\n  enabled: true\\n  heartbeat: 1s\\n"
                    + " | kubernetes.heartbeat: 10s-1h",
            "diagnoses too often | kubernetes:\\n  diagnosisSpacing: 10s\\n | kubernetes.diagnosisSpacing: at least 1m",
            "too many diagnoses | kubernetes:\\n  maxConcurrentDiagnoses: 9\\n"
                    + " | kubernetes.maxConcurrentDiagnoses: must be 1-8",
    })
    void everyErrorNamesFileLineAndKey(String scenario, String yaml, String expected) {
        String message = error(yaml.replace("\\n", "\n"));
        assertTrue(message.contains(expected), scenario + ": " + message);
        assertTrue(message.startsWith("/etc/pullpath/config.yaml"), message);
        assertFalse(message.contains("\n"), "one line: " + message);
        assertFalse(message.contains("com.fasterxml"), "no library internals: " + message);
    }

    @org.junit.jupiter.api.Test
    void kubernetesIsOffUnlessConfigured() {
        AgentConfig none = parse("targets:\n  - url: registry.test\n", Map.of());
        assertFalse(none.kubernetes().enabled(), "the CLI and a plain daemon never need a cluster");
        AgentConfig on = parse("kubernetes:\n  enabled: true\n  heartbeat: 2m\n", Map.of());
        assertTrue(on.kubernetes().enabled());
        org.junit.jupiter.api.Assertions.assertEquals(java.time.Duration.ofMinutes(2), on.kubernetes().heartbeat());
        org.junit.jupiter.api.Assertions.assertEquals(KubernetesOptions.DEFAULT_DIAGNOSIS_SPACING,
                on.kubernetes().diagnosisSpacing());
        assertFalse(parse("kubernetes:\n  enabled: true\n", Map.of("PULLPATH_KUBERNETES", "false")).kubernetes()
                .enabled(), "the environment wins, as for every setting");
    }
}
