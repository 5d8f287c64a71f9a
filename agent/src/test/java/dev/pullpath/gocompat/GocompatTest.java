package dev.pullpath.gocompat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The Go behaviours in gocompat, with cases from Go's own tests (url_test.go, ip_test.go, match_test.go...). */
class GocompatTest {

    @Test
    void goUrlDecodesUserInfoHostAndPath() throws GoUrl.BadUrl {
        GoUrl u = GoUrl.parse("HTTP://us%65r:p%40ss@proxy.corp:3128/a%20b?q=1#frag", GoUrl.Brackets.IPV6_ONLY);
        assertEquals(new GoUrl("http", "proxy.corp:3128", "user", "p@ss", "/a b"), u);
    }

    @Test
    void goUrlIsOpaqueWithoutSlashesAndRefusesWhatGoRefuses() throws GoUrl.BadUrl {
        assertEquals("", GoUrl.parse("proxy.corp:3128", GoUrl.Brackets.IPV6_ONLY).host());
        for (String bad : new String[] {":foo", "http://a b", "http://x:8o", "http://%zz", "http://a\u0001b",
                "http://a%41", "http://[::1", "a:b/c".replace("a:b", "1a:b")}) {
            assertThrows(GoUrl.BadUrl.class, () -> GoUrl.parse(bad, GoUrl.Brackets.IPV6_ONLY), bad);
        }
    }

    @Test
    void theBracketModesDifferOnlyOnOddIpLiterals() {
        assertNotNull(GoUrl.parseOrNull("https://[fe80::1%25en0]:443/", GoUrl.Brackets.IPV6_ONLY));
        assertNotNull(GoUrl.parseOrNull("https://[fe80::1%25en0]:443/", GoUrl.Brackets.LENIENT));
        // Go 1.25.2 and later: brackets hold IPv6 only, and '[' only at the start.
        assertNull(GoUrl.parseOrNull("https://[127.0.0.1]/", GoUrl.Brackets.IPV6_ONLY));
        assertNull(GoUrl.parseOrNull("https://a[b]/", GoUrl.Brackets.IPV6_ONLY));
        assertNotNull(GoUrl.parseOrNull("https://[127.0.0.1]/", GoUrl.Brackets.LENIENT));
        assertNotNull(GoUrl.parseOrNull("https://a[b]/", GoUrl.Brackets.LENIENT));
    }

    @Test
    void netIpIsStrictAboutIpv4AndMapsIt() {
        assertArrayEquals(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1, -1, 10, 0, 0, 1}, NetIp.parseIp("10.0.0.1"));
        assertNull(NetIp.parseIp("010.0.0.1"));
        assertNull(NetIp.parseIp("fe80::1%eth0"));
        assertTrue(NetIp.parseAddr("fe80::1%eth0").zoned());
        assertTrue(NetIp.isLoopback(NetIp.parseIp("::ffff:127.1.2.3")));
        assertFalse(NetIp.isLoopback(NetIp.parseIp("::2")));
        assertNull(NetIp.parseIp("1::2::3"));
    }

    @Test
    void stringHelpersFollowGo() {
        assertEquals("a", GoStrings.trimSpace("\u00a0\u0085 a\u3000"));
        assertEquals("\u001ca", GoStrings.trimSpace("\u001ca"));
        // unicode.ToLower maps U+0130 alone; String.toLowerCase adds a combining dot.
        assertEquals("i", GoStrings.toLower("\u0130"));
        assertArrayEquals(new String[] {"::1", "80"}, GoStrings.splitHostPort("[::1]:80"));
        assertNull(GoStrings.splitHostPort("::1:80"));
        assertEquals("xn--fsqu00a.com", GoStrings.idnaAscii("例子.com"));
    }

    @Test
    void durationsAsTimeParseDuration() {
        assertEquals(Duration.ofMinutes(90), GoDuration.parse("1h30m"));
        assertEquals(Duration.ofNanos(1500), GoDuration.parse("1.5µs"));
        assertEquals(Duration.ZERO, GoDuration.parse("-0"));
        assertNull(GoDuration.parse("1"));
        assertNull(GoDuration.parse("."));
        assertNull(GoDuration.parse("3000000h"));
    }

    @Test
    void filepathMatchWithinOnePart() {
        assertTrue(FilepathMatch.match("*", "dkr"));
        assertTrue(FilepathMatch.match("a?c", "abc"));
        assertTrue(FilepathMatch.match("[a-c]x", "bx"));
        assertTrue(FilepathMatch.match("[^a-c]x", "dx"));
        assertFalse(FilepathMatch.match("a*", "a/b"));
        assertFalse(FilepathMatch.match("[", "a"));
        assertFalse(FilepathMatch.match("a\\", "a"));
    }
}
