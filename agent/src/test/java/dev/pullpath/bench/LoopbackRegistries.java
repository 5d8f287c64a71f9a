package dev.pullpath.bench;

import dev.pullpath.testing.DnsTestServer;
import dev.pullpath.testing.RegistryResponder;
import dev.pullpath.testing.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Loopback registries for footprint runs of {@code pullpath run}: N registry responders (h2, Bearer challenge,
 * anonymous token) behind names served by a DNS server, and a pullpath config that probes them. Runs until killed.
 *
 * <p>Usage: {@code LoopbackRegistries DIR N INTERVAL} writes DIR/config.yaml and DIR/ca.pem.
 */
public final class LoopbackRegistries {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int n = Integer.parseInt(args[1]);
        String interval = args[2];
        Files.createDirectories(dir);
        TestPki.Ca ca = TestPki.newCa("CN=pullpath footprint CA");
        ca.writePem(dir.resolve("ca.pem"));
        DnsTestServer dns = new DnsTestServer();
        List<RegistryResponder> registries = new ArrayList<>();
        StringBuilder yaml = new StringBuilder();
        yaml.append("listen: 127.0.0.1:").append(args.length > 3 ? args[3] : "9847").append('\n')
                .append("interval: ").append(interval).append('\n')
                .append("registryInterval: 5m\ntimeout: 2s\n")
                .append("resolvers: [\"127.0.0.1:").append(dns.port()).append("\"]\n")
                .append("resolvConf: ").append(Files.writeString(dir.resolve("resolv.conf"), "options ndots:1\n"))
                .append('\n').append("hostsFile: ").append(Files.writeString(dir.resolve("hosts"), "")).append('\n')
                .append("caFiles: [\"").append(dir.resolve("ca.pem")).append("\"]\n").append("targets:\n");
        for (int i = 0; i < n; i++) {
            String name = "registry" + i + ".test";
            RegistryResponder r = new RegistryResponder(ca.issueFor(name, "127.0.0.1")).hostForRealm(name);
            registries.add(r);
            dns.a(name, "127.0.0.1");
            yaml.append("  - name: registry").append(i).append("\n    url: https://").append(name).append(':')
                    .append(r.port()).append('\n');
        }
        Files.writeString(dir.resolve("config.yaml"), yaml.toString());
        System.out.println("ready " + dir.resolve("config.yaml"));
        System.out.flush();
        new CountDownLatch(1).await();
    }

    private LoopbackRegistries() {
    }
}
