package dev.pullpath.diagnosis;

import com.fasterxml.jackson.annotation.JsonValue;

/** A hop of the pull path, in the order a pull walks it. The label is stable API (metric label {@code phase}). */
public enum Phase {
    DNS("dns"),
    /** TCP to the HTTPS proxy, when one is in use. */
    PROXY_CONNECT("proxy_connect"),
    /** CONNECT through the proxy to the target. */
    PROXY_TUNNEL("proxy_tunnel"),
    CONNECT("connect"),
    TLS("tls"),
    HTTP("http"),
    TOKEN("token"),
    /** The registry check repeated with a stored login, as a client holding one would pull. */
    AUTH("auth"),
    /** HEAD of an image's manifest ({@code --image}), as the first request of a pull. */
    MANIFEST("manifest"),
    /**
     * The smallest blob of the image ({@code GET /v2/REPO/blobs/DIGEST}, one byte of it), following the registry's
     * redirect to the host that serves layers (a CDN, S3) and walking that host as the registry's own.
     */
    LAYER("layer");

    private final String label;

    Phase(String label) {
        this.label = label;
    }

    /** A hop that asks the registry itself: counted against its rate limit, run less often by the daemon. */
    public boolean registryHop() {
        return this == HTTP || this == TOKEN || this == AUTH || this == MANIFEST || this == LAYER;
    }

    @JsonValue
    public String label() {
        return label;
    }
}
