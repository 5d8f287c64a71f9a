package dev.pullpath.probe;

import java.io.InputStream;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.security.auth.x500.X500Principal;

/**
 * The CAs an endpoint is known to use, to tell TLS interception from a broken chain. Amazon's endpoints
 * (public.ecr.aws, *.amazonaws.com) chain to Amazon Root CA 1-4 or Starfield Services Root CA G2, shipped in the
 * jar; an untrusted chain from any other CA is someone in the middle (a proxy or firewall re-signing TLS).
 * {@code --ca-file} anchors count as expected: a private CA the operator configured is not an interceptor.
 */
final class ExpectedRoots {
    private static final Set<X500Principal> AMAZON = load();

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
        X500Principal top = chain[chain.length - 1].getIssuerX500Principal();
        Set<X500Principal> operator = new HashSet<>();
        extra.forEach(c -> operator.add(c.getSubjectX500Principal()));
        if (operator.contains(top)) {
            return false;
        }
        if (isAmazonEndpoint(host)) {
            return !AMAZON.contains(top);
        }
        return viaProxy;
    }

    private static Set<X500Principal> load() {
        Set<X500Principal> out = new HashSet<>();
        try (InputStream in = ExpectedRoots.class.getResourceAsStream("amazon-roots.pem")) {
            if (in != null) {
                for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                    out.add(((X509Certificate) c).getSubjectX500Principal());
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException("the jar's Amazon roots do not load", e);
        }
        return Set.copyOf(out);
    }
}
