package dev.pullpath.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class TargetTest {

    @ParameterizedTest(name = "{0} -> {1} port {2}")
    @CsvSource({
            "public.ecr.aws, public.ecr.aws, 443, public.ecr.aws",
            "Public.ECR.aws., public.ecr.aws, 443, public.ecr.aws",
            "registry.test:8443, registry.test, 8443, registry.test:8443",
            "https://public.ecr.aws, public.ecr.aws, 443, public.ecr.aws",
            "https://public.ecr.aws/, public.ecr.aws, 443, public.ecr.aws",
            "https://r.test:5000/v2/, r.test, 5000, r.test:5000",
            "127.0.0.1:9, 127.0.0.1, 9, 127.0.0.1:9",
            "'[::1]:8443', ::1, 8443, '[::1]:8443'",
            "'2001:db8::1', 2001:db8::1, 443, '[2001:db8::1]'",
            "'https://[2001:db8::1]:444', 2001:db8::1, 444, '[2001:db8::1]:444'",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com, 123456789012.dkr.ecr.us-east-1.amazonaws.com, 443, 123456789012.dkr.ecr.us-east-1.amazonaws.com",
    })
    void parsesTheFormsOperatorsWrite(String spec, String host, int port, String authority) {
        Target t = Target.parse(spec);
        assertEquals(host, t.host());
        assertEquals(port, t.port());
        assertEquals(authority, t.authority());
        assertEquals(spec.trim(), t.name());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "  ", "http://public.ecr.aws", "ftp://x", "host:0", "host:65536", "host:port",
            "https://user:pw@host", "public.ecr.aws/v2/", "[::1", "[host]:443", "bad host", "under_score..x y",
            "https://", "exa mple.com"})
    void rejectsWhatIsNotAnHttpsEndpoint(String spec) {
        assertThrows(ConfigException.class, () -> Target.parse(spec));
    }
}
