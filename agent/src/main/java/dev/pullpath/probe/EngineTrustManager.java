package dev.pullpath.probe;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * A trust manager for pullpath's handshakes: client side, on SSLEngines only. Subclasses judge the server's chain
 * in {@link #checkServerTrusted(X509Certificate[], String, javax.net.ssl.SSLEngine)}; every other entry point is
 * refused, so no handshake can pass without that judgement.
 */
abstract class EngineTrustManager extends X509ExtendedTrustManager {

    @Override
    public final void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        throw new CertificateException("pullpath makes handshakes on engines only");
    }

    @Override
    public final void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("pullpath makes handshakes on engines only");
    }

    @Override
    public final void checkClientTrusted(X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine engine)
            throws CertificateException {
        throw new CertificateException("pullpath is a client only");
    }

    @Override
    public final void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        throw new CertificateException("pullpath is a client only");
    }

    @Override
    public final void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("pullpath is a client only");
    }

    /** Only a server asking for a client certificate reads this; pullpath presents none. */
    @Override
    public final X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }
}
