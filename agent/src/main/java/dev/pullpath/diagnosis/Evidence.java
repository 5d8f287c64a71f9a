package dev.pullpath.diagnosis;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** What the hops saw, structured for machines. Every field is optional: a hop that did not run leaves it null. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Evidence(Dns dns, Tls tls, Http http, Token token, Proxy proxy, List<Credential> credentials,
                       Trace trace, Layer layer) {

    public Evidence(Dns dns, Tls tls, Http http, Token token, Proxy proxy, List<Credential> credentials,
                    Trace trace) {
        this(dns, tls, http, token, proxy, credentials, trace, null);
    }

    public Evidence(Dns dns, Tls tls, Http http, Token token) {
        this(dns, tls, http, token, null, null, null);
    }

    public Evidence(Dns dns, Tls tls, Http http, Token token, Proxy proxy) {
        this(dns, tls, http, token, proxy, null, null);
    }

    public Evidence(Dns dns, Tls tls, Http http, Token token, Proxy proxy, List<Credential> credentials) {
        this(dns, tls, http, token, proxy, credentials, null);
    }

    public Evidence withCredentials(List<Credential> found) {
        return new Evidence(dns, tls, http, token, proxy, found == null || found.isEmpty() ? null : List.copyOf(found),
                trace, layer);
    }

    public Evidence withTrace(Trace found) {
        return new Evidence(dns, tls, http, token, proxy, credentials, found, layer);
    }

    public Evidence withLayer(Layer found) {
        return new Evidence(dns, tls, http, token, proxy, credentials, trace, found);
    }

    /**
     * The layer hop: which blob of which manifest was fetched, and every request on the way to the host that
     * served it (the registry, then each redirect).
     *
     * @param image     the image as given ({@code team/app:1.0})
     * @param platform  the platform picked from an index ({@code linux/arm64}), or null for a single manifest
     * @param blob      the digest of the blob fetched (the smallest the manifest names, normally its config)
     * @param blobSize  its size in bytes, as the manifest gives it
     * @param requests  each request in order: the registry's, then each redirect's
     * @param layerHost the host that answered last when it is not the registry ({@code host:port}), else null
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Layer(String image, String platform, String blob, Long blobSize, List<LayerRequest> requests,
                        String layerHost) {
        public Layer {
            requests = requests == null ? List.of() : List.copyOf(requests);
        }
    }

    /**
     * One request of the layer hop.
     *
     * @param url           the URL asked, its query values redacted (presigned URLs carry credentials)
     * @param host          {@code host:port} it went to
     * @param authorization whether the registry's Authorization went with it (never to another host)
     * @param statusLine    what it answered, or null when it did not
     * @param headers       the headers that say who answered (server, via, x-cache, location redacted)
     * @param failure       the {@code category/reason} of a request that got no answer, or a refusal
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record LayerRequest(String url, String host, boolean authorization, String statusLine,
                               Map<String, String> headers, String failure) {
    }

    /**
     * Where SYNs to the address die: connects with a hop limit of 1, 2, 3 ..., each answered by ICMP time-exceeded
     * from that hop, until a hop stays silent, rejects, or the destination answers.
     *
     * @param destination   the address and port traced
     * @param hops          every hop that answered, in order, and the one that did not
     * @param silentFromHop the first hop that answered nothing within its wait, or null
     * @param reached       whether the destination itself answered (SYN-ACK or RST) on some hop limit
     * @param summary       one line: "SYN to 203.0.113.10:443 answered up to hop 2 (10.0.0.1), silent from hop 3"
     * @param tracedAt      when the trace ran, RFC 3339 (the daemon keeps a trace for a while: it is rate limited)
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Trace(String destination, List<TraceHop> hops, Integer silentFromHop, boolean reached,
                        String summary, @JsonSerialize(using = ToStringSerializer.class) Instant tracedAt) {
        public Trace {
            hops = List.copyOf(hops);
        }
    }

    /**
     * One hop limit of a trace.
     *
     * @param address who answered (the router's ICMP source, or the destination), null when nothing did
     * @param rttMs   from connect(2) to the answer, or to giving up on this hop
     * @param answer  {@code time_exceeded}, {@code destination} (SYN-ACK), {@code reset} (RST), an ICMP
     *                unreachable ({@code "ICMP administratively prohibited (type 3 code 13)"}), or {@code silent}
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record TraceHop(int hop, String address, double rttMs, String answer) {
    }

    /**
     * A stored login found for the target, as evidence: where it is and what it is, never the secret.
     *
     * @param checked what the registry answered when it was sent, if it was
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Credential(String source, String location, String user,
                             @JsonSerialize(using = ToStringSerializer.class) Instant expiresAt, String problem,
                             String checked) {
    }

    /**
     * The HTTPS proxy the path went through: its URL without credentials, the address used, and what it answered
     * to CONNECT (status line, the headers that identify it, a bounded body snippet).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Proxy(String proxy, String address, String connectStatusLine, Map<String, String> headers,
                        String bodySnippet) {
    }

    /**
     * @param source      {@code dns}, {@code hosts-file} or {@code literal}
     * @param name        the name whose answer was used (after search-list expansion)
     * @param cnameChain  the CNAMEs followed from {@code name}, in order
     * @param answers     the addresses, in answer order
     * @param minTtl      the smallest TTL on the path, seconds
     * @param queries     every query sent, with its server and outcome
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Dns(String source, String name, List<String> cnameChain, List<String> answers, Long minTtl,
                      String hostsFileLine, List<DnsQuery> queries) {
    }

    /** One query on the wire: {@code rcode} is the DNS rcode name, or {@code timeout}/{@code error}. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record DnsQuery(String name, String type, String server, String rcode, int answers, double durationMs,
                           String error) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Tls(String address, String protocol, String cipherSuite, String alpn,
                      @JsonSerialize(using = ToStringSerializer.class) Instant earliestNotAfter,
                      List<Certificate> chain) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Certificate(String subject, String issuer, List<String> subjectAltNames,
                              @JsonSerialize(using = ToStringSerializer.class) Instant notBefore,
                              @JsonSerialize(using = ToStringSerializer.class) Instant notAfter, String sha256) {
    }

    /** A response as evidence: status line, the headers that identify who answered, a bounded, redacted body. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Http(String address, String protocol, String statusLine, Map<String, String> headers,
                       String bodySnippet, Challenge challenge) {
    }

    /** A parsed {@code Www-Authenticate} challenge. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Challenge(String scheme, String realm, String service, String scope) {
    }

    /** The anonymous token hop: never the token itself. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Token(String realm, String statusLine, Long expiresInSeconds, String retryStatusLine) {
    }
}
