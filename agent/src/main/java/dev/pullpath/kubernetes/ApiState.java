package dev.pullpath.kubernetes;

import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.InterruptedIOException;
import java.net.http.HttpTimeoutException;
import java.util.Locale;
import java.util.concurrent.TimeoutException;

/**
 * How the agent's last exchange with the Kubernetes API went: the label of {@code pullpath_kubernetes_api_state}.
 * Whatever it is, probes and metrics go on; only what is posted to the API waits, and is retried with backoff.
 */
public enum ApiState {
    OK,
    /** No connection or no answer: the API server is down, or the node cannot reach it. */
    UNREACHABLE,
    /** The request did not finish within its timeout: an overloaded API server. */
    SLOW,
    /** 401: the ServiceAccount token is missing, expired or not accepted. */
    UNAUTHORIZED,
    /** 403: RBAC does not allow what the agent asked for (see the ClusterRole in the manifests). */
    FORBIDDEN,
    /** Any other answer: 404 of the node, 409, 422, 5xx. */
    REJECTED,
    /** The watch of the node's pods is closed and being re-established. */
    WATCH_CLOSED;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** What a failed request says about the API. */
    static ApiState of(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof KubernetesClientException k && k.getCode() > 0) {
                return switch (k.getCode()) {
                    case 401 -> UNAUTHORIZED;
                    case 403 -> FORBIDDEN;
                    case 408, 504 -> SLOW;
                    default -> REJECTED;
                };
            }
            if (t instanceof HttpTimeoutException || t instanceof TimeoutException
                    || t instanceof InterruptedIOException) {
                return SLOW;
            }
        }
        return UNREACHABLE;
    }
}
