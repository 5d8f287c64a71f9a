package dev.pullpath.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A Debian daemon a test starts on a free 127.0.0.1 port (Prometheus, Alertmanager): its scratch directory and
 * log, the start with a retry when another process took the port first, readiness by an HTTP path answering 200,
 * and the stop by PID (SIGTERM, SIGKILL after 10 s; also from a shutdown hook if the test JVM dies first).
 */
final class LoopbackDaemon implements AutoCloseable {
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    private static final int BIND_ATTEMPTS = 3;
    private static final int LOG_TAIL_LINES = 40;

    private final String name;
    private final Path dir;
    private final Path logFile;
    private final HttpClient http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY)
            .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(Duration.ofSeconds(2)).build();
    private final Thread shutdownHook;
    private volatile Process process;
    private volatile int port;
    private boolean closed;

    LoopbackDaemon(String name) {
        this.name = name;
        try {
            this.dir = Files.createTempDirectory("pullpath-" + name + "-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temp dir for " + name, e);
        }
        this.logFile = dir.resolve(name + ".log");
        this.shutdownHook = new Thread(this::stopProcess, name + "-fixture-shutdown");
    }

    /** Skips the calling test when {@code binary} is missing; under {@code CI=true} that fails instead. */
    static void assumeInstalled(Path binary, String debianPackage) {
        if (Files.isExecutable(binary)) {
            return;
        }
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            fail(debianPackage + " must be installed under CI=true (" + binary + " is not executable); .ci/run "
                    + "installs it");
        }
        Assumptions.assumeTrue(false, "skipping: Debian's " + debianPackage + " is not installed (apt-get install "
                + debianPackage + "); " + binary + " missing");
    }

    Path dir() {
        return dir;
    }

    Path logFile() {
        return logFile;
    }

    int port() {
        return port;
    }

    /**
     * Starts {@code command} (given the port to listen on) in the scratch directory, without the proxy variables,
     * and returns once {@code readyPath} answers 200; fails the test with the log's tail otherwise.
     */
    void launch(IntFunction<List<String>> command, String readyPath) throws IOException {
        for (int attempt = 1; ; attempt++) {
            port = freeLoopbackPort();
            ProcessBuilder pb = new ProcessBuilder(command.apply(port)).directory(dir.toFile())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.to(logFile.toFile()));
            Netns.withoutProxyEnvironment(pb);
            process = pb.start();
            if (attempt == 1) {
                Runtime.getRuntime().addShutdownHook(shutdownHook);
            }
            if (awaitReady(readyPath)) {
                return;
            }
            String tail = logTail();
            if (attempt < BIND_ATTEMPTS && tail.contains("address already in use")) {
                stopProcess(); // already exited; this only reaps it
                continue;
            }
            fail(name + " did not become ready within " + READY_TIMEOUT + " (exit: "
                    + (process.isAlive() ? "still running" : process.exitValue()) + "); log tail:\n" + tail);
        }
    }

    private boolean awaitReady(String readyPath) {
        HttpRequest ready = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + readyPath))
                .timeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() - deadline < 0) {
            if (!process.isAlive()) {
                return false;
            }
            try {
                if (http.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return true;
                }
                Thread.sleep(50);
            } catch (IOException notListeningYet) {
                // connection refused until the web server is up
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted waiting for " + name, e);
            }
        }
        return false;
    }

    /** The last lines of the daemon's log, for failure messages. */
    String logTail() {
        try {
            List<String> all = Files.readAllLines(logFile, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - LOG_TAIL_LINES), all.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** Stops the daemon and deletes its scratch directory. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            stopProcess();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException | IllegalArgumentException ignored) {
                // JVM already shutting down (the hook runs anyway), or the hook was never registered.
            }
            deleteRecursively(dir);
        }
    }

    /** SIGTERM to the PID (Prometheus then shuts its TSDB down cleanly), SIGKILL after 10 s. */
    private void stopProcess() {
        Process p = process;
        if (p == null) {
            return;
        }
        ProcessHandle handle = p.toHandle();
        handle.destroy();
        try {
            if (!p.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                handle.destroyForcibly();
                p.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            handle.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static int freeLoopbackPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, Loopback.IPV4)) {
            return s.getLocalPort();
        }
    }

    private static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + root, e);
        }
    }
}
