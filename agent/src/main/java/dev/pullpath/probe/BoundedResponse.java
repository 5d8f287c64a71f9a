package dev.pullpath.probe;

import dev.pullpath.diagnosis.Redaction;
import io.netty.handler.codec.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An HTTP response read with bounds: headers as the codec limits them, at most {@code maxBody} bytes of body.
 *
 * @param truncated the body was longer than the bound; the rest was not read
 * @param keepAlive the server lets the connection carry another request (no {@code Connection: close})
 */
public record BoundedResponse(String protocol, int status, String reasonPhrase, HttpHeaders headers, byte[] body,
                              boolean truncated, boolean keepAlive) {

    /** Headers that say who answered and how; nothing else is kept as evidence (cookies and auth stay out). */
    private static final List<String> EVIDENCE_HEADERS = List.of("server", "via", "content-type", "content-length",
            "docker-distribution-api-version", "www-authenticate", "retry-after", "location", "x-cache",
            "x-amz-cf-pop", "x-squid-error");

    public String statusLine() {
        return status + (reasonPhrase == null || reasonPhrase.isEmpty() ? "" : " " + reasonPhrase);
    }

    public String header(String name) {
        return headers.get(name);
    }

    public List<String> all(String name) {
        return headers.getAll(name);
    }

    public String bodyText() {
        return new String(body, StandardCharsets.UTF_8);
    }

    public Map<String, String> evidenceHeaders() {
        Map<String, String> out = new LinkedHashMap<>();
        for (String name : EVIDENCE_HEADERS) {
            List<String> values = headers.getAll(name);
            if (!values.isEmpty()) {
                out.put(name, Redaction.snippet(String.join(", ", values), 300));
            }
        }
        return out;
    }

    public String contentType() {
        String ct = headers.get("content-type");
        return ct == null ? "" : ct.toLowerCase(Locale.ROOT);
    }
}
