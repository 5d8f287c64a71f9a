package dev.pullpath.probe;

import dev.pullpath.files.BoundedFile;
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
 * The roots a pull trusts. containerd is a Go program: it trusts the node's system roots, not a JVM's cacerts, so
 * pullpath reads what Go's crypto/x509 reads on Linux: the first bundle file found ({@code SSL_CERT_FILE}, then the
 * distribution paths), plus every certificate file in the certificate directories ({@code SSL_CERT_DIR}, else
 * /etc/ssl/certs and /etc/pki/tls/certs), skipping the hash symlinks that point back into the same directory. A
 * malformed block is skipped, not the whole file, as Go skips it. The JVM's store is used only when the node has
 * no roots at all. {@code --ca-file} anchors are added on top.
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
    private static final List<String> SYSTEM_DIRECTORIES = List.of("/etc/ssl/certs", "/etc/pki/tls/certs");
    private static final long MAX_BUNDLE_BYTES = 16L * 1024 * 1024;
    private static final int MAX_DIRECTORY_FILES = 4096;
    private static final java.util.regex.Pattern PEM_BLOCK = java.util.regex.Pattern.compile(
            "-----BEGIN CERTIFICATE-----[^-]*+-----END CERTIFICATE-----");

    private final List<X509Certificate> anchors;
    private final List<X509Certificate> operatorAnchors;
    private final String source;

    private TrustAnchors(List<X509Certificate> anchors, List<X509Certificate> operatorAnchors, String source) {
        this.anchors = List.copyOf(anchors);
        this.operatorAnchors = List.copyOf(operatorAnchors);
        this.source = source;
    }

    /** The {@code --ca-file} anchors alone: CAs the operator chose, never taken for an interceptor's. */
    List<X509Certificate> operatorAnchors() {
        return operatorAnchors;
    }

    public static TrustAnchors load(List<Path> caFiles) {
        java.util.Set<X509Certificate> all = new java.util.LinkedHashSet<>();
        List<String> sources = new ArrayList<>();
        String env = System.getenv("SSL_CERT_FILE");
        List<String> files = env != null && !env.isBlank() ? List.of(env) : SYSTEM_BUNDLES;
        for (String candidate : files) {
            Path p = Path.of(candidate);
            if (Files.isReadable(p) && Files.isRegularFile(p)) {
                int before = all.size();
                all.addAll(readPemLenient(p));
                if (all.size() > before) {
                    sources.add(p.toString());
                    break;
                }
            }
        }
        String dirEnv = System.getenv("SSL_CERT_DIR");
        List<String> dirs = dirEnv != null && !dirEnv.isBlank() ? List.of(dirEnv.split(":")) : SYSTEM_DIRECTORIES;
        for (String dir : dirs) {
            int before = all.size();
            all.addAll(readDirectory(Path.of(dir)));
            if (all.size() > before) {
                sources.add(dir + "/");
            }
        }
        if (all.isEmpty()) {
            all.addAll(jvmDefaults());
            sources.add("JVM cacerts");
        }
        List<X509Certificate> operator = new ArrayList<>();
        for (Path ca : caFiles) {
            operator.addAll(readPem(ca));
            sources.add(ca.toString());
        }
        all.addAll(operator);
        return new TrustAnchors(new ArrayList<>(all), operator, String.join(" + ", sources));
    }

    /** Every certificate of every file in {@code dir}, except symlinks that point back into {@code dir}. */
    private static List<X509Certificate> readDirectory(Path dir) {
        List<X509Certificate> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (var entries = Files.list(dir)) {
            for (Path entry : (Iterable<Path>) entries.limit(MAX_DIRECTORY_FILES)::iterator) {
                try {
                    if (Files.isSymbolicLink(entry)) {
                        Path target = dir.resolve(Files.readSymbolicLink(entry)).normalize();
                        if (dir.normalize().equals(target.getParent())) {
                            continue;
                        }
                    }
                    if (Files.isRegularFile(entry)) {
                        out.addAll(readPemLenient(entry));
                    }
                } catch (IOException | SecurityException e) {
                    // an unreadable entry is skipped, as Go skips it
                }
            }
        } catch (IOException | SecurityException e) {
            return out;
        }
        return out;
    }

    /** The certificates of the well-formed PEM blocks of a file; the rest is ignored. */
    private static List<X509Certificate> readPemLenient(Path path) {
        List<X509Certificate> out = new ArrayList<>();
        try {
            // Too large or unreadable: skipped, as Go skips it.
            String text = BoundedFile.readString(path, MAX_BUNDLE_BYTES, java.nio.charset.StandardCharsets.ISO_8859_1);
            CertificateFactory factory = CertificateFactory.getInstance("X.509");
            java.util.regex.Matcher m = PEM_BLOCK.matcher(text);
            while (m.find()) {
                try {
                    out.add((X509Certificate) factory.generateCertificate(new java.io.ByteArrayInputStream(
                            m.group().getBytes(java.nio.charset.StandardCharsets.US_ASCII))));
                } catch (CertificateException e) {
                    // one malformed block does not cost the others
                }
            }
        } catch (IOException | SecurityException | CertificateException e) {
            return out;
        }
        return out;
    }

    /** Reads every certificate in a PEM file; a missing, empty or malformed file is a config error. */
    public static List<X509Certificate> readPem(Path path) {
        try {
            if (!Files.isRegularFile(path)) {
                throw new ConfigException("CA file " + path + " does not exist or is not a file");
            }
            try (InputStream in = new java.io.ByteArrayInputStream(BoundedFile.read(path, MAX_BUNDLE_BYTES))) {
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
        } catch (BoundedFile.TooLarge e) {
            throw new ConfigException("CA file " + path + " is larger than 16 MiB");
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

    /** Where the anchors came from, for the TLS phase's evidence. */
    public String source() {
        return source;
    }
}
