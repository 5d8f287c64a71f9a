package dev.pullpath.probe;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One challenge of a {@code WWW-Authenticate} field (RFC 7235 section 4.1): an auth-scheme with either a token68 or
 * comma-separated auth-params whose values are tokens or quoted-strings. One field may hold several challenges,
 * and commas separate both challenges and parameters: a parameter is {@code token BWS "=" BWS value}, anything else
 * after a comma starts the next challenge.
 */
public record AuthChallenge(String scheme, Map<String, String> params, String token68) {

    private static final int MAX_CHALLENGES = 16;
    private static final int MAX_PARAMS = 32;

    public String param(String name) {
        return params.get(name.toLowerCase(Locale.ROOT));
    }

    public boolean is(String wantedScheme) {
        return scheme.equalsIgnoreCase(wantedScheme);
    }

    /** Parses every challenge in {@code fields}; malformed trailing input ends parsing, never throws. */
    public static List<AuthChallenge> parse(List<String> fields) {
        List<AuthChallenge> out = new ArrayList<>();
        for (String field : fields) {
            new Parser(field).parseInto(out);
        }
        return out;
    }

    public static List<AuthChallenge> parse(String field) {
        return parse(List.of(field));
    }

    private static final class Parser {
        private final String s;
        private int i;

        Parser(String s) {
            this.s = s == null ? "" : s;
        }

        void parseInto(List<AuthChallenge> out) {
            while (out.size() < MAX_CHALLENGES) {
                skipListSeparators();
                if (i >= s.length()) {
                    return;
                }
                String scheme = token();
                if (scheme.isEmpty()) {
                    return; // not a token where a scheme must be: the rest is malformed
                }
                Map<String, String> params = new LinkedHashMap<>();
                String token68 = null;
                int afterScheme = i;
                skipSpaces();
                if (i > afterScheme && i < s.length() && s.charAt(i) != ',') {
                    int mark = i;
                    String t68 = token68();
                    skipSpaces();
                    if (!t68.isEmpty() && (i >= s.length() || s.charAt(i) == ',') && !looksLikeParam(mark)) {
                        token68 = t68;
                    } else {
                        i = mark;
                        readParams(params);
                    }
                }
                out.add(new AuthChallenge(scheme, Map.copyOf(params), token68));
            }
        }

        /** Reads {@code name=value} pairs until the next challenge or the end. */
        private void readParams(Map<String, String> params) {
            while (i < s.length() && params.size() < MAX_PARAMS) {
                int mark = i;
                String name = token();
                skipSpaces();
                if (name.isEmpty() || i >= s.length() || s.charAt(i) != '=') {
                    i = mark;
                    return;
                }
                i++;
                skipSpaces();
                String value = i < s.length() && s.charAt(i) == '"' ? quoted() : token();
                params.putIfAbsent(name.toLowerCase(Locale.ROOT), value);
                skipSpaces();
                if (i < s.length() && s.charAt(i) == ',') {
                    int comma = i;
                    skipListSeparators();
                    if (!looksLikeParam(i)) {
                        i = comma;
                        return;
                    }
                } else {
                    return;
                }
            }
        }

        private boolean looksLikeParam(int from) {
            int save = i;
            i = from;
            String name = token();
            skipSpaces();
            boolean param = !name.isEmpty() && i < s.length() && s.charAt(i) == '='
                    && !(i + 1 < s.length() && s.charAt(i + 1) == '=');
            i = save;
            return param;
        }

        private String token() {
            int start = i;
            while (i < s.length() && isTchar(s.charAt(i))) {
                i++;
            }
            return s.substring(start, i);
        }

        private String token68() {
            int start = i;
            while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || "-._~+/".indexOf(s.charAt(i)) >= 0)) {
                i++;
            }
            while (i < s.length() && s.charAt(i) == '=') {
                i++;
            }
            return s.substring(start, i);
        }

        private String quoted() {
            StringBuilder v = new StringBuilder();
            i++; // opening quote
            while (i < s.length()) {
                char c = s.charAt(i++);
                if (c == '\\' && i < s.length()) {
                    v.append(s.charAt(i++));
                } else if (c == '"') {
                    return v.toString();
                } else {
                    v.append(c);
                }
            }
            return v.toString(); // unterminated: keep what was there
        }

        private void skipSpaces() {
            while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) {
                i++;
            }
        }

        private void skipListSeparators() {
            while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t' || s.charAt(i) == ',')) {
                i++;
            }
        }

        private static boolean isTchar(char c) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
        }
    }
}
