package dev.pullpath.probe;

/** How far along the pull path a probe goes. Each depth includes the hops before it. */
public enum Depth {
    /** Resolve only. */
    DNS,
    /** Resolve and connect. */
    TCP,
    /** Resolve, connect and complete a TLS handshake: cheap, no request reaches the registry. */
    TLS,
    /**
     * Up to the registry's version check, {@code GET /v2/}: one request, no token. What a blackbox
     * {@code http_2xx} probe does, and what {@code /probe} runs while the registry is not rate limiting.
     */
    HTTP,
    /** The whole path: also {@code GET /v2/} and the anonymous token, which the registry counts. */
    REGISTRY;

    /** This depth sends {@code GET /v2/}. */
    public boolean reachesHttp() {
        return compareTo(HTTP) >= 0;
    }
}
