package dev.pullpath.testing;

import dev.pullpath.config.ProbeOptions;
import dev.pullpath.config.Target;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The loopback lab most scenario tests start from: a test CA (its PEM in {@code ca.pem}), a DNS server that answers
 * {@value #REGISTRY_HOST} with 127.0.0.1, a registry responder on 127.0.0.1 with a certificate for
 * {@value #REGISTRY_HOST} and 127.0.0.1 whose token realm is {@value #REGISTRY_HOST}, a {@code resolv.conf} with
 * {@code ndots:1} and an empty {@code hosts}, all in one directory. The flags, YAML and probe options that point
 * pullpath at it come from here too, so a test says only what its scenario changes.
 */
public final class LoopbackLab implements AutoCloseable {
    public static final String REGISTRY_HOST = "registry.test";

    private final Path dir;
    private final TestPki.Ca ca;
    private final Path caPem;
    private final DnsTestServer dns;
    private final RegistryResponder registry;
    private final Path resolvConf;
    private final Path hosts;

    private LoopbackLab(Path dir, String caName) throws IOException {
        this.dir = dir;
        this.ca = TestPki.newCa(caName);
        this.caPem = dir.resolve("ca.pem");
        ca.writePem(caPem);
        this.resolvConf = Files.writeString(dir.resolve("resolv.conf"), "options ndots:1\n");
        this.hosts = Files.writeString(dir.resolve("hosts"), "");
        this.dns = new DnsTestServer().a(REGISTRY_HOST, "127.0.0.1");
        this.registry = new RegistryResponder(ca.issueFor(REGISTRY_HOST, "127.0.0.1")).hostForRealm(REGISTRY_HOST);
    }

    /**
     * The lab for probes by address ({@link #registryByAddress}, {@link #probeOptions}): the registry's token realm
     * is at 127.0.0.1 too, so no hop needs a name.
     */
    public static LoopbackLab byAddress(Path dir, String caName) {
        LoopbackLab lab = in(dir, caName);
        lab.registry.hostForRealm("127.0.0.1");
        return lab;
    }

    /** The lab in {@code dir} (a test's {@code @TempDir}, or a directory the test removes itself). */
    public static LoopbackLab in(Path dir, String caName) {
        try {
            return new LoopbackLab(dir, caName);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path dir() {
        return dir;
    }

    public TestPki.Ca ca() {
        return ca;
    }

    public Path caPem() {
        return caPem;
    }

    public DnsTestServer dns() {
        return dns;
    }

    public RegistryResponder registry() {
        return registry;
    }

    public Path resolvConf() {
        return resolvConf;
    }

    public Path hostsFile() {
        return hosts;
    }

    /** Replaces the hosts file's content. */
    public LoopbackLab hosts(String content) {
        try {
            Files.writeString(hosts, content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** {@code registry.test:PORT}: the registry by name, through the lab's DNS. */
    public String registryAuthority() {
        return REGISTRY_HOST + ":" + registry.port();
    }

    /** {@code 127.0.0.1:PORT}: the registry by address, no DNS involved. */
    public Target registryByAddress() {
        return Target.parse("127.0.0.1:" + registry.port());
    }

    /** The CLI flags that point {@code pullpath diagnose} at the lab's DNS, resolver files and CA. */
    public List<String> cliFlags(String timeout, String... extra) {
        List<String> f = new ArrayList<>(List.of("--timeout", timeout, "--resolver", "127.0.0.1:" + dns.port(),
                "--resolv-conf", resolvConf.toString(), "--hosts-file", hosts.toString(), "--ca-file",
                caPem.toString()));
        f.addAll(List.of(extra));
        return f;
    }

    /** The daemon's YAML keys for the same: resolvers, resolvConf, hostsFile and caFiles, one per line. */
    public String configYaml() {
        return "resolvers: [\"127.0.0.1:" + dns.port() + "\"]\nresolvConf: " + resolvConf + "\n"
                + "hostsFile: " + hosts + "\ncaFiles: [\"" + caPem + "\"]\n";
    }

    /**
     * Probe options for targets given by address: the lab's hosts file and CA, no resolver of its own (the names
     * in the lab need {@link #cliFlags} or {@link #configYaml}).
     */
    public ProbeOptions probeOptions(Duration timeout, int maxAddresses) {
        return new ProbeOptions(timeout, maxAddresses, List.of(), resolvConf, hosts, List.of(caPem),
                ProbeOptions.DEFAULT_MAX_BODY_BYTES);
    }

    @Override
    public void close() {
        registry.close();
        dns.close();
    }
}
