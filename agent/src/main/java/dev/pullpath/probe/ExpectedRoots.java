package dev.pullpath.probe;

import java.io.InputStream;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Locale;

/**
 * The CAs an endpoint is known to use, to tell TLS interception from a broken chain. Amazon's endpoints
 * (public.ecr.aws, *.amazonaws.com) chain to Amazon Root CA 1-4 or Starfield Services Root CA G2 (older chains
 * carry a cross-sign by Starfield Class 2), shipped in the jar; an untrusted chain from any other CA is someone in the middle (a proxy or firewall re-signing TLS).
 * {@code --ca-file} anchors count as expected: a private CA the operator configured is not an interceptor.
 */
final class ExpectedRoots {
    private static final List<X509Certificate> AMAZON = load();

    private ExpectedRoots() {
    }

    static boolean isAmazonEndpoint(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        return h.equals("public.ecr.aws") || h.endsWith(".public.ecr.aws") || h.endsWith(".amazonaws.com")
                || h.endsWith(".amazonaws.com.cn");
    }

    /**
     * True when the chain is CA-issued (not a self-signed leaf) and ends at an issuer that is neither an expected
     * root of this host nor an operator's anchor. Only decided for hosts whose CAs are known, or when a proxy
     * carries the connection (then any CA-issued chain the node does not trust is the proxy's).
     */
    static boolean intercepted(X509Certificate[] chain, String host, boolean viaProxy, List<X509Certificate> extra) {
        if (chain == null || chain.length == 0) {
            return false;
        }
        X509Certificate leaf = chain[0];
        if (leaf.getIssuerX500Principal().equals(leaf.getSubjectX500Principal())) {
            return false; // a self-signed leaf is a misconfigured server, not an interceptor's CA
        }
        if (signedByAny(chain, extra)) {
            return false;
        }
        if (isAmazonEndpoint(host)) {
            return !signedByAny(chain, AMAZON);
        }
        return viaProxy;
    }

    /**
     * Whether some certificate of the chain is one of {@code roots} or is signed by one: checked by signature, not
     * by name, so an interceptor naming its CA "Amazon Root CA 1" is still caught, and an older chain carrying the
     * Starfield cross-sign at its top is still recognised.
     */
    private static boolean signedByAny(X509Certificate[] chain, List<X509Certificate> roots) {
        for (X509Certificate c : chain) {
            for (X509Certificate root : roots) {
                if (c.equals(root)) {
                    return true;
                }
                if (c.getIssuerX500Principal().equals(root.getSubjectX500Principal())) {
                    try {
                        c.verify(root.getPublicKey());
                        return true;
                    } catch (java.security.GeneralSecurityException e) {
                        // same name, other key: not this root
                    }
                }
            }
        }
        return false;
    }

    private static List<X509Certificate> load() {
        try (InputStream in = ExpectedRoots.class.getResourceAsStream("amazon-roots.pem")) {
            if (in == null) {
                throw new IllegalStateException("amazon-roots.pem is missing from the jar");
            }
            return CertificateFactory.getInstance("X.509").generateCertificates(in).stream()
                    .map(c -> (X509Certificate) c).toList();
        } catch (java.io.IOException | java.security.cert.CertificateException e) {
            throw new IllegalStateException("the jar's Amazon roots do not load", e);
        }
    }
}
