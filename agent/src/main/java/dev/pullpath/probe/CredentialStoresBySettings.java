package dev.pullpath.probe;

import dev.pullpath.config.CredentialSettings;
import dev.pullpath.credentials.CredentialStores;
import dev.pullpath.credentials.KubeletCredentialProvider;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The credential stores for the settings the configuration names, built once per settings and kept: the kubelet
 * provider's cache lives in them, and the kubelet too keeps its answers while its flags stay the same. A reload
 * that changes the settings gets new stores.
 */
public final class CredentialStoresBySettings {
    /** Settings change with reloads only; a few is plenty, the oldest go first. */
    private static final int MAX_KEPT = 8;

    private final Map<CredentialSettings, CredentialStores> built = new ConcurrentHashMap<>();

    CredentialStores storesFor(CredentialSettings settings) {
        CredentialStores stores = built.get(settings);
        if (stores != null) {
            return stores;
        }
        if (built.size() >= MAX_KEPT) {
            built.clear();
        }
        return built.computeIfAbsent(settings, CredentialStoresBySettings::build);
    }

    /** New stores for these settings (every call new ones: a prober keeps them, see {@link #storesFor}). */
    public static CredentialStores build(CredentialSettings s) {
        if (!s.enabled()) {
            return CredentialStores.none();
        }
        CredentialStores stores = new CredentialStores(s.registryConfig(), s.dockerConfig(), s.helperTimeout(),
                s.searchEnvironment() ? System::getenv : k -> null);
        if (s.credentialProviderConfig() != null) {
            stores.withKubeletProvider(new KubeletCredentialProvider(s.credentialProviderConfig(),
                    s.credentialProviderBinDir(), s.providerTimeout()));
        }
        return stores;
    }
}
