package dev.pullpath.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pullpath.config.CredentialSettings;
import dev.pullpath.credentials.Credential;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The prober's credential stores come from the configuration's settings, built once per settings. */
class CredentialStoresBySettingsTest {

    @Test
    @DisplayName("the same settings → the same stores (the provider cache lives on); other settings → new stores")
    void storesAreKeptPerSettings(@TempDir Path dir) {
        CredentialStoresBySettings kept = new CredentialStoresBySettings();
        CredentialSettings a = CredentialSettings.ofNode(dir.resolve("a.json"), null, null, null,
                Duration.ofSeconds(10));
        CredentialSettings sameAsA = CredentialSettings.ofNode(dir.resolve("a.json"), null, null, null,
                Duration.ofSeconds(10));
        CredentialSettings b = CredentialSettings.ofNode(dir.resolve("b.json"), null, null, null,
                Duration.ofSeconds(10));
        assertSame(kept.storesFor(a), kept.storesFor(sameAsA));
        assertNotSame(kept.storesFor(a), kept.storesFor(b));
    }

    @Test
    @DisplayName("node settings naming a Docker config → its login is found; NONE → nothing is read")
    void nodeSettingsReadOnlyTheNamedFile(@TempDir Path dir) throws Exception {
        String auth = Base64.getEncoder().encodeToString("robot:pw".getBytes());
        Path docker = Files.writeString(dir.resolve("config.json"),
                "{\"auths\":{\"registry.test\":{\"auth\":\"" + auth + "\"}}}");
        List<Credential> found = CredentialStoresBySettings.build(CredentialSettings.ofNode(docker, null, null,
                null, Duration.ofSeconds(10))).find("registry.test");
        assertEquals(1, found.size(), found::toString);
        assertEquals("robot", found.get(0).username());
        assertTrue(CredentialStoresBySettings.build(CredentialSettings.NONE).find("registry.test").isEmpty());
    }

    @Test
    @DisplayName("a provider config without a bin dir → the config's own directory, as pullpath documents")
    void providerBinDirDefaultsToTheConfigsDirectory(@TempDir Path dir) {
        CredentialSettings s = CredentialSettings.ofNode(null, null, dir.resolve("provider.yaml"), null,
                Duration.ofSeconds(10));
        assertEquals(dir.toAbsolutePath(), s.credentialProviderBinDir());
    }
}
