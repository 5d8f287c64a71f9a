package dev.pullpath.probe;

import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Records the chain a server presents before judging it, so that a chain which fails validation is still
 * evidence (issuer, expiry, names). One per handshake.
 */
final class ChainRecorder extends EngineTrustManager {
    private final X509ExtendedTrustManager delegate;
    private final String host;
    private final boolean enforce;
    private volatile X509Certificate[] chain;
    private volatile CertificateException rejection;

    /**
     * @param delegate the chain's judge (PKIX against the node's anchors)
     * @param host     the name or IP literal the leaf must be for
     * @param enforce  false for a host containerd reaches with {@code skip_verify}: the verdict is still recorded,
     *                 as evidence, but the handshake goes on whatever it is
     */
    ChainRecorder(X509ExtendedTrustManager delegate, String host, boolean enforce) {
        this.delegate = delegate;
        this.host = host;
        this.enforce = enforce;
    }

    /** Why the chain would have been rejected, for a handshake that did not enforce it; else null. */
    CertificateException ignoredRejection() {
        return enforce ? null : rejection;
    }

    /** The chain the server presented, or null when the handshake never got that far. */
    X509Certificate[] chain() {
        return chain;
    }

    /** Why the chain was rejected, or null. */
    CertificateException rejection() {
        return rejection;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] presented, String authType, SSLEngine engine)
            throws CertificateException {
        chain = presented.clone();
        try {
            // The chain by PKIX, then the name as Go checks it: the same verdict whichever TLS engine asks.
            VerifiedChains.check(delegate, presented, authType);
            if (presented.length == 0) {
                throw new CertificateException("the server presented no certificate");
            }
            if (Certificates.subjectAltNames(presented[0]).isEmpty()) {
                // Go (containerd) ignores the Common Name since 1.15; the JDK still falls back to it.
                throw new CertificateException("the certificate has no subject alternative names and relies on "
                        + "the legacy Common Name field, which Go clients such as containerd reject");
            }
            HostnameCheck.verify(presented[0], host);
        } catch (CertificateException e) {
            rejection = e;
            if (enforce) {
                throw e;
            }
        }
    }
}
