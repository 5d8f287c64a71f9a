package dev.pullpath.gocompat;

import java.net.IDN;

/** Go's string helpers that pullpath's Go reproductions need: strings.TrimSpace/ToLower, net.SplitHostPort, idnaASCII. */
public final class GoStrings {
    private GoStrings() {
    }

    /**
     * Go's net.SplitHostPort: {host, port}, or null where Go returns an error. The brackets around an IPv6 host are
     * removed. The port is not checked.
     */
    public static String[] splitHostPort(String hostport) {
        int i = hostport.lastIndexOf(':');
        if (i < 0) {
            return null;
        }
        String host;
        int j = 0;
        int k = 0;
        if (hostport.charAt(0) == '[') {
            int end = hostport.indexOf(']');
            if (end < 0 || end + 1 == hostport.length() || end + 1 != i) {
                return null;
            }
            host = hostport.substring(1, end);
            j = 1;
            k = end + 1;
        } else {
            host = hostport.substring(0, i);
            if (host.indexOf(':') >= 0) {
                return null;
            }
        }
        if (hostport.indexOf('[', j) >= 0 || hostport.indexOf(']', k) >= 0) {
            return null;
        }
        return new String[] {host, hostport.substring(i + 1)};
    }

    /**
     * Go's strings.TrimSpace trims unicode.IsSpace. That includes NBSP and NEL, but not the FS..US controls that
     * {@link String#strip()} would take.
     */
    public static String trimSpace(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && isGoSpace(s.charAt(start))) {
            start++;
        }
        while (end > start && isGoSpace(s.charAt(end - 1))) {
            end--;
        }
        return s.substring(start, end);
    }

    private static boolean isGoSpace(char c) {
        switch (c) {
            case '\t', '\n', 0x0b, '\f', '\r', ' ', 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
                return true;
            default:
                return c >= 0x2000 && c <= 0x200a;
        }
    }

    /** Go's strings.ToLower maps each code point by itself. toLowerCase(Locale) would also apply special casing (İ). */
    public static String toLower(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.codePoints().forEach(cp -> b.appendCodePoint(Character.toLowerCase(cp)));
        return b.toString();
    }

    /**
     * Go's idnaASCII. ASCII text passes through unchanged. Otherwise each label gets the IDNA lookup form, and
     * the input comes back unchanged if any label fails. Go's UTS #46 profile allows empty labels (".例.com"), and
     * java.net.IDN does not, so labels are converted one at a time. java.net.IDN is IDNA2003, so ß, ς and the
     * joiners come out differently from Go.
     */
    public static String idnaAscii(String s) {
        if (s.chars().allMatch(c -> c < 0x80)) {
            return s;
        }
        StringBuilder out = new StringBuilder(s.length() + 16);
        int start = 0;
        for (int i = 0; i <= s.length(); i++) {
            if (i == s.length() || isLabelDot(s.charAt(i))) {
                String label = s.substring(start, i);
                // Punycode costs grow with the square of the label length. A label this long cannot resolve anyway.
                if (label.length() > 255) {
                    return s;
                }
                if (!label.isEmpty()) {
                    try {
                        out.append(IDN.toASCII(label, IDN.USE_STD3_ASCII_RULES));
                    } catch (RuntimeException e) {
                        // IllegalArgumentException for invalid names. Anything else the JDK throws on odd
                        // surrogates must not escape proxyFor either.
                        return s;
                    }
                }
                if (i < s.length()) {
                    out.append('.');
                }
                start = i + 1;
            }
        }
        return out.toString();
    }

    private static boolean isLabelDot(char c) {
        return c == '.' || c == '\u3002' || c == '\uff0e' || c == '\uff61';
    }
}
