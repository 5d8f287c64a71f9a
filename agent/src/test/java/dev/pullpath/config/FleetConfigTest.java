package dev.pullpath.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code fleet:}: the registries' fleet-wide budget and where the fleet's size comes from. */
class FleetConfigTest {
    private static final Path FILE = Path.of("/etc/pullpath/config.yaml");

    private static AgentConfig parse(String yaml, Map<String, String> env) {
        return new ConfigLoader(env::get).parse(yaml, FILE);
    }

    @Test
    @DisplayName("without fleet: a node alone with the default budget, nothing discovered")
    void aloneByDefault() {
        FleetOptions f = parse("interval: 30s\n", Map.of("POD_NAMESPACE", "pullpath")).fleet();
        assertEquals(FleetOptions.ALONE, f);
        assertEquals(0.1, f.registryBudget());
        assertFalse(f.discovers());
    }

    @Test
    @DisplayName("the chart's fleet section reads as written, the namespace from the downward API")
    void theDeployedFleetSection() {
        FleetOptions f = parse("""
                fleet:
                  registryBudget: 0.5
                  size: 1000
                  daemonSet: pullpath
                  service: pullpath.pullpath.svc.cluster.local
                  dnsServer: 10.100.0.10
                  refresh: 10m
                """, Map.of("POD_NAMESPACE", "monitoring")).fleet();
        assertEquals(0.5, f.registryBudget());
        assertEquals(1000, f.size());
        assertEquals("pullpath", f.daemonSet());
        assertEquals("monitoring", f.namespace());
        assertEquals("pullpath.pullpath.svc.cluster.local", f.service());
        assertEquals(53, f.dnsServer().getPort());
        assertEquals(Duration.ofMinutes(10), f.refresh());
        assertTrue(f.discovers());
        assertEquals("daemonset pullpath, then dns pullpath.pullpath.svc.cluster.local", f.discoverySources());
        assertTrue(f.sameDiscovery(new FleetOptions(1, 5, f.daemonSet(), f.namespace(), f.service(), f.dnsServer(),
                f.refresh())), "budget and size are not discovery settings");
        assertFalse(f.sameDiscovery(new FleetOptions(f.registryBudget(), f.size(), f.daemonSet(), "other",
                f.service(), f.dnsServer(), f.refresh())), "a namespace is");
        assertEquals("dns x.test", parse("fleet:\n  service: x.test\n", Map.of()).fleet().discoverySources());
        assertEquals("pullpath", parse("fleet:\n  daemonSet: a\n  namespace: pullpath\n",
                Map.of("POD_NAMESPACE", "other")).fleet().namespace(), "the file's namespace wins");
        assertNull(parse("fleet:\n  size: 3\n", Map.of()).fleet().daemonSet());
        assertNull(parse("fleet:\n  daemonSet: pullpath\n", Map.of()).fleet().namespace(),
                "no namespace: the in-cluster client's");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "typo | fleet:\\n  budget: 1\\n | config.yaml:2:3: fleet: unknown key 'budget' (known: ",
            "no budget | fleet:\\n  registryBudget: 0\\n | fleet.registryBudget: requests per second",
            "budget not a number | fleet:\\n  registryBudget: lots\\n | fleet.registryBudget: ",
            "no nodes | fleet:\\n  size: 0\\n | fleet.size: 1-1000000",
            "daemonSet not a name | fleet:\\n  daemonSet: Pull_Path\\n  namespace: x\\n | fleet.daemonSet: 'Pull_Path'",
            "service not a name | fleet:\\n  service: 'a b'\\n | fleet.service: 'a b' is not a DNS name",
            "dnsServer alone | fleet:\\n  dnsServer: 10.0.0.10\\n | fleet.dnsServer: only used",
            "refresh too often | fleet:\\n  refresh: 10s\\n | fleet.refresh: 30s-1h",
    })
    void everyErrorNamesTheKey(String scenario, String yaml, String expected) {
        String message = assertThrows(ConfigException.class, () -> parse(yaml.replace("\\n", "\n"), Map.of()))
                .getMessage();
        assertTrue(message.contains(expected), scenario + ": " + message);
        assertTrue(message.startsWith("/etc/pullpath/config.yaml"), message);
    }
}
