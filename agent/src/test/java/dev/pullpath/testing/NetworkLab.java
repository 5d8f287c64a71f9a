package dev.pullpath.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small network of the test's own, in namespaces with no link to the host's network:
 * <pre>
 *   client 10.0.0.2 fd00:a::2  ──  10.0.0.1 fd00:a::1  router  198.51.100.1 2001:db8:b::1  ──  server
 *   ("private VPC", default route via the router)          (iptables here)         198.51.100.10, .11, .53
 *                                                                                  2001:db8:b::10
 * </pre>
 * pullpath runs in the client, peers run in the server, faults are iptables rules on the router. Documentation
 * ranges stand for the public internet; they exist only inside these namespaces, so no probe can leave the
 * machine. Every namespace (with its veths) and every peer process (by PID) is removed in {@link #close()},
 * and leftovers of a crashed run are removed by the next.
 */
public final class NetworkLab implements AutoCloseable {
    public static final String CLIENT = "10.0.0.2";
    public static final String ROUTER_INSIDE = "10.0.0.1";
    public static final String ROUTER_OUTSIDE = "198.51.100.1";
    public static final String SERVER = "198.51.100.10";
    public static final String SERVER_SECOND = "198.51.100.11";
    public static final String SERVER_DNS = "198.51.100.53";
    public static final String SERVER_V6 = "2001:db8:b::10";
    private static final AtomicInteger LINKS = new AtomicInteger();

    private final Netns client;
    private final List<Netns> routers;
    private final Netns server;
    private final Path work;
    private final List<Process> peers = new ArrayList<>();

    private NetworkLab(Netns client, List<Netns> routers, Netns server, Path work) {
        this.client = client;
        this.routers = List.copyOf(routers);
        this.server = server;
        this.work = work;
    }

    /**
     * The lab as a JUnit 5 extension: {@code @RegisterExtension static final NetworkLab.Extension LAB = ...}
     * builds it before the class's tests and removes it after them, whatever happened in between.
     */
    public static final class Extension implements org.junit.jupiter.api.extension.BeforeAllCallback,
            org.junit.jupiter.api.extension.AfterAllCallback {
        private final int routers;
        private NetworkLab lab;

        public Extension() {
            this(1);
        }

        /** With {@code routers} routers in a row. */
        public Extension(int routers) {
            this.routers = routers;
        }

        @Override
        public void beforeAll(org.junit.jupiter.api.extension.ExtensionContext context) {
            lab = start(routers);
        }

        @Override
        public void afterAll(org.junit.jupiter.api.extension.ExtensionContext context) {
            if (lab != null) {
                lab.close();
                lab = null;
            }
        }

        public NetworkLab get() {
            return lab;
        }
    }

    /** Builds the lab; skips the test (fails it under CI=true) when namespaces or iptables are missing here. */
    public static NetworkLab start() {
        return start(1);
    }

    /**
     * The lab with {@code count} routers in a row between client and server: router k (1-based) and k+1 share
     * 10.0.k.0/24 (k at .1, k+1 at .2) and fd00:a:k::/64; the first router keeps the client's link, the last the
     * server's. {@link #router()} is the first; faults on another go through {@link #router(int)}.
     */
    public static NetworkLab start(int count) {
        Netns.assumeAvailable();
        Netns.assumeTool("iptables", "ip6tables");
        if (count < 1 || count > 8) {
            throw new IllegalArgumentException("1-8 routers");
        }
        List<Netns> made = new ArrayList<>();
        try {
            Netns client = track(made, Netns.create());
            List<Netns> routers = new ArrayList<>();
            for (int k = 0; k < count; k++) {
                routers.add(track(made, Netns.create()));
            }
            Netns server = track(made, Netns.create());
            Netns first = routers.get(0);
            Netns last = routers.get(count - 1);
            link(client, "c0", first, "r0");
            link(last, "r1", server, "s0");
            client.exec("ip", "addr", "add", CLIENT + "/24", "dev", "c0");
            client.exec("ip", "-6", "addr", "add", "fd00:a::2/64", "dev", "c0", "nodad");
            first.exec("ip", "addr", "add", ROUTER_INSIDE + "/24", "dev", "r0");
            first.exec("ip", "-6", "addr", "add", "fd00:a::1/64", "dev", "r0", "nodad");
            last.exec("ip", "addr", "add", ROUTER_OUTSIDE + "/24", "dev", "r1");
            last.exec("ip", "-6", "addr", "add", "2001:db8:b::1/64", "dev", "r1", "nodad");
            for (int k = 1; k < count; k++) {
                Netns a = routers.get(k - 1);
                Netns b = routers.get(k);
                link(a, "n" + k, b, "p" + k);
                a.exec("ip", "addr", "add", "10.0." + k + ".1/24", "dev", "n" + k);
                a.exec("ip", "-6", "addr", "add", "fd00:a:" + k + "::1/64", "dev", "n" + k, "nodad");
                b.exec("ip", "addr", "add", "10.0." + k + ".2/24", "dev", "p" + k);
                b.exec("ip", "-6", "addr", "add", "fd00:a:" + k + "::2/64", "dev", "p" + k, "nodad");
                a.exec("ip", "link", "set", "n" + k, "up");
                b.exec("ip", "link", "set", "p" + k, "up");
            }
            for (String a : List.of(SERVER, SERVER_SECOND, SERVER_DNS)) {
                server.exec("ip", "addr", "add", a + "/24", "dev", "s0");
            }
            server.exec("ip", "-6", "addr", "add", SERVER_V6 + "/64", "dev", "s0", "nodad");
            client.exec("ip", "link", "set", "c0", "up");
            server.exec("ip", "link", "set", "s0", "up");
            first.exec("ip", "link", "set", "r0", "up");
            last.exec("ip", "link", "set", "r1", "up");
            for (int k = 1; k <= count; k++) {
                Netns r = routers.get(k - 1);
                r.exec("sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
                r.exec("sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1");
                if (k < count) { // toward the server: the next router
                    r.exec("ip", "route", "add", "default", "via", "10.0." + k + ".2");
                    r.exec("ip", "-6", "route", "add", "default", "via", "fd00:a:" + k + "::2");
                }
                if (k > 1) { // toward the client: the previous router
                    r.exec("ip", "route", "add", "10.0.0.0/16", "via", "10.0." + (k - 1) + ".1");
                    r.exec("ip", "-6", "route", "add", "fd00:a::/32", "via", "fd00:a:" + (k - 1) + "::1");
                }
            }
            client.exec("ip", "route", "add", "default", "via", ROUTER_INSIDE);
            client.exec("ip", "-6", "route", "add", "default", "via", "fd00:a::1");
            server.exec("ip", "route", "add", "default", "via", ROUTER_OUTSIDE);
            server.exec("ip", "-6", "route", "add", "default", "via", "2001:db8:b::1");
            return new NetworkLab(client, routers, server, Files.createTempDirectory("pullpath-lab"));
        } catch (IOException | RuntimeException e) {
            made.forEach(Netns::close);
            throw e instanceof RuntimeException r ? r : new IllegalStateException(e);
        }
    }

    /** The address router {@code k} (1-based) answers from toward the client: its ICMP messages' source. */
    public static String routerTowardClient(int k, boolean v6) {
        if (k == 1) {
            return v6 ? "fd00:a::1" : ROUTER_INSIDE;
        }
        return v6 ? "fd00:a:" + (k - 1) + "::2" : "10.0." + (k - 1) + ".2";
    }

    private static Netns track(List<Netns> made, Netns ns) {
        made.add(ns);
        return ns;
    }

    /** A veth pair between two namespaces; created on the host and moved at once, named for this JVM. */
    private static void link(Netns a, String devA, Netns b, String devB) {
        String tag = "pp" + ProcessHandle.current().pid() + "x" + LINKS.incrementAndGet(); // at most 15 characters
        String hostA = tag + "a";
        String hostB = tag + "b";
        Netns.host("ip", "link", "add", hostA, "type", "veth", "peer", "name", hostB);
        Netns.host("ip", "link", "set", hostA, "netns", a.name());
        Netns.host("ip", "link", "set", hostB, "netns", b.name());
        a.exec("ip", "link", "set", hostA, "name", devA);
        b.exec("ip", "link", "set", hostB, "name", devB);
    }

    public Netns client() {
        return client;
    }

    /** The first router, next to the client (the only one, in the one-router lab). */
    public Netns router() {
        return routers.get(0);
    }

    /** Router {@code k}, 1-based from the client. */
    public Netns router(int k) {
        return routers.get(k - 1);
    }

    public Netns server() {
        return server;
    }

    /** A scratch directory for the test's files (certificates, hosts files); removed with the lab. */
    public Path work() {
        return work;
    }

    /** Adds a rule on the router, e.g. {@code "FORWARD", "-p", "tcp", "--dport", "443", "-j", "DROP"}. */
    public void rule(String chain, String... spec) {
        List<String> cmd = new ArrayList<>(List.of("iptables", "-A", chain));
        cmd.addAll(List.of(spec));
        router().exec(cmd.toArray(String[]::new));
    }

    public void ruleV6(String chain, String... spec) {
        List<String> cmd = new ArrayList<>(List.of("ip6tables", "-A", chain));
        cmd.addAll(List.of(spec));
        router().exec(cmd.toArray(String[]::new));
    }

    /** Removes every rule from every router. */
    public void clearRules() {
        for (Netns r : routers) {
            r.exec("iptables", "-F");
            r.exec("ip6tables", "-F");
        }
    }

    /**
     * Starts a long-running peer in {@code host} and waits until it prints {@code readyLine} (null: until its
     * port-less start-up is done, i.e. at once). The process is killed by PID in {@link #close()}.
     */
    public Process peer(Netns host, List<String> command, String readyLine, Duration timeout) throws Exception {
        Path log = Files.createTempFile(work, "peer", ".log");
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", host.name()));
        full.addAll(command);
        Process p = Netns.withoutProxyEnvironment(new ProcessBuilder(full).redirectErrorStream(true)
                .redirectOutput(log.toFile())).start();
        peers.add(p);
        Instant until = Instant.now().plus(timeout);
        while (readyLine != null && !Files.readString(log, StandardCharsets.UTF_8).contains(readyLine)) {
            if (!p.isAlive() || Instant.now().isAfter(until)) {
                throw new IllegalStateException("peer " + command.get(0) + " did not become ready: "
                        + Files.readString(log, StandardCharsets.UTF_8));
            }
            Thread.sleep(50);
        }
        return p;
    }

    /**
     * Debian's dnsmasq as the lab's resolver, on {@link #SERVER_DNS}:53 in the server namespace: no upstream, no
     * hosts file, only {@code rules} ({@code --address=/name/ADDR}, {@code --address=/name/} for NXDOMAIN,
     * {@code --cname=...}, {@code --server=...}); a name no rule covers is REFUSED. Stopped with the lab.
     */
    public Process resolver(String... rules) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("dnsmasq", "--keep-in-foreground", "--log-facility=-",
                "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--no-poll", "--bind-interfaces",
                "--listen-address=" + SERVER_DNS, "--port=53", "--user=root", "--pid-file="));
        cmd.addAll(List.of(rules));
        return peer(server, cmd, "started", Duration.ofSeconds(10));
    }

    /** This JVM's classpath, running {@code mainClass} in {@code host}. */
    public Process javaPeer(Netns host, String mainClass, List<String> args, String readyLine) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-XX:TieredStopAtLevel=1", "-Xmx128m", "-cp",
                System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")), mainClass));
        cmd.addAll(args);
        return peer(host, cmd, readyLine, Duration.ofSeconds(30));
    }

    public static void stop(Process p) {
        p.descendants().forEach(ProcessHandle::destroy);
        p.destroy();
        try {
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        peers.forEach(NetworkLab::stop);
        List<Netns> all = new ArrayList<>(routers);
        all.add(0, client);
        all.add(server);
        for (Netns ns : all) {
            try {
                ns.close();
            } catch (RuntimeException e) {
                // keep removing the others; the next run's stale sweep gets this one
            }
        }
        try (var files = Files.walk(work)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // a temp directory left behind is harmless
        }
    }
}
