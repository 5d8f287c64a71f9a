package dev.pullpath.gocompat;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** Go's path/filepath.Match on Unix, as the kubelet applies it to one dot-separated part of a host. */
public final class FilepathMatch {
    private FilepathMatch() {
    }

    /** Go's filepath.Match on Unix for one host part; a malformed pattern matches nothing (Go: ErrBadPattern). */
    public static boolean match(String pattern, String name) {
        StringBuilder re = new StringBuilder();
        int n = pattern.length();
        int i = 0;
        while (i < n) {
            int c = pattern.codePointAt(i);
            if (c == '*') {
                re.append("[^/]*");
                i++;
            } else if (c == '?') {
                re.append("[^/]");
                i++;
            } else if (c == '\\') {
                if (i + 1 >= n) {
                    return false;
                }
                int e = pattern.codePointAt(i + 1);
                re.append(literal(e));
                i += 1 + Character.charCount(e);
            } else if (c == '[') {
                i++;
                boolean negated = i < n && pattern.charAt(i) == '^';
                if (negated) {
                    i++;
                }
                StringBuilder cls = new StringBuilder();
                int ranges = 0;
                while (true) {
                    if (i < n && pattern.charAt(i) == ']' && ranges > 0) {
                        i++;
                        break;
                    }
                    int[] lo = classChar(pattern, i);
                    if (lo == null) {
                        return false;
                    }
                    int hi = lo[0];
                    i = lo[1];
                    if (pattern.charAt(i) == '-') {
                        int[] h = classChar(pattern, i + 1);
                        if (h == null) {
                            return false;
                        }
                        hi = h[0];
                        i = h[1];
                    }
                    if (lo[0] <= hi) { // Go accepts an inverted range; it just never matches
                        cls.append(literal(lo[0])).append('-').append(literal(hi));
                    }
                    ranges++;
                }
                if (cls.length() == 0) {
                    re.append(negated ? "." : "(?!)");
                } else {
                    re.append(negated ? "[^" : "[").append(cls).append(']');
                }
            } else {
                re.append(literal(c));
                i += Character.charCount(c);
            }
        }
        try {
            return Pattern.compile(re.toString(), Pattern.DOTALL).matcher(name).matches();
        } catch (PatternSyntaxException e) {
            return false;
        }
    }

    /** filepath getEsc: one (possibly escaped) class character, which must not be the pattern's end. */
    private static int[] classChar(String p, int i) {
        int n = p.length();
        if (i >= n || p.charAt(i) == '-' || p.charAt(i) == ']') {
            return null;
        }
        if (p.charAt(i) == '\\') {
            i++;
            if (i >= n) {
                return null;
            }
        }
        int c = p.codePointAt(i);
        i += Character.charCount(c);
        return i >= n ? null : new int[] {c, i};
    }

    private static String literal(int codePoint) {
        return "\\x{" + Integer.toHexString(codePoint) + "}";
    }
}
