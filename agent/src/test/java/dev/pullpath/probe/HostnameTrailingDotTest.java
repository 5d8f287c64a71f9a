package dev.pullpath.probe;

import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.pullpath.testing.TestPki;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Hostname verification as Go's crypto/x509 VerifyHostname does it, for names and SANs with a trailing dot. */
class HostnameTrailingDotTest {

    @Test
    void sanWithTrailingDotIsNotAPatternInGo() throws Exception {
        // validHostnamePattern("registry.test.") is false (empty last label), so Go falls back to matchExactly,
        // which compares "registry.test." with "registry.test": no match, containerd rejects the certificate.
        TestPki.Ca ca = TestPki.newCa("CN=pullpath review CA");
        Instant now = Instant.now();
        var leaf = ca.issue("registry.test", List.of("registry.test."), List.of(), now.minus(Duration.ofDays(1)),
                now.plus(Duration.ofDays(1))).certificate();
        assertThrows(CertificateException.class, () -> HostnameCheck.verify(leaf, "registry.test"));
    }
}
