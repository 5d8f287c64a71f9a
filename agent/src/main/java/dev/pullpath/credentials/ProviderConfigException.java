package dev.pullpath.credentials;

/**
 * A kubelet credential provider configuration the kubelet refuses at startup. Its own type, not config's
 * ConfigException, so that credentials does not depend on config (config's ProbeOptions holds CredentialStores,
 * and the two packages would form a cycle). It never leaves this package: it becomes a Credential's problem.
 */
final class ProviderConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ProviderConfigException(String message) {
        super(message);
    }
}
