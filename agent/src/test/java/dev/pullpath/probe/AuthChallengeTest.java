package dev.pullpath.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AuthChallengeTest {

    @Test
    void publicEcrBearerChallenge() {
        List<AuthChallenge> c = AuthChallenge.parse(
                "Bearer realm=\"https://public.ecr.aws/token/\",service=\"public.ecr.aws\",scope=\"aws\"");
        assertEquals(1, c.size());
        assertTrue(c.get(0).is("bearer"));
        assertEquals("https://public.ecr.aws/token/", c.get(0).param("realm"));
        assertEquals("public.ecr.aws", c.get(0).param("SERVICE"));
        assertEquals("aws", c.get(0).param("scope"));
    }

    @Test
    void privateEcrBasicChallenge() {
        AuthChallenge c = AuthChallenge.parse(
                "Basic realm=\"https://123456789012.dkr.ecr.us-east-1.amazonaws.com/\",service=\"ecr.amazonaws.com\"")
                .get(0);
        assertTrue(c.is("Basic"));
        assertEquals("ecr.amazonaws.com", c.param("service"));
    }

    @Test
    void severalChallengesInOneFieldAndAcrossFields() {
        // RFC 7235 section 4.1's own example shape: commas separate challenges and parameters alike.
        List<AuthChallenge> c = AuthChallenge.parse(List.of(
                "Newauth realm=\"apps\", type=1, title=\"Login to \\\"apps\\\"\", Basic realm=\"simple\"",
                "Bearer realm=\"https://auth.test/token\" , service = registry.test"));
        assertEquals(3, c.size());
        assertEquals("Newauth", c.get(0).scheme());
        assertEquals("1", c.get(0).param("type"));
        assertEquals("Login to \"apps\"", c.get(0).param("title"));
        assertEquals("simple", c.get(1).param("realm"));
        assertEquals("registry.test", c.get(2).param("service"), "BWS around '=' and a token value");
    }

    @Test
    void token68AndBareSchemes() {
        List<AuthChallenge> c = AuthChallenge.parse("Negotiate, NTLM abc123+/==, Bearer");
        assertEquals(3, c.size());
        assertNull(c.get(0).token68());
        assertEquals("abc123+/==", c.get(1).token68());
        assertTrue(c.get(2).params().isEmpty());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ",,,", "=", "Bearer realm=\"unterminated", "Bearer realm=", "\"quoted\" scheme",
            "Bearer ,,, realm=\"x\"", "Bearer realm=\"a\",,,,service=\"b\"", "Bearer\trealm=x", "a=b=c=d"})
    void malformedInputNeverThrows(String field) {
        AuthChallenge.parse(field);
    }

    @Test
    void boundedOnHostileInput() {
        String many = "Bearer " + "a=b, ".repeat(10_000);
        assertTrue(AuthChallenge.parse(many).get(0).params().size() <= 32);
        assertTrue(AuthChallenge.parse("x, ".repeat(10_000)).size() <= 16);
    }
}
