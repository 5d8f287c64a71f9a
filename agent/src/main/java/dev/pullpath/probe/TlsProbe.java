package dev.pullpath.probe;

import dev.pullpath.config.IpLiterals;
import dev.pullpath.diagnosis.Evidence;
import dev.pullpath.diagnosis.Phase;
import dev.pullpath.diagnosis.Reason;
import io.netty.channel.Channel;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.netty.util.concurrent.Future;
import java.io.IOException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The TLS hop, as a Go client makes it: SNI for the host, hostname verification, no ALPN (as containerd: HTTP/1.1).
 * The presented chain is recorded before it is judged, and whether the server sent anything at all separates a
 * firewall that kills the handshake from a server that refuses it.
 */
public final class TlsProbe implements Hop<TlsProbe.Peer, TlsProbe.Session> {

    private final X509ExtendedTrustManager trust;
    private final String trustSource;
    private final List<X509Certificate> operatorAnchors;
    private final long timeoutMillis;
    private final boolean verify;

    /** A handshake that completed: the channel carries on to HTTP. */
    public record Session(Channel channel, String alpn, Evidence.Tls evidence) {
    }

    /**
     * Who the handshake is with: a connected channel, the name for SNI and verification, and whether the channel is
     * a CONNECT tunnel (an untrusted CA-issued chain is then the proxy's).
     */
    record Peer(Channel channel, String host, int port, boolean viaProxy) {
    }

    @Override
    public Phase phase() {
        return Phase.TLS;
    }

    @Override
    public CompletableFuture<PhaseResult<Session>> run(Peer peer, ProbeContext ctx) {
        return handshake(peer.channel(), peer.host(), peer.port(), peer.viaProxy());
    }

    public TlsProbe(X509ExtendedTrustManager trust, String trustSource, List<X509Certificate> operatorAnchors,
                    long timeoutMillis) {
        this.trust = trust;
        this.trustSource = trustSource;
        this.operatorAnchors = operatorAnchors;
        this.timeoutMillis = timeoutMillis;
        this.verify = true;
    }

    private TlsProbe(TlsProbe base, boolean verify) {
        this.trust = base.trust;
        this.trustSource = base.trustSource;
        this.operatorAnchors = base.operatorAnchors;
        this.timeoutMillis = base.timeoutMillis;
        this.verify = verify;
    }

    /** The same probe for a host configured with {@code skip_verify}: any chain and name are accepted. */
    public TlsProbe skippingVerification() {
        return new TlsProbe(this, false);
    }

    private CompletableFuture<PhaseResult<Session>> handshake(Channel channel, String host, int port,
                                                              boolean viaProxy) {
        CompletableFuture<PhaseResult<Session>> result = new CompletableFuture<>();
        // Pipeline changes belong on the channel's event loop, and a channel the peer already closed has none.
        if (channel.eventLoop().inEventLoop()) {
            start(channel, host, port, viaProxy, result);
        } else {
            channel.eventLoop().execute(() -> start(channel, host, port, viaProxy, result));
        }
        return result;
    }

    private void start(Channel channel, String host, int port, boolean viaProxy,
                       CompletableFuture<PhaseResult<Session>> result) {
        long start = System.nanoTime();
        String where = channel.remoteAddress() instanceof java.net.InetSocketAddress remote
                ? DnsProbe.hostPort(remote) : "the peer";
        if (!channel.isActive() || channel.pipeline().get(WireObserver.NAME) == null) {
            result.complete(PhaseResult.failed(Phase.TLS, start, Reason.FIREWALL_SNI_RESET, where
                    + ": connection closed by the peer before the ClientHello could be sent",
                    new Session(null, null, null)));
            return;
        }
        ChainRecorder recorder = new ChainRecorder(trust, host, verify);
        TlsEngines engines = TlsEngines.shared();
        SSLEngine engine = engines.newEngine(channel.alloc(), host, port, recorder);
        SslHandler ssl = new SslHandler(engine);
        ssl.setHandshakeTimeoutMillis(timeoutMillis);
        // Bytes before TLS (a proxy's answer to CONNECT) say nothing about whether the server answered the hello.
        WireObserver observer = channel.pipeline().get(WireObserver.class);
        long before = observer == null ? 0 : observer.bytesReceived();
        channel.pipeline().addAfter(WireObserver.NAME, "tls", ssl);

        ssl.handshakeFuture().addListener((Future<Channel> done) -> {
            engines.done(engine);
            if (done.isSuccess()) {
                SSLSession session = engine.getSession();
                X509Certificate[] chain = recorder.chain();
                String alpn = engine.getApplicationProtocol();
                alpn = alpn == null || alpn.isEmpty() ? "none" : alpn;
                Instant notAfter = Certificates.earliestNotAfter(chain);
                Evidence.Tls evidence = new Evidence.Tls(where, session.getProtocol(), session.getCipherSuite(), alpn,
                        notAfter == null ? null : notAfter.toString(), Certificates.describe(chain));
                String leaf = chain == null || chain.length == 0 ? "no certificate"
                        : Certificates.subject(chain[0]) + " issued by " + Certificates.issuer(chain[0]);
                String detail = session.getProtocol() + " " + session.getCipherSuite() + ", ALPN " + alpn + ", " + leaf
                        + (notAfter == null ? "" : ", chain valid until " + notAfter)
                        + (verify ? "" : ", not verified (skip_verify"
                        + (recorder.ignoredRejection() == null ? "" : "; it would fail: "
                        + dev.pullpath.diagnosis.Redaction.snippet(String.valueOf(
                        recorder.ignoredRejection().getMessage()), 160)) + ")");
                result.complete(PhaseResult.ok(Phase.TLS, start, detail, new Session(channel, alpn, evidence)));
            } else {
                WireObserver wire = channel.pipeline().get(WireObserver.class);
                Failure failure = classify(done.cause(), recorder, wire == null ? 0 : wire.bytesReceived() - before,
                        wire, host, where, viaProxy);
                channel.close();
                result.complete(PhaseResult.failed(Phase.TLS, start, failure.reason, failure.summary,
                        new Session(null, null, new Evidence.Tls(where, null, null, null,
                                java.util.Objects.toString(Certificates.earliestNotAfter(recorder.chain()), null),
                                Certificates.describe(recorder.chain())))));
            }
        });
    }


    private static final java.util.regex.Pattern BORINGSSL_ALERT =
            java.util.regex.Pattern.compile("(?:SSLV3|TLSV1)_ALERT_([A-Z_]+)");

    private record Failure(Reason reason, String summary) {
    }

    private static final String STALLED_AFTER = ": handshake stalled after ";

    /**
     * Whether the handshake ran out of time rather than being refused: nothing came back (tls_stalled), or the
     * server's flight stopped part way. Both are what a path-MTU black hole looks like.
     */
    static boolean stalled(PhaseResult<Session> handshake) {
        Reason r = handshake.diagnosis().reason();
        return r == Reason.FIREWALL_TLS_STALLED
                || (r == Reason.TLS_HANDSHAKE_FAILED && handshake.diagnosis().summary().contains(STALLED_AFTER));
    }

    private Failure classify(Throwable cause, ChainRecorder recorder, long received, WireObserver wire, String host,
                             String where, boolean viaProxy) {
        if (recorder.rejection() != null) {
            return classifyCertificate(recorder.rejection(), recorder.chain(), host, where, viaProxy);
        }
        String sni = IpLiterals.isLiteral(host) ? "no SNI (IP literal)" : "SNI " + host;
        if (cause instanceof SslHandshakeTimeoutException) {
            if (received == 0) {
                return new Failure(Reason.FIREWALL_TLS_STALLED, where + ": TCP connected, ClientHello (" + sni
                        + ") sent, no ServerHello within " + timeoutMillis + "ms");
            }
            return new Failure(Reason.TLS_HANDSHAKE_FAILED, where + STALLED_AFTER + received
                    + " bytes from the server (no Finished within " + timeoutMillis + "ms)");
        }
        if (received == 0) {
            Throwable wireError = wire == null ? null : wire.firstError();
            boolean reset = wireError instanceof IOException
                    && String.valueOf(wireError.getMessage()).toLowerCase(Locale.ROOT).contains("reset");
            return new Failure(Reason.FIREWALL_SNI_RESET, where + ": connection "
                    + (reset ? "reset (RST)" : "closed (FIN)") + " right after the ClientHello (" + sni
                    + "), no ServerHello");
        }
        Throwable notTls = find(cause, NotSslRecordException.class);
        if (notTls != null) {
            return new Failure(Reason.TLS_HANDSHAKE_FAILED, where + ": the peer does not speak TLS (answered "
                    + received + " bytes of something else)");
        }
        String message = rootMessage(cause);
        if (message.contains("fatal alert")) {
            return new Failure(Reason.TLS_HANDSHAKE_FAILED, where + ": server sent TLS alert '"
                    + message.substring(message.indexOf("fatal alert") + 12).trim() + "'");
        }
        java.util.regex.Matcher boringAlert = BORINGSSL_ALERT.matcher(message);
        if (boringAlert.find()) {
            // BoringSSL names the alert it received as SSLV3_ALERT_HANDSHAKE_FAILURE: the same as the JDK's words.
            return new Failure(Reason.TLS_HANDSHAKE_FAILED, where + ": server sent TLS alert '"
                    + boringAlert.group(1).toLowerCase(Locale.ROOT) + "'");
        }
        return new Failure(Reason.TLS_HANDSHAKE_FAILED, where + ": " + (message == null || "null".equals(message)
                ? cause.getClass().getSimpleName() : message));
    }

    private Failure classifyCertificate(CertificateException rejection, X509Certificate[] chain, String host,
                                        String where, boolean viaProxy) {
        X509Certificate leaf = chain == null || chain.length == 0 ? null : chain[0];
        String leafText = leaf == null ? "the certificate" : Certificates.subject(leaf);
        Instant now = Instant.now();
        CertPathValidatorException cpve = find(rejection, CertPathValidatorException.class);
        boolean expired = find(rejection, CertificateExpiredException.class) != null
                || (cpve != null && cpve.getReason() == CertPathValidatorException.BasicReason.EXPIRED);
        boolean notYetValid = find(rejection, CertificateNotYetValidException.class) != null
                || (cpve != null && cpve.getReason() == CertPathValidatorException.BasicReason.NOT_YET_VALID);
        if (expired || notYetValid) {
            X509Certificate bad = leaf;
            if (chain != null) {
                for (X509Certificate c : chain) {
                    if (expired ? c.getNotAfter().toInstant().isBefore(now) : c.getNotBefore().toInstant().isAfter(now)) {
                        bad = c;
                        break;
                    }
                }
            }
            String who = bad == null ? leafText : Certificates.subject(bad) + " (issuer " + Certificates.issuer(bad) + ")";
            return expired
                    ? new Failure(Reason.TLS_CERTIFICATE_EXPIRED, where + ": certificate " + who + " expired "
                            + (bad == null ? "" : bad.getNotAfter().toInstant()))
                    : new Failure(Reason.TLS_CERTIFICATE_NOT_YET_VALID, where + ": certificate " + who
                            + " is not valid before " + (bad == null ? "" : bad.getNotBefore().toInstant()));
        }
        String message = rootMessage(rejection);
        if (message.contains("subject alternative") || message.contains("No name matching")
                || message.contains("legacy Common Name")) {
            List<String> names = leaf == null ? List.of() : Certificates.subjectAltNames(leaf);
            return new Failure(Reason.TLS_HOSTNAME_MISMATCH, where + ": certificate " + leafText + " names "
                    + (names.isEmpty() ? "no subject alternative name" : String.join(", ", names)) + ", not " + host);
        }
        String issuer = chain == null || chain.length == 0 ? "unknown issuer"
                : Certificates.issuer(chain[chain.length - 1]);
        if (ExpectedRoots.intercepted(chain, host, viaProxy, operatorAnchors)) {
            return new Failure(Reason.PROXY_TLS_INTERCEPTED, where + ": TLS intercepted: " + leafText
                    + " is issued under '" + issuer + "', not a CA " + host + " uses"
                    + (ExpectedRoots.isAmazonEndpoint(host) ? " (Amazon Root CA 1-4, Starfield Services Root CA G2)"
                    : "") + (viaProxy ? "; the connection goes through the proxy" : ""));
        }
        return new Failure(Reason.TLS_UNTRUSTED_CERTIFICATE, where + ": chain of " + leafText + " ends at '" + issuer
                + "', which is not a trusted root (trust: " + trustSource + ")");
    }

    private static <T extends Throwable> T find(Throwable t, Class<T> type) {
        for (int depth = 0; t != null && depth < 16; depth++, t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    private static String rootMessage(Throwable t) {
        String message = String.valueOf(t.getMessage());
        for (int depth = 0; t != null && depth < 16; depth++, t = t.getCause()) {
            if (t.getMessage() != null) {
                message = t.getMessage();
            }
        }
        return message;
    }
}
