package dev.pullpath.diagnosis;

import java.util.regex.Pattern;

/**
 * The one place text from the network or from credential files is made safe to print, log or export: secrets are
 * replaced, control characters removed, the length bounded.
 */
public final class Redaction {
    public static final String REDACTED = "<redacted>";

    private static final Pattern JSON_SECRET = Pattern.compile(
            "(\"(?:token|access_token|refresh_token|id_token|identitytoken|password|secret|auth|authorization"
                    + "|registrytoken)\"\\s*:\\s*)\"(?:[^\"\\\\]++|\\\\.)*+\"", Pattern.CASE_INSENSITIVE);
    private static final Pattern AUTH_SCHEME_VALUE = Pattern.compile(
            "\\b(Bearer|Basic)\\s+[A-Za-z0-9._~+/=-]{8,}", Pattern.CASE_INSENSITIVE);
    private static final Pattern URL_USERINFO = Pattern.compile("(\\b[a-z][a-z0-9+.-]*://)[^/@\\s]+@",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern QUERY_SECRET = Pattern.compile(
            "([?&](?:token|access_token|password|x-amz-security-token|x-amz-signature|x-amz-credential)=)[^&\\s\"]+",
            Pattern.CASE_INSENSITIVE);

    private Redaction() {
    }

    /** Secrets out, one line, at most {@code max} characters. */
    public static String snippet(String text, int max) {
        if (text == null) {
            return null;
        }
        String s = redact(text);
        StringBuilder out = new StringBuilder(Math.min(s.length(), max + 1));
        boolean space = false;
        for (int i = 0; i < s.length() && out.length() < max; i++) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c) || Character.isISOControl(c)) {
                if (!space && out.length() > 0) {
                    out.append(' ');
                }
                space = true;
            } else {
                out.append(c);
                space = false;
            }
        }
        String result = out.toString().strip();
        return s.length() > max ? result + "..." : result;
    }

    public static String redact(String text) {
        if (text == null) {
            return null;
        }
        String s = JSON_SECRET.matcher(text).replaceAll("$1\"" + REDACTED + "\"");
        s = AUTH_SCHEME_VALUE.matcher(s).replaceAll("$1 " + REDACTED);
        s = URL_USERINFO.matcher(s).replaceAll("$1" + REDACTED + "@");
        return QUERY_SECRET.matcher(s).replaceAll("$1" + REDACTED);
    }
}
