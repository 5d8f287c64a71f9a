package dev.pullpath.config;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * How to walk the path: the same for the CLI and the daemon.
 *
 * @param timeout       the budget of each phase (DNS, connect, TLS, HTTP, token), not of the whole probe
 * @param maxAddresses  addresses probed per family
 * @param resolvers     nameservers to use instead of resolv.conf's; empty for resolv.conf's
 * @param resolvConf    the resolver configuration the node uses
 * @param hostsFile     consulted before DNS, as Go's resolver (containerd's) does
 * @param caFiles       extra trust anchors (PEM) on top of the node's trust store
 * @param maxBodyBytes  bound on every HTTP body read
 * @param proxies       the HTTPS proxy and NO_PROXY list, as containerd would use them
 * @param credentials   where stored registry logins are looked for (the prober builds the stores from these)
 * @param containerdCertsDir containerd's registry config directory (hosts.toml per registry), or null for none
 * @param traceroute    whether a connect that times out is followed by a TCP traceroute of that address
 * @param containerdVersion the containerd release whose reading of hosts.toml is modelled
 * @param registryPace  the least time between the starts of two requests of one walk to the registry's hosts (the
 *                      registry, its token realm, the layer host), so that a fleet's scheduled checks do not send
 *                      their requests in one burst; zero (the default, the CLI's, /probe's) for none. Never counted
 *                      in a phase's time or a hop's deadline
 */
public record ProbeOptions(Duration timeout, int maxAddresses, List<InetSocketAddress> resolvers, Path resolvConf,
                           Path hostsFile, List<Path> caFiles, int maxBodyBytes, ProxySettings proxies,
                           CredentialSettings credentials, Path containerdCertsDir,
                           boolean traceroute, ContainerdVersion containerdVersion, Duration registryPace) {

    public ProbeOptions(Duration timeout, int maxAddresses, List<InetSocketAddress> resolvers, Path resolvConf,
                        Path hostsFile, List<Path> caFiles, int maxBodyBytes, ProxySettings proxies,
                        CredentialSettings credentials, Path containerdCertsDir, boolean traceroute,
                        ContainerdVersion containerdVersion) {
        this(timeout, maxAddresses, resolvers, resolvConf, hostsFile, caFiles, maxBodyBytes, proxies, credentials,
                containerdCertsDir, traceroute, containerdVersion, Duration.ZERO);
    }

    public ProbeOptions(Duration timeout, int maxAddresses, List<InetSocketAddress> resolvers, Path resolvConf,
                        Path hostsFile, List<Path> caFiles, int maxBodyBytes, ProxySettings proxies,
                        CredentialSettings credentials, Path containerdCertsDir, boolean traceroute) {
        this(timeout, maxAddresses, resolvers, resolvConf, hostsFile, caFiles, maxBodyBytes, proxies, credentials,
                containerdCertsDir, traceroute, ContainerdVersion.ASSUMED);
    }

    public ProbeOptions(Duration timeout, int maxAddresses, List<InetSocketAddress> resolvers, Path resolvConf,
                        Path hostsFile, List<Path> caFiles, int maxBodyBytes, ProxySettings proxies,
                        CredentialSettings credentials, Path containerdCertsDir) {
        this(timeout, maxAddresses, resolvers, resolvConf, hostsFile, caFiles, maxBodyBytes, proxies, credentials,
                containerdCertsDir, true);
    }

    public ProbeOptions(Duration timeout, int maxAddresses, List<InetSocketAddress> resolvers, Path resolvConf,
                        Path hostsFile, List<Path> caFiles, int maxBodyBytes, ProxySettings proxies,
                        CredentialSettings credentials) {
        this(timeout, maxAddresses, resolvers, resolvConf, hostsFile, caFiles, maxBodyBytes, proxies, credentials,
                null);
    }

    public ProbeOptions(Duration timeout, int maxAddresses, List<InetSocketAddress> resolvers, Path resolvConf,
                        Path hostsFile, List<Path> caFiles, int maxBodyBytes, ProxySettings proxies) {
        this(timeout, maxAddresses, resolvers, resolvConf, hostsFile, caFiles, maxBodyBytes, proxies,
                CredentialSettings.NONE);
    }

    /** Without a proxy. */
    public ProbeOptions(Duration timeout, int maxAddresses, List<InetSocketAddress> resolvers, Path resolvConf,
                        Path hostsFile, List<Path> caFiles, int maxBodyBytes) {
        this(timeout, maxAddresses, resolvers, resolvConf, hostsFile, caFiles, maxBodyBytes, ProxySettings.none());
    }

    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
    public static final int DEFAULT_MAX_ADDRESSES = 4;
    public static final int DEFAULT_MAX_BODY_BYTES = 64 * 1024;

    public ProbeOptions {
        if (timeout.isNegative() || timeout.isZero()) {
            throw new ConfigException("--timeout must be positive");
        }
        if (timeout.compareTo(Duration.ofMinutes(5)) > 0) {
            throw new ConfigException("--timeout must be at most 5m");
        }
        if (maxAddresses < 1 || maxAddresses > 64) {
            throw new ConfigException("--max-addresses must be 1-64");
        }
        resolvers = List.copyOf(resolvers);
        caFiles = List.copyOf(caFiles);
        proxies = proxies == null ? ProxySettings.none() : proxies;
        credentials = credentials == null ? CredentialSettings.NONE : credentials;
        containerdVersion = containerdVersion == null ? ContainerdVersion.ASSUMED : containerdVersion;
        registryPace = registryPace == null || registryPace.isNegative() ? Duration.ZERO : registryPace;
    }

    public static ProbeOptions defaults() {
        return new ProbeOptions(DEFAULT_TIMEOUT, DEFAULT_MAX_ADDRESSES, List.of(), Path.of("/etc/resolv.conf"),
                Path.of("/etc/hosts"), List.of(), DEFAULT_MAX_BODY_BYTES);
    }

    public ProbeOptions withTimeout(Duration phaseTimeout) {
        return new ProbeOptions(phaseTimeout, maxAddresses, resolvers, resolvConf, hostsFile, caFiles, maxBodyBytes,
                proxies, credentials, containerdCertsDir, traceroute, containerdVersion, registryPace);
    }

    public ProbeOptions withProxies(ProxySettings settings) {
        return new ProbeOptions(timeout, maxAddresses, resolvers, resolvConf, hostsFile, caFiles, maxBodyBytes,
                settings, credentials, containerdCertsDir, traceroute, containerdVersion, registryPace);
    }

    /** The same options, modelling containerd {@code version}'s reading of hosts.toml. */
    public ProbeOptions withContainerdVersion(ContainerdVersion version) {
        return new ProbeOptions(timeout, maxAddresses, resolvers, resolvConf, hostsFile, caFiles, maxBodyBytes,
                proxies, credentials, containerdCertsDir, traceroute, version, registryPace);
    }

    /** The same options, with the traceroute after a timed-out connect allowed or not (the daemon rations it). */
    public ProbeOptions withTraceroute(boolean allowed) {
        return allowed == traceroute ? this : new ProbeOptions(timeout, maxAddresses, resolvers, resolvConf, hostsFile,
                caFiles, maxBodyBytes, proxies, credentials, containerdCertsDir, allowed, containerdVersion,
                registryPace);
    }

    /** The same options, {@code pace} apart between the requests of a walk (the daemon's fleet checks). */
    public ProbeOptions withRegistryPace(Duration pace) {
        return pace.equals(registryPace) ? this : new ProbeOptions(timeout, maxAddresses, resolvers, resolvConf,
                hostsFile, caFiles, maxBodyBytes, proxies, credentials, containerdCertsDir, traceroute,
                containerdVersion, pace);
    }

    public long timeoutMillis() {
        return timeout.toMillis();
    }

    /** Parses {@code IP[:PORT]}, {@code [V6]:PORT} or a bare IPv6 literal; port 53 unless given. */
    public static InetSocketAddress parseResolver(String spec) {
        String s = spec.trim();
        String host = s;
        int port = 53;
        int colons = s.length() - s.replace(":", "").length();
        try {
            if (s.startsWith("[") && s.contains("]:")) {
                host = s.substring(1, s.indexOf(']'));
                port = Integer.parseInt(s.substring(s.indexOf("]:") + 2));
            } else if (s.startsWith("[") && s.endsWith("]")) {
                host = s.substring(1, s.length() - 1);
            } else if (colons == 1) {
                host = s.substring(0, s.indexOf(':'));
                port = Integer.parseInt(s.substring(s.indexOf(':') + 1));
            }
        } catch (NumberFormatException e) {
            throw new ConfigException("invalid --resolver '" + spec + "': bad port");
        }
        if (port < 1 || port > 65_535 || !IpLiterals.isLiteral(host)) {
            throw new ConfigException("invalid --resolver '" + spec + "': expected IP[:PORT] or [IPv6]:PORT");
        }
        return new InetSocketAddress(IpLiterals.parse(host), port);
    }
}
