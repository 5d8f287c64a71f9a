package dev.pullpath.probe;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;

/**
 * Makes the client engine of each handshake, with BoringSSL (netty-tcnative) when it loads and the JDK's TLS
 * otherwise. BoringSSL does the handshake's elliptic-curve work natively; the JDK does it in Java, which at the
 * agent's small JIT settings costs several times more CPU per probe (bench/vs-blackbox.sh measures both:
 * {@code -Dpullpath.tls=jdk} selects the JDK).
 *
 * <p>Either way the engine never resumes a session (each probe must see the chain the server presents now), and the
 * chain goes to the handshake's own {@link ChainRecorder}: one BoringSSL context serves every handshake, and its trust
 * manager hands each engine's chain to the recorder registered for that engine.
 *
 * <p>No ALPN is offered, as containerd offers none: its transport disables HTTP/2 (Go's {@code http.Transport} with
 * an empty {@code TLSNextProto}, or a custom dialer and TLS config), and Go then sends no ALPN extension at all
 * (seen in the ClientHello of containerd 1.6.20's {@code ctr images pull}). A middlebox that breaks h2, or ALPN,
 * is judged as the runtime meets it: the server answers HTTP/1.1.
 */
final class TlsEngines {
    static final String PROVIDER_PROPERTY = "pullpath.tls";

    static {
        // No client session cache: a resumed TLS 1.3 session shows no certificate, so expiry would go unseen.
        if (System.getProperty("io.netty.handler.ssl.openssl.sessionCacheClient") == null) {
            System.setProperty("io.netty.handler.ssl.openssl.sessionCacheClient", "false");
        }
    }

    private static final class Shared {
        static final TlsEngines INSTANCE = new TlsEngines();
    }

    private final Map<SSLEngine, ChainRecorder> recorders = new ConcurrentHashMap<>();
    private final SslContext openssl;
    private final String provider;

    private TlsEngines() {
        SslContext context = null;
        String why = null;
        boolean wanted = !"jdk".equalsIgnoreCase(System.getProperty(PROVIDER_PROPERTY, "openssl"));
        if (wanted && OpenSsl.isAvailable()) {
            try {
                context = SslContextBuilder.forClient()
                        .sslProvider(SslProvider.OPENSSL)
                        .trustManager(new Dispatch())
                        .protocols("TLSv1.3", "TLSv1.2")
                        .build();
            } catch (SSLException | RuntimeException e) {
                why = e.getMessage();
            }
        } else if (wanted) {
            Throwable cause = OpenSsl.unavailabilityCause();
            why = cause == null ? "unavailable" : cause.getMessage();
        }
        this.openssl = context;
        this.provider = context != null ? "BoringSSL " + OpenSsl.versionString()
                : "JDK" + (wanted ? " (BoringSSL: " + why + ")" : "");
    }

    static TlsEngines shared() {
        return Shared.INSTANCE;
    }

    /** Which TLS implementation makes the handshakes, for logs and the benchmark. */
    String provider() {
        return provider;
    }

    /**
     * A client engine for {@code host:port} (SNI for a name, none for an IP literal) whose presented chain goes to
     * {@code recorder}. Call {@link #done(SSLEngine)} once its handshake has ended.
     */
    SSLEngine newEngine(ByteBufAllocator alloc, String host, int port, ChainRecorder recorder) {
        if (openssl == null) {
            SSLEngine engine = jdkContext(recorder).createSSLEngine(host, port);
            engine.setUseClientMode(true);
            return engine;
        }
        SSLEngine engine = openssl.newEngine(alloc, host, port);
        recorders.put(engine, recorder);
        return engine;
    }

    void done(SSLEngine engine) {
        recorders.remove(engine);
    }

    /**
     * A JDK context per handshake: the JDK keys its client session cache on the context, so a fresh one never
     * resumes; the recorder is its trust manager.
     */
    private static SSLContext jdkContext(ChainRecorder recorder) {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {recorder}, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JVM cannot make a TLS context", e);
        }
    }

    /** BoringSSL's one trust manager: each engine's chain goes to that handshake's recorder. */
    private final class Dispatch extends EngineTrustManager {
        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            ChainRecorder recorder = recorders.get(engine);
            if (recorder == null) {
                throw new CertificateException("no recorder for this handshake");
            }
            recorder.checkServerTrusted(chain, authType, engine);
        }
    }
}
