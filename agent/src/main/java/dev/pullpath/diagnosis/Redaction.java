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
            "([?&](?:token|access_token|password|x-amz-security-token|x-amz-signature|x-amz-credential|signature"
                    + "|x-goog-signature|x-goog-credential|sig|key-pair-id|policy)=)[^&\\s\"]+",
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

    /**
     * A URL as evidence: user info and every query value replaced, the names kept. A blob's presigned URL (S3's
     * {@code X-Amz-Signature} and {@code X-Amz-Credential}, CloudFront's {@code Signature}, {@code Key-Pair-Id},
     * GCS's {@code X-Goog-*}) is a bearer credential until it expires, whatever its parameters are called.
     */
    public static String url(String url, int max) {
        if (url == null) {
            return null;
        }
        int q = url.indexOf('?');
        String base = q < 0 ? url : url.substring(0, q);
        if (q >= 0) {
            StringBuilder b = new StringBuilder(base).append('?');
            String[] params = url.substring(q + 1).split("&", -1);
            for (int i = 0; i < params.length; i++) {
                int eq = params[i].indexOf('=');
                b.append(i == 0 ? "" : "&").append(eq < 0 ? params[i] : params[i].substring(0, eq) + "=" + REDACTED);
            }
            base = b.toString();
        }
        return snippet(base, max);
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
