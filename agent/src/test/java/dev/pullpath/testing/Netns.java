package dev.pullpath.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;

/**
 * A network namespace made for one test: only its own loopback, no link to the host's network, so nothing a
 * process inside it sends can leave the machine. Names carry this JVM's PID so a crashed run's leftovers are
 * recognised and removed by the next.
 */
public final class Netns implements AutoCloseable {
    private static final String PREFIX = "pp-";
    private static final AtomicInteger COUNTER = new AtomicInteger();

    private final String name;

    /** The output of a command run to completion. */
    public record Result(int exitCode, String out, String err) {
    }

    private Netns(String name) {
        this.name = name;
    }

    /**
     * Skips the calling test when namespaces cannot be made here (not root, no iproute2), with one clear message;
     * under {@code CI=true} that is a failure instead, because CI must run these tests.
     */
    public static void assumeAvailable() {
        String why = unavailableReason();
        if (why == null) {
            return;
        }
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            fail("network-namespace tests must run under CI=true, but " + why);
        }
        Assumptions.assumeTrue(false, "skipping network-namespace test: " + why + " (run as root with iproute2)");
    }

    /** Like {@link #assumeAvailable()}, for programs a test needs on the PATH (iptables, dnsmasq...). */
    public static void assumeTool(String... tools) {
        for (String tool : tools) {
            boolean found = false;
            for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
                found |= Files.isExecutable(Path.of(dir, tool));
            }
            for (String dir : List.of("/usr/sbin", "/sbin")) {
                found |= Files.isExecutable(Path.of(dir, tool));
            }
            if (!found) {
                String why = tool + " is not installed";
                if ("true".equalsIgnoreCase(System.getenv("CI"))) {
                    fail("this test must run under CI=true, but " + why + " (.ci/run installs it)");
                }
                Assumptions.assumeTrue(false, "skipping: " + why);
            }
        }
    }

    private static String unavailableReason() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "not running as root";
        }
        if (!Files.isExecutable(Path.of("/usr/sbin/ip")) && !Files.isExecutable(Path.of("/sbin/ip"))
                && !Files.isExecutable(Path.of("/usr/bin/ip"))) {
            return "the ip command (iproute2) is missing";
        }
        return null;
    }

    public static Netns create() {
        removeStale();
        String name = PREFIX + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet();
        Netns ns = new Netns(name);
        host("ip", "netns", "add", name);
        try {
            ns.exec("ip", "link", "set", "lo", "up");
        } catch (RuntimeException e) {
            ns.close();
            throw e;
        }
        return ns;
    }

    public String name() {
        return name;
    }

    /** Runs a command inside the namespace and fails the test unless it exits 0. */
    public void exec(String... command) {
        Result r = run(Duration.ofSeconds(30), command);
        if (r.exitCode != 0) {
            throw new IllegalStateException(String.join(" ", command) + " in " + name + " exited " + r.exitCode
                    + ": " + r.err);
        }
    }

    public Result run(Duration timeout, String... command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
        full.addAll(List.of(command));
        return runOnHost(timeout, full);
    }

    /**
     * Whether a listening TCP socket whose {@code ss -ltn} line contains {@code socket} (e.g. {@code
     * "198.51.100.30:3128"}, or {@code ":4433 "} for a port on any address) appears within {@code within}: a peer
     * started in the background is ready once it listens.
     */
    public boolean listensWithin(String socket, Duration within) throws InterruptedException {
        java.time.Instant until = java.time.Instant.now().plus(within);
        while (!run(Duration.ofSeconds(5), "ss", "-ltn").out().contains(socket)) {
            if (java.time.Instant.now().isAfter(until)) {
                return false;
            }
            Thread.sleep(50);
        }
        return true;
    }

    /** Runs this test JVM's classpath's pullpath CLI inside the namespace. */
    public Result pullpath(Duration timeout, String... args) {
        return java(timeout, "dev.pullpath.cli.Main", args);
    }

    /** {@code mainClass} from this JVM's classpath, run to its end in this namespace. */
    public Result java(Duration timeout, String mainClass, String... args) {
        String java = ProcessHandle.current().info().command().orElse("java");
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> command = new ArrayList<>(List.of(java, "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-cp",
                classpath, mainClass));
        command.addAll(List.of(args));
        return run(timeout, command.toArray(String[]::new));
    }

    @Override
    public void close() {
        host("ip", "netns", "del", name);
    }

    /** Deletes namespaces (and host-side veths) left by earlier runs whose JVM is gone. */
    static void removeStale() {
        Result links = runOnHost(Duration.ofSeconds(10), List.of("ip", "-o", "link", "show"));
        for (String line : links.out.split("\n")) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("^\\d+: (pp(\\d+)x\\d+[ab])[@:]").matcher(line);
            if (m.find() && ProcessHandle.of(Long.parseLong(m.group(2))).isEmpty()) {
                runOnHost(Duration.ofSeconds(10), List.of("ip", "link", "del", m.group(1)));
            }
        }
        Result list = runOnHost(Duration.ofSeconds(10), List.of("ip", "netns", "list"));
        for (String line : list.out.split("\n")) {
            String ns = line.split("\\s+")[0];
            if (!ns.startsWith(PREFIX)) {
                continue;
            }
            String[] parts = ns.substring(PREFIX.length()).split("-");
            try {
                long pid = Long.parseLong(parts[0]);
                if (pid != ProcessHandle.current().pid() && ProcessHandle.of(pid).isEmpty()) {
                    // Peers a crashed run left inside (LabPeers JVMs, dnsmasq, tinyproxy) go with it.
                    for (String p : runOnHost(Duration.ofSeconds(10), List.of("ip", "netns", "pids", ns)).out
                            .split("\\s+")) {
                        if (p.matches("\\d+")) {
                            ProcessHandle.of(Long.parseLong(p)).ifPresent(ProcessHandle::destroyForcibly);
                        }
                    }
                    runOnHost(Duration.ofSeconds(10), List.of("ip", "netns", "del", ns));
                }
            } catch (NumberFormatException ignored) {
                // not one of ours
            }
        }
    }

    /** Tests decide their proxies themselves: a developer's or CI runner's HTTPS_PROXY must not leak in. */
    public static ProcessBuilder withoutProxyEnvironment(ProcessBuilder pb) {
        for (String v : List.of("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy",
                "ALL_PROXY", "all_proxy")) {
            pb.environment().remove(v);
        }
        return pb;
    }

    /** Runs a command on the host (outside any namespace) and fails unless it exits 0. */
    static void host(String... command) {
        Result r = runOnHost(Duration.ofSeconds(30), List.of(command));
        if (r.exitCode != 0) {
            throw new IllegalStateException(String.join(" ", command) + " exited " + r.exitCode + ": " + r.err);
        }
    }

    /** Runs {@code command} on the host (no namespace) to its end or {@code timeout}, without the proxy variables. */
    public static Result runOnHost(Duration timeout, List<String> command) {
        try {
            Path out = Files.createTempFile("netns-out", ".txt");
            Path err = Files.createTempFile("netns-err", ".txt");
            try {
                ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
                withoutProxyEnvironment(pb);
                Process p = pb.start();
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                    throw new IllegalStateException(String.join(" ", command) + " did not finish within " + timeout);
                }
                return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                        Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + command, e);
        }
    }
}
