package dev.pullpath.config;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Where the logins a pull would send are kept: Helm's and Docker's config files and the kubelet's image credential
 * provider. Settings only: the stores that read them (files, helpers, provider processes and their cache) are the
 * {@code credentials} package's, built from these by the prober; config does not depend on them.
 *
 * @param enabled                  false: no store at all, anonymous pulls only (the daemon without
 *                                 {@code credentials:})
 * @param registryConfig           Helm's registry config file, or null for the default search
 * @param dockerConfig             Docker's config file or directory, or null for the default search
 * @param searchEnvironment        whether the default search follows this process's HOME, DOCKER_CONFIG and
 *                                 HELM_REGISTRY_CONFIG (the CLI, run by a person); the daemon's pod says nothing
 *                                 about the node, so it reads only the files named
 * @param helperTimeout            how long a docker-credential helper may take
 * @param credentialProviderConfig the kubelet's {@code --image-credential-provider-config}, or null for none
 * @param credentialProviderBinDir the kubelet's {@code --image-credential-provider-bin-dir} (the config's
 *                                 directory unless given)
 * @param providerTimeout          how long one kubelet credential provider may take
 */
public record CredentialSettings(boolean enabled, Path registryConfig, Path dockerConfig, boolean searchEnvironment,
                                 Duration helperTimeout, Path credentialProviderConfig, Path credentialProviderBinDir,
                                 Duration providerTimeout) {
    public static final CredentialSettings NONE = new CredentialSettings(false, null, null, false,
            Duration.ofSeconds(1), null, null, null);

    public CredentialSettings {
        if (credentialProviderConfig != null && credentialProviderBinDir == null) {
            credentialProviderBinDir = credentialProviderConfig.toAbsolutePath().getParent();
        }
    }

    /** The daemon's: only the named files, one timeout for helpers and providers. */
    public static CredentialSettings ofNode(Path dockerConfig, Path registryConfig, Path credentialProviderConfig,
                                            Path credentialProviderBinDir, Duration timeout) {
        return new CredentialSettings(true, registryConfig, dockerConfig, false, timeout, credentialProviderConfig,
                credentialProviderBinDir, timeout);
    }
}
