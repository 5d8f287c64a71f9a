package dev.pullpath.probe;

import dev.pullpath.diagnosis.Evidence;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import javax.security.auth.x500.X500Principal;

/** Certificates as evidence: the fields an operator compares, nothing that needs a decoder to read. */
final class Certificates {
    private Certificates() {
    }

    static List<Evidence.Certificate> describe(X509Certificate[] chain) {
        if (chain == null) {
            return List.of();
        }
        List<Evidence.Certificate> out = new ArrayList<>(chain.length);
        for (X509Certificate c : chain) {
            out.add(new Evidence.Certificate(subject(c), issuer(c), subjectAltNames(c),
                    c.getNotBefore().toInstant(), c.getNotAfter().toInstant(), sha256(c)));
        }
        return out;
    }

    static String subject(X509Certificate c) {
        return c.getSubjectX500Principal().getName(X500Principal.RFC2253);
    }

    static String issuer(X509Certificate c) {
        return c.getIssuerX500Principal().getName(X500Principal.RFC2253);
    }

    static List<String> subjectAltNames(X509Certificate c) {
        try {
            Collection<List<?>> sans = c.getSubjectAlternativeNames();
            if (sans == null) {
                return List.of();
            }
            List<String> out = new ArrayList<>();
            for (List<?> san : sans) {
                Object type = san.get(0);
                if (Integer.valueOf(2).equals(type) || Integer.valueOf(7).equals(type)) {
                    out.add(String.valueOf(san.get(1)));
                }
            }
            return out;
        } catch (CertificateParsingException e) {
            return List.of();
        }
    }

    static Instant earliestNotAfter(X509Certificate[] chain) {
        Instant earliest = null;
        if (chain != null) {
            for (X509Certificate c : chain) {
                Instant t = c.getNotAfter().toInstant();
                if (earliest == null || t.isBefore(earliest)) {
                    earliest = t;
                }
            }
        }
        return earliest;
    }

    private static String sha256(X509Certificate c) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(c.getEncoded()));
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            return null;
        }
    }
}
