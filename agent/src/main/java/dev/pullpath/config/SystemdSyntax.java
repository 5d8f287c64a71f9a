package dev.pullpath.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The two pieces of systemd's syntax a unit's environment needs: the words of an {@code Environment=} value
 * (systemd's extract_first_word with unquoting and C escapes, then {@code %%} as the one specifier that matters for
 * a proxy URL), and an {@code EnvironmentFile=} file (KEY=VALUE lines, comments, quotes).
 */
final class SystemdSyntax {
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private SystemdSyntax() {
    }

    /**
     * {@code "HTTPS_PROXY=http://p:3128" NO_PROXY=a,b} → the two words. A quote may open anywhere in a word and
     * must close; inside double quotes and outside, backslash escapes are C's. Throws IllegalArgumentException for
     * what systemd rejects (an unclosed quote, a trailing backslash), and then systemd ignores the whole line.
     */
    static List<String> words(String value) {
        List<String> out = new ArrayList<>();
        StringBuilder word = null;
        char quote = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (quote == 0 && Character.isWhitespace(c)) {
                if (word != null) {
                    out.add(specifiers(word.toString()));
                    word = null;
                }
                continue;
            }
            if (word == null) {
                word = new StringBuilder();
            }
            if (quote != 0 && c == quote) {
                quote = 0;
            } else if (quote == 0 && (c == '"' || c == '\'')) {
                quote = c;
            } else if (c == '\\' && quote != '\'') {
                if (i + 1 >= value.length()) {
                    throw new IllegalArgumentException("a trailing backslash");
                }
                i = unescape(value, i + 1, word);
            } else {
                word.append(c);
            }
        }
        if (quote != 0) {
            throw new IllegalArgumentException("an unclosed quote");
        }
        if (word != null) {
            out.add(specifiers(word.toString()));
        }
        return out;
    }

    /** Appends the escape at {@code at} (after the backslash); returns the index of its last character. */
    private static int unescape(String s, int at, StringBuilder to) {
        char c = s.charAt(at);
        switch (c) {
            case 'n' -> to.append('\n');
            case 't' -> to.append('\t');
            case 'r' -> to.append('\r');
            case 'a' -> to.append('\u0007');
            case 'b' -> to.append('\b');
            case 'f' -> to.append('\f');
            case 'v' -> to.append('\u000b');
            case 's' -> to.append(' ');
            case 'x' -> {
                if (at + 2 < s.length()) {
                    String hex = s.substring(at + 1, at + 3);
                    if (hex.chars().allMatch(h -> Character.digit(h, 16) >= 0)) {
                        to.append((char) Integer.parseInt(hex, 16));
                        return at + 2;
                    }
                }
                throw new IllegalArgumentException("a bad \\x escape");
            }
            default -> to.append(c); // \\ \" \' and anything else stand for themselves
        }
        return at;
    }

    /** {@code %%} is a literal percent sign; other specifiers name the unit or host and are left as written. */
    private static String specifiers(String word) {
        return word.replace("%%", "%");
    }

    /**
     * An EnvironmentFile: {@code KEY=VALUE} per line, {@code #} and {@code ;} comments, a value in single or double
     * quotes kept whole (double quotes take backslash escapes), a line ending in a backslash continued. Lines that
     * are not assignments are ignored, as systemd ignores them.
     */
    static Map<String, String> environmentFile(String text) {
        Map<String, String> out = new LinkedHashMap<>();
        StringBuilder pending = new StringBuilder();
        for (String raw : text.split("\n", -1)) {
            String line = raw.endsWith("\r") ? raw.substring(0, raw.length() - 1) : raw;
            if (line.endsWith("\\") && !line.endsWith("\\\\")) {
                pending.append(line, 0, line.length() - 1);
                continue;
            }
            pending.append(line);
            String l = pending.toString().strip();
            pending.setLength(0);
            if (l.isEmpty() || l.startsWith("#") || l.startsWith(";")) {
                continue;
            }
            int eq = l.indexOf('=');
            if (eq <= 0) {
                continue;
            }
            String key = l.substring(0, eq).strip();
            if (!NAME.matcher(key).matches()) {
                continue;
            }
            out.put(key, value(l.substring(eq + 1).strip()));
        }
        return out;
    }

    private static String value(String v) {
        if (v.length() >= 2 && v.startsWith("'") && v.endsWith("'")) {
            return v.substring(1, v.length() - 1);
        }
        if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
            StringBuilder b = new StringBuilder();
            String inner = v.substring(1, v.length() - 1);
            for (int i = 0; i < inner.length(); i++) {
                char c = inner.charAt(i);
                if (c == '\\' && i + 1 < inner.length()) {
                    b.append(inner.charAt(++i));
                } else {
                    b.append(c);
                }
            }
            return b.toString();
        }
        return v;
    }
}
