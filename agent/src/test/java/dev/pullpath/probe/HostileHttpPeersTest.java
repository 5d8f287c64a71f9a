package dev.pullpath.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pullpath.config.ProbeOptions;
import dev.pullpath.config.ProxySettings;
import dev.pullpath.config.Target;
import dev.pullpath.diagnosis.Category;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.testing.Loopback;
import dev.pullpath.testing.TcpPeers;
import dev.pullpath.testing.TestPki;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Registries and proxies that answer with what no well-behaved server sends: each probe ends in a classified failure
 * within its timeouts, having read no more than its bounds, whatever the peer keeps sending.
 */
class HostileHttpPeersTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(1);

    enum Peer {
        /** A status line, then header lines forever. */
        ENDLESS_HEADERS(Category.REGISTRY, out -> {
            out.write("HTTP/1.1 200 OK\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] line = ("X-Filler: " + "a".repeat(1000) + "\r\n").getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < 100_000; i++) {
                out.write(line);
            }
        }),
        /** A status line, then one header byte every 200 ms: a slowloris answer. */
        SLOWLORIS(Category.REGISTRY, out -> {
            out.write("HTTP/1.1 200 OK\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            for (int i = 0; i < 100; i++) {
                out.write('X');
                out.flush();
                sleep(200);
            }
        }),
        /** Chunked encoding whose chunk size is not a number. */
        BAD_CHUNKING(Category.REGISTRY, out -> out.write(("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                + "Docker-Distribution-API-Version: registry/2.0\r\n\r\nZZZZ\r\nnot a chunk\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII))),
        /** A body that never ends (chunked, 1 KiB chunks, 100 MiB). */
        ENDLESS_BODY(Category.NONE, out -> {
            out.write(("HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n"
                    + "Docker-Distribution-API-Version: registry/2.0\r\nWww-Authenticate: Basic realm=\"x\"\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = ("400\r\n" + "b".repeat(1024) + "\r\n").getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < 100 * 1024; i++) {
                out.write(chunk);
            }
        });

        final Category expected;
        final Script script;

        Peer(Category expected, Script script) {
            this.expected = expected;
            this.script = script;
        }
    }

    interface Script {
        void play(OutputStream out) throws IOException;
    }

    private static void sleep(long ms) throws IOException {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    /** A TLS (HTTP/1.1) server that reads the request head, then plays the script. */
    private static final class HostileRegistry implements AutoCloseable {
        private final SSLServerSocket server;
        private final Thread thread;

        HostileRegistry(TestPki.Issued identity, Script script) throws Exception {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("k", identity.key(), new char[0], identity.chainArray());
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, new char[0]);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, null);
            server = (SSLServerSocket) ctx.getServerSocketFactory().createServerSocket(0, 10,
                    Loopback.address(0).getAddress());
            thread = new Thread(() -> {
                while (!server.isClosed()) {
                    try (SSLSocket s = (SSLSocket) server.accept()) {
                        javax.net.ssl.SSLParameters p = s.getSSLParameters();
                        p.setApplicationProtocols(new String[] {"http/1.1"});
                        s.setSSLParameters(p);
                        s.setSoTimeout(5_000);
                        readHead(s.getInputStream());
                        script.play(s.getOutputStream());
                    } catch (IOException | RuntimeException e) {
                        // the client hanging up mid-script is the expected end
                    }
                }
            }, "hostile-registry");
            thread.setDaemon(true);
            thread.start();
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws Exception {
            server.close();
            thread.join(5_000);
        }
    }

    private static void readHead(InputStream in) throws IOException {
        int state = 0;
        for (int n = 0; n < 64 * 1024; n++) {
            int b = in.read();
            if (b < 0) {
                return;
            }
            state = (b == '\r' || b == '\n') ? state + 1 : 0;
            if (state == 4) {
                return;
            }
        }
    }

    private static ProbeOptions options(Path dir, TestPki.Ca ca) throws IOException {
        Path caPem = dir.resolve("ca.pem");
        ca.writePem(caPem);
        return new ProbeOptions(TIMEOUT, 1, List.of(), dir.resolve("resolv.conf"),
                Files.writeString(dir.resolve("hosts"), ""), List.of(caPem), 64 * 1024);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Peer.class)
    void hostileRegistryEndsClassifiedAndBounded(Peer peer, @TempDir Path dir) throws Exception {
        TestPki.Ca ca = TestPki.newCa("CN=pullpath hostile CA");
        ProbeOptions options = options(dir, ca);
        try (HostileRegistry registry = new HostileRegistry(ca.issueFor("127.0.0.1"), peer.script);
             PathProber prober = new PathProber(options, 1)) {
            long t0 = System.nanoTime();
            TargetReport r = prober.probe(Target.parse("127.0.0.1:" + registry.port()), options, Depth.HTTP)
                    .get(10, TimeUnit.SECONDS);
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            // DNS is a literal; connect, TLS and the one request each have the phase timeout.
            assertTrue(ms < 3 * TIMEOUT.toMillis() + 500, peer + " took " + ms + " ms");
            assertEquals(peer.expected, r.outcome().category(), peer + ": " + r.summary());
            assertTrue(r.evidence() == null || r.evidence().http() == null
                    || r.evidence().http().bodySnippet() == null || r.evidence().http().bodySnippet().length() <= 300,
                    "evidence is a snippet");
        }
    }

    @ParameterizedTest(name = "proxy answers CONNECT with {0}")
    @EnumSource(value = Garbage.class)
    void proxyAnsweringGarbageToConnect(Garbage garbage, @TempDir Path dir) throws Exception {
        TestPki.Ca ca = TestPki.newCa("CN=pullpath hostile proxy CA");
        ProbeOptions base = options(dir, ca);
        try (TcpPeers.GarbageResponder proxy = new TcpPeers.GarbageResponder(garbage.bytes);
             PathProber prober = new PathProber(base, 1)) {
            ProbeOptions options = base.withProxies(ProxySettings.of("http://127.0.0.1:" + proxy.port(), null));
            long t0 = System.nanoTime();
            TargetReport r = prober.probe(Target.parse("registry.test"), options, Depth.TLS).get(10, TimeUnit.SECONDS);
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(ms < 3 * TIMEOUT.toMillis() + 500, garbage + " took " + ms + " ms");
            assertEquals(Category.PROXY, r.outcome().category(), garbage + ": " + r.summary());
        }
    }

    enum Garbage {
        BINARY(new byte[] {0, 1, 2, 3, (byte) 0xff, '\r', '\n', '\r', '\n'}),
        NOT_HTTP("SSH-2.0-OpenSSH_9.2\r\n".getBytes(StandardCharsets.US_ASCII)),
        HUGE_STATUS_LINE(("HTTP/1.1 200 " + "x".repeat(100_000) + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));

        final byte[] bytes;

        Garbage(byte[] bytes) {
            this.bytes = bytes;
        }
    }
}
