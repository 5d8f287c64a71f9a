package dev.pullpath.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.pullpath.config.ConfigException;
import dev.pullpath.config.ConfigLoader;
import dev.pullpath.config.ContainerdHostsAccess;
import dev.pullpath.config.ProxySettings;
import dev.pullpath.credentials.EcrToken;
import dev.pullpath.probe.AuthChallenge;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Fuzz targets for every parser of input the agent does not control: a registry's Www-Authenticate, the proxy
 * environment (HTTPS_PROXY, NO_PROXY), an ECR token from a credential store, containerd's hosts.toml and the
 * agent's own config. Each may refuse its input only the documented way (a {@link ConfigException}, a problem
 * string, an empty result); anything else thrown is a bug.
 *
 * <p>{@code mvn test} runs each target on the inputs kept under
 * {@code src/test/resources/dev/pullpath/fuzz/UntrustedInputFuzzTestInputs/<target>/}, among them every input that
 * once failed. To fuzz: {@code JAZZER_FUZZ=1 mvn -B test -Dtest='UntrustedInputFuzzTest#wwwAuthenticate'} (one target
 * per run; new crashes land in that directory to be kept).
 */
class UntrustedInputFuzzTest {

    @FuzzTest(maxDuration = "60s")
    void wwwAuthenticate(FuzzedDataProvider data) {
        List<String> fields = List.of(data.consumeString(2_000), data.consumeRemainingAsString());
        List<AuthChallenge> challenges = AuthChallenge.parse(fields);
        for (AuthChallenge c : challenges) {
            c.scheme();
            c.param("realm");
        }
    }

    @FuzzTest(maxDuration = "60s")
    void proxyEnvironment(FuzzedDataProvider data) {
        String proxy = data.consumeString(500);
        String noProxy = data.consumeString(2_000);
        String host = data.consumeString(300);
        int port = data.consumeInt(1, 65_535);
        ProxySettings settings;
        try {
            settings = ProxySettings.of(proxy.isEmpty() ? null : proxy, noProxy.isEmpty() ? null : noProxy);
        } catch (ConfigException refused) {
            return;
        }
        int at = proxy.lastIndexOf('@');
        int start = proxy.contains("//") ? proxy.indexOf("//") + 2 : 0;
        String userInfo = at > start ? proxy.substring(start, at) : "";
        settings.proxyFor(host, port).ifPresent(p -> {
            // The user info may equal other parts of the URL; shown in its own place, before the '@', it leaks.
            if (!userInfo.isEmpty() && p.redacted().contains(userInfo + "@")) {
                throw new AssertionError("user info shown: " + p.redacted());
            }
        });
        settings.problems();
    }

    @FuzzTest(maxDuration = "60s")
    void ecrToken(FuzzedDataProvider data) {
        EcrToken.expiry(data.consumeString(50), data.consumeRemainingAsString());
    }

    @FuzzTest(maxDuration = "60s")
    void containerdHostsToml(FuzzedDataProvider data) {
        String authority = data.consumeString(100);
        String text = data.consumeRemainingAsString();
        ContainerdHostsAccess.parse(Path.of("/etc/containerd/certs.d/x/hosts.toml"), text,
                authority.isBlank() ? "registry.test" : authority);
    }

    @FuzzTest(maxDuration = "60s")
    void agentConfig(FuzzedDataProvider data) {
        String text = data.consumeRemainingAsString();
        try {
            new ConfigLoader(Map.<String, String>of()::get).parse(text, Path.of("/etc/pullpath/config.yaml"));
        } catch (ConfigException refused) {
            String m = refused.getMessage();
            // The message may quote the input (a bad key); it must not add library internals of its own.
            boolean internals = (m != null && m.contains("com.fasterxml") && !text.contains("com.fasterxml"))
                    || (m != null && m.contains("Exception") && !text.contains("Exception"));
            if (m == null || m.contains("\n") || internals) {
                throw new AssertionError("a config error must be one line without library internals: " + m);
            }
        }
    }
}
