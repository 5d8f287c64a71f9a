package dev.pullpath.probe;

import dev.pullpath.config.TargetKind;
import dev.pullpath.diagnosis.Phase;

/**
 * How far along the pull path a probe goes. Each depth includes the hops before it; {@link #includes(Phase)} is the
 * one place that says which hops a probe of this depth runs, and {@link #of(TargetKind, boolean)} the one place
 * that says which depth a target gets (for the daemon's schedule, {@code /probe} and the CLI alike).
 */
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

    /** Whether a probe of this depth runs {@code phase}. */
    public boolean includes(Phase phase) {
        return switch (phase) {
            case DNS -> true;
            case PROXY_CONNECT, PROXY_TUNNEL, CONNECT -> this != DNS;
            case TLS -> compareTo(TLS) >= 0;
            case HTTP -> compareTo(HTTP) >= 0;
            case TOKEN, AUTH, MANIFEST -> this == REGISTRY;
            case LAYER -> this == REGISTRY; // registry traffic, and more of it: never on /probe's HTTP depth
        };
    }

    /**
     * The depth of a target of {@code kind}'s probe: a registry's whole path when its registry hops are due (the
     * daemon runs them every registry interval), else the cheap hops, which do not touch the registry's API.
     */
    public static Depth of(TargetKind kind, boolean registryDue) {
        return switch (kind) {
            case REGISTRY -> registryDue ? REGISTRY : TLS;
            case TLS -> TLS;
            case TCP -> TCP;
            case DNS -> DNS;
        };
    }
}
