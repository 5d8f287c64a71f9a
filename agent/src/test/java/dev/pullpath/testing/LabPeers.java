package dev.pullpath.testing;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * The project's own peers, run as a process inside a lab namespace (a JVM cannot bind inside another namespace):
 * registry responders in given modes and misbehaving TLS peers, all bound to one lab address.
 *
 * <p>Usage: {@code LabPeers ADDRESS PEER...} where PEER is {@code registry:PORT:MODE:CHAIN_PEM:KEY_PEM:REALM_HOST},
 * {@code dns:PORT:RCODE} (a DNS server answering RCODE to everything), {@code reset:PORT}, {@code silent:PORT} or
 * {@code token:PORT:SIGNER_PEM:SIGNER_KEY:SERVICE:USER:PASSWORD} (a {@link TokenServer});
 * MODE is a {@link RegistryResponder.Mode} name or a status code.
 * Prints {@code ready} when every peer listens, then runs until killed.
 */
public final class LabPeers {
    public static void main(String[] args) throws Exception {
        InetAddress address = InetAddress.getByName(args[0]);
        List<AutoCloseable> peers = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            String[] f = args[i].split(":");
            InetSocketAddress bind = new InetSocketAddress(address, Integer.parseInt(f[1]));
            switch (f[0]) {
                case "registry" -> {
                    RegistryResponder r = new RegistryResponder(bind, readKey(Path.of(f[4])), readChain(Path.of(f[3])));
                    r.mode(f[2].matches("\\d+") ? RegistryResponder.Mode.status(Integer.parseInt(f[2]))
                            : (RegistryResponder.Mode) RegistryResponder.Mode.class.getField(f[2]).get(null));
                    r.hostForRealm(f[5]);
                    peers.add(r);
                }
                case "dns" -> peers.add(new DnsTestServer(address, bind.getPort())
                        .defaultRcode(org.xbill.DNS.Rcode.value(f[2].toUpperCase(java.util.Locale.ROOT))));
                case "reset" -> peers.add(new TcpPeers.ResetAfterClientHello(bind));
                case "silent" -> peers.add(new TcpPeers.SilentAcceptor(bind));
                case "token" -> peers.add(new TokenServer(bind, readChain(Path.of(f[2]))[0], readKey(Path.of(f[3])),
                        f[4], f[5], f[6]));
                default -> throw new IllegalArgumentException("unknown peer " + args[i]);
            }
        }
        System.out.println("ready");
        System.out.flush();
        new CountDownLatch(1).await();
    }

    static X509Certificate[] readChain(Path pem) throws Exception {
        try (var in = Files.newInputStream(pem)) {
            return CertificateFactory.getInstance("X.509").generateCertificates(in).stream()
                    .map(c -> (X509Certificate) c).toArray(X509Certificate[]::new);
        }
    }

    static PrivateKey readKey(Path pem) throws Exception {
        String text = Files.readString(pem, StandardCharsets.US_ASCII).replaceAll("-----[A-Z ]+-----", "")
                .replaceAll("\\s", "");
        return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(text)));
    }

    private LabPeers() {
    }
}
