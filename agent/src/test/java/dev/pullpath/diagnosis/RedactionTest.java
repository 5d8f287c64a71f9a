package dev.pullpath.diagnosis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RedactionTest {

    @Test
    void tokenFieldsInJsonAreReplaced() {
        String out = Redaction.snippet("{\"token\":\"eyJhbGciOi.secret\",\"access_token\": \"s3cr3t\","
                + "\"expires_in\":43200}", 500);
        assertFalse(out.contains("secret") || out.contains("s3cr3t"), out);
        assertTrue(out.contains("\"expires_in\":43200"), out);
    }

    @Test
    void authorizationValuesUserInfoAndSignedQueriesAreReplaced() {
        String out = Redaction.redact("Authorization: Bearer abcdefghijklmnop; Basic QVdTOnBhc3N3b3Jk "
                + "http://alice:hunter2@proxy.corp:3128 https://s3/x?X-Amz-Signature=deadbeef&ok=1");
        for (String secret : new String[] {"abcdefghijklmnop", "QVdTOnBhc3N3b3Jk", "hunter2", "deadbeef"}) {
            assertFalse(out.contains(secret), out);
        }
        assertTrue(out.contains("ok=1"));
    }

    @Test
    void hugeSecretValuesAreRedactedWithoutBlowingTheStack() {
        String value = "A".repeat(200_000);
        String out = Redaction.redact("{\"password\":\"" + value + "\"}");
        assertEquals("{\"password\":\"<redacted>\"}", out);
    }

    @Test
    void snippetIsOneBoundedLine() {
        assertEquals("a b c", Redaction.snippet("a\n\r\tb\u0000 c", 100));
        assertEquals("x".repeat(10) + "...", Redaction.snippet("x".repeat(50), 10));
    }
}
