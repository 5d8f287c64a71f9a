package dev.pullpath.probe;

import dev.pullpath.config.ConfigException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The roots a pull trusts. containerd is a Go program: it trusts the node's system bundle, not a JVM's cacerts,
 * so pullpath reads the bundle Go would read ({@code SSL_CERT_FILE}, then the distribution paths) and falls back to
 * the JVM's store only when the node has none. {@code --ca-file} anchors are added on top.
 */
public final class TrustAnchors {
    /** Go's crypto/x509 root_linux.go search order. */
    private static final List<String> SYSTEM_BUNDLES = List.of(
            "/etc/ssl/certs/ca-certificates.crt",
            "/etc/pki/tls/certs/ca-bundle.crt",
            "/etc/ssl/ca-bundle.pem",
            "/etc/pki/tls/cacert.pem",
            "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
            "/etc/ssl/cert.pem");
    private static final long MAX_BUNDLE_BYTES = 16L * 1024 * 1024;

    private final List<X509Certificate> anchors;
    private final String source;

    private TrustAnchors(List<X509Certificate> anchors, String source) {
        this.anchors = List.copyOf(anchors);
        this.source = source;
    }

    public static TrustAnchors load(List<Path> caFiles) {
        List<X509Certificate> all = new ArrayList<>();
        String source = null;
        String env = System.getenv("SSL_CERT_FILE");
        List<String> candidates = new ArrayList<>();
        if (env != null && !env.isBlank()) {
            candidates.add(env);
        }
        candidates.addAll(SYSTEM_BUNDLES);
        for (String candidate : candidates) {
            Path p = Path.of(candidate);
            if (Files.isReadable(p)) {
                try {
                    all.addAll(readPem(p));
                    source = p.toString();
                    break;
                } catch (ConfigException e) {
                    // an unreadable system bundle is skipped, as Go skips it
                }
            }
        }
        if (source == null) {
            all.addAll(jvmDefaults());
            source = "JVM cacerts";
        }
        for (Path ca : caFiles) {
            all.addAll(readPem(ca));
            source += " + " + ca;
        }
        return new TrustAnchors(all, source);
    }

    /** Reads every certificate in a PEM file; a missing, empty or malformed file is a config error. */
    public static List<X509Certificate> readPem(Path path) {
        try {
            if (!Files.isRegularFile(path)) {
                throw new ConfigException("CA file " + path + " does not exist or is not a file");
            }
            if (Files.size(path) > MAX_BUNDLE_BYTES) {
                throw new ConfigException("CA file " + path + " is larger than 16 MiB");
            }
            try (InputStream in = Files.newInputStream(path)) {
                Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
                List<X509Certificate> out = new ArrayList<>();
                for (Certificate c : certs) {
                    out.add((X509Certificate) c);
                }
                if (out.isEmpty()) {
                    throw new ConfigException("CA file " + path + " holds no PEM certificate");
                }
                return out;
            }
        } catch (CertificateException e) {
            throw new ConfigException("CA file " + path + " is not valid PEM: " + e.getMessage());
        } catch (IOException | SecurityException e) {
            throw new ConfigException("cannot read CA file " + path + ": " + e.getMessage());
        }
    }

    private static List<X509Certificate> jvmDefaults() {
        try {
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init((KeyStore) null);
            for (TrustManager tm : tmf.getTrustManagers()) {
                if (tm instanceof X509ExtendedTrustManager x) {
                    return List.of(x.getAcceptedIssuers());
                }
            }
            return List.of();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JVM has no default trust manager", e);
        }
    }

    /** A PKIX trust manager over exactly these anchors (JSSE adds hostname checks when the engine asks for them). */
    X509ExtendedTrustManager trustManager() {
        try {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            int i = 0;
            for (X509Certificate c : anchors) {
                ks.setCertificateEntry("anchor-" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(ks);
            for (TrustManager tm : tmf.getTrustManagers()) {
                if (tm instanceof X509ExtendedTrustManager x) {
                    return x;
                }
            }
            throw new IllegalStateException("PKIX trust manager missing");
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot build the trust store", e);
        }
    }

    public List<X509Certificate> anchors() {
        return anchors;
    }

    /** Where the anchors came from, for the TLS phase's evidence. */
    public String source() {
        return source;
    }
}
