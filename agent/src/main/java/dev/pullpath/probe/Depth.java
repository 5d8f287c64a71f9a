package dev.pullpath.probe;

/** How far along the pull path a probe goes. Each depth includes the hops before it. */
public enum Depth {
    /** Resolve only. */
    DNS,
    /** Resolve and connect. */
    TCP,
    /** Resolve, connect and complete a TLS handshake: cheap, no request reaches the registry. */
    TLS,
    /** The whole path: also {@code GET /v2/} and the anonymous token, which the registry counts. */
    REGISTRY
}
