package dev.pullpath.probe;

import java.nio.ByteBuffer;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Chains that passed PKIX recently. A registry presents the same chain probe after probe; building and verifying its
 * path again (the CA's signature on the leaf in the JDK's Java EC code) was the largest CPU cost left per probe. A
 * chain is taken as verified only while it is byte for byte the one that passed, under the same judge and key
 * exchange, within a few minutes, and while every certificate in it is still within its validity period; anything
 * else goes through the full check, which also gives a failure its precise reason.
 */
final class VerifiedChains {
    private static final long TTL_NANOS = TimeUnit.MINUTES.toNanos(5);
    private static final int MAX_ENTRIES = 256;

    private record Key(X509ExtendedTrustManager judge, String authType, List<ByteBuffer> encodings) {
    }

    private static final Map<Key, Long> PASSED = new ConcurrentHashMap<>();

    private VerifiedChains() {
    }

    static void check(X509ExtendedTrustManager judge, X509Certificate[] chain, String authType)
            throws CertificateException {
        Key key = key(judge, chain, authType);
        Long at = PASSED.get(key);
        long now = System.nanoTime();
        if (at != null && now - at < TTL_NANOS && stillValid(chain)) {
            return;
        }
        judge.checkServerTrusted(chain, authType);
        if (PASSED.size() >= MAX_ENTRIES) {
            PASSED.clear();
        }
        PASSED.put(key, now);
    }

    private static Key key(X509ExtendedTrustManager judge, X509Certificate[] chain, String authType)
            throws CertificateException {
        List<ByteBuffer> encodings = new ArrayList<>(chain.length);
        for (X509Certificate c : chain) {
            encodings.add(ByteBuffer.wrap(c.getEncoded()));
        }
        return new Key(judge, authType, encodings);
    }

    private static boolean stillValid(X509Certificate[] chain) {
        for (X509Certificate c : chain) {
            try {
                c.checkValidity();
            } catch (CertificateException e) {
                return false;
            }
        }
        return true;
    }
}
