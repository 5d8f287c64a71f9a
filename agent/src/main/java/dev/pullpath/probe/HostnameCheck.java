package dev.pullpath.probe;

import dev.pullpath.config.IpLiterals;
import java.net.InetAddress;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * Whether a leaf certificate is for the host, as Go's crypto/x509 (containerd's) decides it: an IP literal against
 * the IP addresses among the subject alternative names, a name against the DNS names, case-insensitively, a
 * wildcard standing for exactly one whole left-most label; never the Common Name.
 */
final class HostnameCheck {
    private static final int DNS_NAME = 2;
    private static final int IP_ADDRESS = 7;

    private HostnameCheck() {
    }

    static void verify(X509Certificate leaf, String host) throws CertificateException {
        Collection<List<?>> sans;
        try {
            sans = leaf.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            throw new CertificateException("the subject alternative names cannot be parsed: " + e.getMessage(), e);
        }
        boolean literal = IpLiterals.isLiteral(host);
        InetAddress address = literal ? IpLiterals.parse(host) : null;
        String name = host.toLowerCase(Locale.ROOT);
        if (name.endsWith(".")) {
            name = name.substring(0, name.length() - 1);
        }
        if (sans != null) {
            for (List<?> san : sans) {
                int type = (Integer) san.get(0);
                String value = String.valueOf(san.get(1));
                if (literal && type == IP_ADDRESS && IpLiterals.isLiteral(value)
                        && IpLiterals.parse(value).equals(address)) {
                    return;
                }
                if (!literal && type == DNS_NAME && matches(value.toLowerCase(Locale.ROOT), name)) {
                    return;
                }
            }
        }
        throw new CertificateException(literal
                ? "No subject alternative names matching IP address " + host + " found"
                : "No subject alternative DNS name matching " + host + " found.");
    }

    /** A SAN with a trailing dot is not a valid pattern for Go, which then compares it as is and never matches. */
    private static boolean matches(String pattern, String host) {
        if (!pattern.startsWith("*.")) {
            return pattern.equals(host);
        }
        int dot = host.indexOf('.');
        return dot > 0 && host.substring(dot).equals(pattern.substring(1));
    }
}
