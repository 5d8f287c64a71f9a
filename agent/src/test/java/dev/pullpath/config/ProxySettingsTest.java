package dev.pullpath.config;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ProxySettingsTest {

    /** proxy_test.go's noProxy, used by TestUseProxy. */
    private static final String GO_NO_PROXY = "foobar.com, .barbaz.net, *.wildcard.io, 192.168.1.1, 192.168.1.2:81, "
            + "192.168.1.3:80, 10.0.0.0/30, 2001:db8::52:0:1, [2001:db8::52:0:2]:443, [2001:db8::52:0:3]:80, "
            + "2002:db8:a::45/64";

    private static Function<String, String> env(String... pairs) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return m::get;
    }

    private static String orEmpty(String s) {
        return s == null ? "" : s;
    }

    private static String shown(Optional<ProxySettings.Proxy> p) {
        return p.map(ProxySettings.Proxy::redacted).orElse("none");
    }

    /**
     * proxyForURLTests, with https requests. Go's cases for HTTP_PROXY parsing run on HTTPS_PROXY here, because
     * parseProxy treats both the same way. An empty port means the URL has none, so 443 applies.
     */
    @ParameterizedTest(name = "HTTPS_PROXY={0} NO_PROXY={1} https://{2}:{3} -> {4}")
    @CsvSource(delimiter = '|', value = {
        "127.0.0.1:8080                 |                 | example.com            |     | http://127.0.0.1:8080",
        "cache.corp.example.com:1234    |                 | example.com            |     | http://cache.corp.example.com:1234",
        "cache.corp.example.com         |                 | example.com            |     | http://cache.corp.example.com:80",
        // a single label is read as a scheme by url.Parse, then re-read with http://
        "localhost                      |                 | example.com            |     | http://localhost:80",
        "https://cache.corp.example.com |                 | example.com            |     | https://cache.corp.example.com:443",
        "http://127.0.0.1:8080          |                 | example.com            |     | http://127.0.0.1:8080",
        "https://127.0.0.1:8080         |                 | example.com            |     | https://127.0.0.1:8080",
        "socks5://127.0.0.1             |                 | example.com            |     | socks5://127.0.0.1:1080",
        // unknown schemes are kept; with no default port Go dials port 0
        "foo://host                     |                 | example.com            |     | foo://host:0",
        "secure.proxy.tld               |                 | secure.tld             |     | http://secure.proxy.tld:80",
        "https://secure.proxy.tld       |                 | secure.tld             |     | https://secure.proxy.tld:443",
        "                               |                 | example.com            |     | none",
        "proxy                          | example.com     | example.com            |     | none",
        "proxy                          | .example.com    | example.com            |     | http://proxy:80",
        "proxy                          | ample.com       | example.com            |     | http://proxy:80",
        "proxy                          | example.com     | foo.example.com        |     | none",
        "proxy                          | .foo.com        | example.com            |     | http://proxy:80",
        "proxy                          | .示例.com        | www.示例.com            |     | none",
        "proxy                          | xn--fsq092h.com | www.示例.com            |     | none",
        "proxy                          | 示例.com         | www.xn--fsq092h.com    |     | none",
        // an IPv6 literal with a zone that looks like a domain is still an IP: domain entries never match it
        "proxy                          | example.com     | [1000::%.example.com]  | 123 | http://proxy:80",
    })
    void goProxyForUrlTable(String httpsProxy, String noProxy, String host, Integer port, String expected) {
        ProxySettings s = ProxySettings.fromEnvironment(env("HTTPS_PROXY", orEmpty(httpsProxy), "NO_PROXY",
                orEmpty(noProxy)));
        assertEquals(expected, shown(s.proxyFor(host, port == null ? 0 : port)));
    }

    /** UseProxyTests: NO_PROXY = proxy_test.go's noProxy, every request on port 80. */
    @ParameterizedTest(name = "{0}:80 proxied={1}")
    @CsvSource({
        "localhost, false",
        "127.0.0.1, false",
        "127.0.0.2, false",
        "[::1], false",
        "[::2], true",
        "192.168.1.1, false",
        "192.168.1.2, true",
        "192.168.1.3, false",
        "192.168.1.4, true",
        "10.0.0.2, false",
        "[2001:db8::52:0:1], false",
        "[2001:db8::52:0:2], true",
        "[2001:db8::52:0:3], false",
        "[2002:db8:a::123], false",
        "[fe80::424b:c8be:1643:a1b6], true",
        "barbaz.net, true",
        "www.barbaz.net, false",
        "foobar.com, false",
        "www.foobar.com, false",
        "foofoobar.com, true",
        "baz.com, true",
        "localhost.net, true",
        "local.localhost, true",
        "barbarbaz.net, true",
        "wildcard.io, true",
        "nested.wildcard.io, false",
        "awildcard.io, true",
    })
    void goUseProxyTable(String host, boolean proxied) {
        ProxySettings listed = ProxySettings.of("http://proxy.example.org", GO_NO_PROXY);
        assertEquals(proxied, listed.proxyFor(host, 80).isPresent(), "with the list");
        // TestAllNoProxy
        ProxySettings all = ProxySettings.of("http://proxy.example.org", "*");
        assertFalse(all.proxyFor(host, 80).isPresent(), "with *");
    }

    @Test
    void goInvalidNoProxyEntryIsIgnored() {
        ProxySettings s = ProxySettings.of("proxy", ":1");
        assertEquals("http://proxy:80", shown(s.proxyFor("example.com", 80)));
        assertEquals(0, s.noProxy().size());
    }

    /** Cases beyond proxy_test.go, each checked against the rules in proxy.go, net and netip. */
    @ParameterizedTest(name = "NO_PROXY={0} https://{1}:{2} proxied={3}")
    @CsvSource(delimiter = '|', value = {
        // the localhost rule compares exactly, before any lower-casing
        "                    | LOCALHOST             | 443  | true",
        "                    | localhost.            | 443  | true",
        "                    | 127.0.0.53            | 443  | false",
        "                    | ::ffff:127.0.0.1      | 443  | false",
        "                    | ::1                   | 443  | false",
        // host: with an empty port matches every port; host:port only that port
        "foo.com:            | foo.com               | 5000 | false",
        "foo.com:443         | foo.com               | 443  | false",
        "foo.com:443         | foo.com               | 5000 | true",
        "foo.com:443         | foo.com               |      | false",
        "[2001:db8::1]:443   | 2001:db8::1           | 443  | false",
        "[2001:db8::1]:443   | [2001:db8::1]         | 5000 | true",
        // '*' is special only alone or as a leading '*.'
        "*:443               | registry.example.com  | 443  | true",
        "*.                  | registry.example.com. | 443  | false",
        "*.                  | registry.example.com  | 443  | true",
        "*.example.com       | example.com           | 443  | true",
        "*.example.com       | a.b.example.com       | 443  | false",
        "10.0.0.*            | 10.0.0.5              | 443  | true",
        // IPv4 and IPv4-mapped IPv6 are one address; zones are ignored when comparing
        "10.0.0.0/8          | ::ffff:10.9.9.9       | 443  | false",
        "::ffff:10.0.0.0/104 | 10.1.2.3              | 443  | false",
        "::ffff:0:0/96       | 192.0.2.1             | 443  | false",
        "::ffff:0:0/95       | 192.0.2.1             | 443  | true",
        "10.1.2.3            | ::ffff:10.1.2.3       | 443  | false",
        "fe80::1             | fe80::1%eth0          | 443  | false",
        // net.ParseIP refuses leading zeros, so this entry is a domain and never matches an IP
        "010.0.0.1           | 10.0.0.1              | 443  | true",
        "10.0.0.0/99         | 10.0.0.1              | 443  | true",
        "10.0.0.0/08         | 10.0.0.1              | 443  | false",
        // entries are lower-cased and trimmed of Unicode space (NBSP too), the host lower-cased
        "'  EXAMPLE.com\u00a0' | Registry.EXAMPLE.com | 443 | false",
        // a domain entry never matches an IP literal, an IP entry never matches a name
        "192.0.2.1           | 192.0.2.1.nip.io      | 443  | true",
        "2.1                 | 192.0.2.1             | 443  | true",
        // trailing dots are not normalised
        "example.com         | registry.example.com. | 443  | true",
        // brackets left in the host make Go's SplitHostPort fail: it then connects directly
        "                    | [::1                  | 443  | false",
        "                    | a]b                   | 443  | false",
    })
    void noProxyRulesVerifiedAgainstGo(String noProxy, String host, Integer port, boolean proxied) {
        ProxySettings s = ProxySettings.of("http://proxy:3128", noProxy);
        assertEquals(proxied, s.proxyFor(host, port == null ? 0 : port).isPresent());
    }

    @Test
    void upperCaseVariableWinsOnlyWhenNonEmpty() {
        ProxySettings both = ProxySettings.fromEnvironment(env("HTTPS_PROXY", "upper:1", "https_proxy", "lower:2",
                "NO_PROXY", "a.example", "no_proxy", "b.example"));
        assertEquals("http://upper:1", both.httpsProxy().redacted());
        assertEquals("HTTPS_PROXY", both.proxySource());
        assertEquals("a.example", both.noProxy().raw());
        assertEquals("NO_PROXY", both.noProxy().source());

        ProxySettings emptyUpper = ProxySettings.fromEnvironment(env("HTTPS_PROXY", "", "https_proxy", "lower:2",
                "NO_PROXY", "", "no_proxy", "b.example"));
        assertEquals("http://lower:2", emptyUpper.httpsProxy().redacted());
        assertEquals("https_proxy", emptyUpper.proxySource());
        assertEquals("no_proxy", emptyUpper.noProxy().source());
        assertFalse(emptyUpper.proxyFor("b.example").isPresent());
        assertTrue(emptyUpper.proxyFor("a.example").isPresent());
    }

    @Test
    void httpProxyAndCgiDoNotApplyToHttps() {
        assertNull(ProxySettings.fromEnvironment(env("HTTP_PROXY", "http.proxy.tld", "http_proxy", "x")).httpsProxy());
        // Go refuses HTTP_PROXY under CGI but keeps using HTTPS_PROXY
        ProxySettings cgi = ProxySettings.fromEnvironment(env("HTTPS_PROXY", "https://secure.proxy.tld",
                "REQUEST_METHOD", "PUT"));
        assertEquals("https://secure.proxy.tld:443", shown(cgi.proxyFor("secure.tld")));
        assertEquals("no https proxy", ProxySettings.fromEnvironment(env()).describe());
        assertEquals(ProxySettings.none().describe(), ProxySettings.of(null, null).describe());
    }

    @Test
    void userInfoIsPercentDecoded() {
        ProxySettings.Proxy p = ProxySettings.of("http://us%40er:p%3Ass%2Fw0rd@proxy.corp:3128", null).httpsProxy();
        assertEquals("us@er", p.username());
        assertEquals("p:ss/w0rd", p.password());
        assertEquals(Optional.of(basic("us@er:p:ss/w0rd")), p.proxyAuthorization());
        assertEquals("http://<redacted>@proxy.corp:3128", p.redacted(), "the user name may be a token too");

        ProxySettings.Proxy utf8 = ProxySettings.of("http://b%C3%B6b:x@proxy", null).httpsProxy();
        assertEquals("böb", utf8.username());
        assertEquals("http://<redacted>@proxy:80", utf8.toString());
    }

    @Test
    void userInfoEdgeCasesFollowNetUrl() {
        ProxySettings.Proxy noPassword = ProxySettings.of("http://bob@proxy", null).httpsProxy();
        assertNull(noPassword.password());
        // Go sends "user:" whenever there is user info
        assertEquals(Optional.of(basic("bob:")), noPassword.proxyAuthorization());
        assertEquals("http://<redacted>@proxy:80", noPassword.redacted());

        assertEquals("a:b", ProxySettings.of("http://bob:a:b@proxy", null).httpsProxy().password());
        // the last '@' ends the user info
        ProxySettings.Proxy at = ProxySettings.of("http://bob:p@ss@proxy:3128", null).httpsProxy();
        assertEquals("p@ss", at.password());
        assertEquals("proxy", at.host());

        ProxySettings.Proxy noScheme = ProxySettings.of("bob:pw@proxy.corp:3128", null).httpsProxy();
        assertEquals("http", noScheme.scheme());
        assertEquals("pw", noScheme.password());
        assertEquals(3128, noScheme.port());

        assertEquals(Optional.empty(), ProxySettings.of("http://proxy", null).httpsProxy().proxyAuthorization());
    }

    @Test
    void schemesAndPortsAreExposedForTheCallerToJudge() {
        ProxySettings.Proxy socks = ProxySettings.of("socks5h://u:p@socks.corp", null).httpsProxy();
        assertEquals("socks5h", socks.scheme());
        assertEquals(1080, socks.port());
        assertTrue(socks.isSocks());
        assertFalse(socks.tlsToProxy());
        assertTrue(ProxySettings.of("SOCKS5://socks.corp:9050", null).httpsProxy().isSocks());

        ProxySettings.Proxy tls = ProxySettings.of("https://proxy.corp", null).httpsProxy();
        assertTrue(tls.tlsToProxy());
        assertEquals(443, tls.port());

        ProxySettings.Proxy v6 = ProxySettings.of("http://[fd00::1]:3128", null).httpsProxy();
        assertEquals("fd00::1", v6.host());
        assertEquals("http://[fd00::1]:3128", v6.redacted());
        assertEquals("fe80::1%eth0", ProxySettings.of("http://[fe80::1%25eth0]:3128", null).httpsProxy().host());
        // leading zeros in a port are just digits to Go's dialer
        assertEquals(3128, ProxySettings.of("proxy:03128", null).httpsProxy().port());
        assertEquals("xn--fsq092h.com", ProxySettings.of("http://示例.com:3128", null).httpsProxy().host());

        ProxySettings unknown = ProxySettings.fromEnvironment(env("HTTPS_PROXY", "foo://host"));
        assertTrue(unknown.problems().stream().anyMatch(m -> m.contains("plain HTTP proxy") && m.contains("port 0")),
                unknown.problems().toString());
    }

    /** Values Go accepts but reads differently from what the operator meant. */
    @Test
    void goQuirksAreReproducedAndExplained() {
        // a trailing space makes url.Parse fail; "http://" + value then parses with the host "http"
        ProxySettings trailing = ProxySettings.fromEnvironment(env("HTTPS_PROXY", "http://proxy:3128 "));
        assertEquals("http://http:80", trailing.httpsProxy().redacted());
        assertTrue(trailing.problems().get(0).contains("re-reads"), trailing.problems().toString());

        // url.Parse(" ") succeeds with no scheme and no host, and the retry fails, so Go keeps that empty URL
        ProxySettings blank = ProxySettings.fromEnvironment(env("HTTPS_PROXY", " "));
        assertEquals(new ProxySettings.Proxy("", "", 0, null, null), blank.httpsProxy());
        assertTrue(blank.problems().stream().anyMatch(m -> m.contains("no proxy host")));
        // a flag value is only trimmed to decide "no proxy at all"
        assertNull(ProxySettings.of(" ", null).httpsProxy());

        // Go keeps a proxy whose port is out of range and every connection fails; a flag gets refused
        ProxySettings bigPort = ProxySettings.fromEnvironment(env("HTTPS_PROXY", "http://proxy:99999"));
        assertEquals(99999, bigPort.httpsProxy().port());
        assertTrue(bigPort.problems().get(0).contains("above 65535"));
        assertEquals(Integer.MAX_VALUE, ProxySettings.fromEnvironment(env("HTTPS_PROXY",
                "http://proxy:" + "9".repeat(40))).httpsProxy().port());
        assertThrows(ConfigException.class, () -> ProxySettings.of("http://proxy:99999", null));
    }

    @Test
    void invalidUrlIsIgnoredFromTheEnvironmentAndRefusedFromFlags() {
        ProxySettings ignored = ProxySettings.fromEnvironment(env("HTTPS_PROXY", "http://proxy:3128/%zz",
                "https_proxy", "http://other:1"));
        // Go does not fall back to the lower-case variable: the upper one was non-empty
        assertNull(ignored.httpsProxy());
        assertTrue(ignored.problems().get(0).startsWith("HTTPS_PROXY is not a valid proxy URL"));
        assertEquals(Optional.empty(), ignored.proxyFor("registry.example.com"));

        ConfigException e = assertThrows(ConfigException.class,
                () -> ProxySettings.of("--proxy", "http://proxy:3128/%zz", "--no-proxy", null));
        assertTrue(e.getMessage().startsWith("--proxy is not a valid proxy URL"), e.getMessage());
        assertThrows(ConfigException.class, () -> ProxySettings.of("http://[1.2.3.4%zz]:80", null));
        assertThrows(ConfigException.class, () -> ProxySettings.of(":3128\u0000", null));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "http://bob:s3cret@proxy.corp:3128",
        "https://bob:s3cr%65t@proxy.corp",
        "socks5://bob:s3cret@proxy.corp",
        "bob:s3cret@proxy.corp:3128",
        "http://bob:s3cret@proxy.corp:99999",
        "https://bob:s3c/ret@proxy.corp:3128",
        "http://bob:s3cret%zz@proxy.corp:3128",
        "http://bob:s3cret@proxy.corp:3128\n",
        "http://bob:s3cret@[::1",
        "bob:s3cret@proxy.corp:3128 ",
        "http://böb:s3cret@proxy.corp",
        "http://bob:s3cret@proxy.corp:3128/%zz#s3cret",
    })
    void passwordNeverAppearsInText(String value) {
        List<String> texts = new ArrayList<>();
        ProxySettings fromEnv = ProxySettings.fromEnvironment(env("HTTPS_PROXY", value, "NO_PROXY", "10.0.0.0/99"));
        texts.add(fromEnv.toString());
        texts.add(fromEnv.describe());
        texts.addAll(fromEnv.problems());
        if (fromEnv.httpsProxy() != null) {
            texts.add(fromEnv.httpsProxy().redacted());
            texts.add(fromEnv.httpsProxy().toString());
        }
        try {
            ProxySettings flag = ProxySettings.of(value, "example.com");
            texts.add(flag.toString());
            texts.addAll(flag.problems());
        } catch (ConfigException e) {
            texts.add(e.getMessage());
        }
        for (String text : texts) {
            assertFalse(text.contains("s3cr") || text.contains("c/ret") || text.contains("ret@"), text);
        }
    }

    @Test
    void noProxyNotesPointOutEntriesGoWillNotMatch() {
        ProxySettings s = ProxySettings.fromEnvironment(env("HTTPS_PROXY", "proxy:3128", "NO_PROXY",
                "10.0.0.0/99, 10.0.0.*, 010.0.0.1, :1, .svc, fe80::1%eth0"));
        String all = String.join("\n", s.problems());
        assertAll(
                () -> assertTrue(all.contains("'10.0.0.0/99' is not a valid CIDR"), all),
                () -> assertTrue(all.contains("'10.0.0.*' uses '*'"), all),
                () -> assertTrue(all.contains("'010.0.0.1' is not an IP address Go accepts"), all),
                () -> assertTrue(all.contains("'fe80::1%eth0' is not an IP address Go accepts"), all),
                () -> assertTrue(all.contains("':1' has no host"), all),
                () -> assertFalse(all.contains(".svc"), all));
        assertEquals(Optional.of("NO_PROXY entry '.svc' matches"), s.bypassReason("kube-dns.kube-system.svc", 443));
        assertEquals(Optional.of("Go never proxies localhost"), s.bypassReason("localhost", 5000));
        assertEquals(Optional.of("Go never proxies loopback addresses"), s.bypassReason("[::1]", 5000));
        assertEquals(Optional.empty(), s.bypassReason("registry.example.com", 443));
        assertEquals("https proxy http://proxy:3128 (from HTTPS_PROXY); NO_PROXY (5 entries) "
                + "\"10.0.0.0/99, 10.0.0.*, 010.0.0.1, :1, .svc, fe80::1%eth0\"", s.describe());
    }

    @Test
    @Timeout(value = 20, unit = TimeUnit.SECONDS)
    void hostileInputNeverThrows() {
        String junk = String.join(",", "10.0.0.0/99", "[::1", ":::", "", " , ,", "[", "]", "[]", "[]:", "[::1]:",
                "*.", ".", "::", "%", "1.2.3.4/", "/8", "/", "a:b:c", "\u0000", "\ud800", "xn--", "*:443",
                "1.2.3.4/33", "::/129", "::/-1", "1.2.3.4/4294967297", "[[::1]]:80", "[::1]]:80", "a%zz",
                "é".repeat(1000), "a".repeat(100_000), "..", "*..", "。", "\u00a0", "12345::", "1::2::3");
        List<String> hosts = new ArrayList<>(List.of("", "[", "]", "[]", "[::1", ":::", "%", "fe80::1%", "%eth0",
                "1.2.3.4.5", "01.2.3.4", "0x7f.0.0.1", "\u0000", "\ud800", "é".repeat(100_000), "a".repeat(100_000),
                "a.".repeat(50_000), "::ffff:127.0.0.1", "1:2:3:4:5:6:7:8:9", "::1.2.3.4", "1::1.2.3.4.5",
                "12345::", "。", "xn--", "xn--zz", "ａ.example"));
        hosts.add(null);
        for (String noProxy : List.of(junk, junk.replace(",", ", "), "*", "")) {
            ProxySettings s = ProxySettings.of("http://proxy:3128", noProxy);
            for (String host : hosts) {
                for (int port : new int[] {-1, 0, 443, 65535, Integer.MAX_VALUE}) {
                    s.proxyFor(host, port);
                    s.bypassReason(host, port);
                }
            }
            s.toString();
        }
        // the junk list still has its working parts: nothing in it matches a real registry
        assertTrue(ProxySettings.of("proxy", junk).proxyFor("registry.example.com").isPresent());
    }

    @Test
    void listIsBoundedButALaterStarStillCounts() {
        String many = IntStream.range(0, 1500).mapToObj(i -> "h" + i + ".example").collect(Collectors.joining(","));
        ProxySettings s = ProxySettings.of("proxy", many);
        assertEquals(ProxySettings.MAX_NO_PROXY_ENTRIES, s.noProxy().size());
        assertFalse(s.proxyFor("h999.example").isPresent());
        assertTrue(s.proxyFor("h1000.example").isPresent());
        assertTrue(s.problems().stream().anyMatch(m -> m.contains("1500 entries")), s.problems().toString());

        ProxySettings star = ProxySettings.of("proxy", many + ",*");
        assertTrue(star.noProxy().bypassesEverything());
        assertFalse(star.proxyFor("registry.example.com").isPresent());
        assertEquals(Optional.of("--no-proxy is '*'"), star.bypassReason("registry.example.com", 443));
    }

    private static String basic(String pair) {
        return "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8));
    }
}
