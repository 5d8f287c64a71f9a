package dev.pullpath.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.IPAddress;

/**
 * Throw-away PKI for TLS tests. EC P-256 keeps key generation in the low milliseconds.
 * BouncyCastle is used only as a certificate builder; keys, signatures and certificate parsing
 * all go through the JDK's default providers so TLS behaves exactly as it will in production.
 */
public final class TestPki {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String SIG_ALG = "SHA256withECDSA";

    private TestPki() {}

    /** A leaf (or self-signed) certificate with its key; {@code chain} is leaf first, then the CA if any. */
    public record Issued(X509Certificate certificate, PrivateKey key, List<X509Certificate> chain) {
        public Issued {
            chain = List.copyOf(chain);
        }

        public X509Certificate[] chainArray() {
            return chain.toArray(new X509Certificate[0]);
        }

        public void writeChainPem(Path path) {
            writePem(path, chainArray());
        }

        public void writeKeyPem(Path path) {
            TestPki.writeKeyPem(path, key);
        }
    }

    /** A self-signed CA able to issue server certificates. */
    public static final class Ca {
        private final X509Certificate certificate;
        private final KeyPair keyPair;

        private Ca(X509Certificate certificate, KeyPair keyPair) {
            this.certificate = certificate;
            this.keyPair = keyPair;
        }

        public X509Certificate certificate() {
            return certificate;
        }

        public PrivateKey key() {
            return keyPair.getPrivate();
        }

        public void writePem(Path path) {
            TestPki.writePem(path, certificate);
        }

        /** A key store holding only this CA as a trust anchor, for building client trust managers. */
        public KeyStore trustStore() {
            return TestPki.trustStore(certificate);
        }

        /** A client-side TLS context trusting only this CA. */
        public SSLContext clientContext() {
            return TestPki.clientContext(certificate);
        }

        public Issued issue(String cn, List<String> dnsNames, List<String> ipAddresses,
                            Instant notBefore, Instant notAfter) {
            KeyPair leafKeys = newKeyPair();
            try {
                X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(
                        certificate, serial(), Date.from(notBefore), Date.from(notAfter),
                        cnName(cn), leafKeys.getPublic());
                addLeafExtensions(b, leafKeys.getPublic(), keyPair.getPublic(), dnsNames, ipAddresses);
                X509Certificate leaf = sign(b, keyPair.getPrivate());
                return new Issued(leaf, leafKeys.getPrivate(), List.of(leaf, certificate));
            } catch (GeneralSecurityException | CertIOException e) {
                throw new IllegalStateException("cannot issue certificate for " + cn, e);
            }
        }

        /** Valid from an hour ago (tolerates clock skew) for 30 days; IP literals become IP SANs. */
        public Issued issueFor(String... names) {
            if (names.length == 0) {
                throw new IllegalArgumentException("at least one name is required");
            }
            List<String> dns = new ArrayList<>();
            List<String> ips = new ArrayList<>();
            splitNames(names, dns, ips);
            Instant now = Instant.now();
            return issue(names[0], dns, ips, now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(30)));
        }
    }

    public static Ca newCa(String subjectDn) {
        KeyPair keys = newKeyPair();
        Instant now = Instant.now();
        X500Name subject = new X500Name(subjectDn);
        try {
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(
                    subject, serial(), Date.from(now.minus(Duration.ofHours(1))),
                    Date.from(now.plus(Duration.ofDays(365))), subject, keys.getPublic());
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
            b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(keys.getPublic()));
            return new Ca(sign(b, keys.getPrivate()), keys);
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException("cannot create CA " + subjectDn, e);
        }
    }

    /** A self-signed end-entity certificate (CA:false): what an "untrusted certificate" looks like. */
    public static Issued selfSigned(String cn, String... names) {
        KeyPair keys = newKeyPair();
        List<String> dns = new ArrayList<>();
        List<String> ips = new ArrayList<>();
        splitNames(names, dns, ips);
        Instant now = Instant.now();
        X500Name subject = cnName(cn);
        try {
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(
                    subject, serial(), Date.from(now.minus(Duration.ofHours(1))),
                    Date.from(now.plus(Duration.ofDays(30))), subject, keys.getPublic());
            addLeafExtensions(b, keys.getPublic(), keys.getPublic(), dns, ips);
            X509Certificate cert = sign(b, keys.getPrivate());
            return new Issued(cert, keys.getPrivate(), List.of(cert));
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException("cannot create self-signed certificate for " + cn, e);
        }
    }

    public static String pem(X509Certificate... certificates) {
        StringBuilder sb = new StringBuilder();
        try {
            for (X509Certificate c : certificates) {
                sb.append(pemBlock("CERTIFICATE", c.getEncoded()));
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
        return sb.toString();
    }

    public static void writePem(Path path, X509Certificate... certificates) {
        write(path, pem(certificates));
    }

    /** Writes an unencrypted PKCS#8 "PRIVATE KEY" block. */
    public static void writeKeyPem(Path path, PrivateKey key) {
        write(path, pemBlock("PRIVATE KEY", key.getEncoded()));
    }

    public static KeyStore trustStore(X509Certificate... anchors) {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            for (int i = 0; i < anchors.length; i++) {
                ks.setCertificateEntry("anchor-" + i, anchors[i]);
            }
            return ks;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static SSLContext clientContext(X509Certificate... anchors) {
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trustStore(anchors));
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void addLeafExtensions(X509v3CertificateBuilder b, PublicKey subjectKey, PublicKey issuerKey,
                                          List<String> dnsNames, List<String> ipAddresses)
            throws GeneralSecurityException, CertIOException {
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
        b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
        b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(subjectKey));
        b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(issuerKey));
        List<GeneralName> sans = new ArrayList<>();
        for (String d : Objects.requireNonNullElse(dnsNames, List.<String>of())) {
            sans.add(new GeneralName(GeneralName.dNSName, d));
        }
        for (String ip : Objects.requireNonNullElse(ipAddresses, List.<String>of())) {
            if (!IPAddress.isValid(ip)) {
                throw new IllegalArgumentException("not an IP literal: " + ip);
            }
            sans.add(new GeneralName(GeneralName.iPAddress, ip));
        }
        // RFC 5280 forbids an empty SAN extension; a cert without SANs is a legitimate test case.
        if (!sans.isEmpty()) {
            b.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(sans.toArray(new GeneralName[0])));
        }
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey signer) throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder(SIG_ALG).build(signer)));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private static void splitNames(String[] names, List<String> dns, List<String> ips) {
        for (String n : names) {
            (IPAddress.isValid(n) ? ips : dns).add(n);
        }
    }

    private static X500Name cnName(String cn) {
        // The builder escapes DN metacharacters that string parsing would choke on.
        return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, cn).build();
    }

    private static KeyPair newKeyPair() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static BigInteger serial() {
        // Positive, at most 20 octets as RFC 5280 requires, and never zero.
        return new BigInteger(127, RANDOM).setBit(126);
    }

    private static String pemBlock(String type, byte[] der) {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
    }

    private static void write(Path path, String content) {
        try {
            Files.writeString(path, content, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
