package dev.pullpath.kubernetes;

import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state of the agent's link to the Kubernetes API, from two sources: the requests it sends (status patches,
 * Events) and the watch of its node's pods. One log line per change of state, and a gauge with one series per
 * state, 1 for the current one.
 */
final class ApiHealth {
    private static final Logger LOG = LoggerFactory.getLogger(ApiHealth.class);

    private final Gauge gauge;
    private ApiState requests = ApiState.OK;
    private ApiState watch = ApiState.OK;
    private ApiState shown;

    ApiHealth(PrometheusRegistry registry) {
        gauge = Gauge.builder().withoutExemplars().name("pullpath_kubernetes_api_state")
                .help("1 for the current state of the agent's link to the Kubernetes API (ok, unreachable, slow, "
                        + "unauthorized, forbidden, rejected, watch_closed), 0 for the others")
                .labelNames("state").register(registry);
        publish(null);
    }

    synchronized void request(ApiState state, String what, Throwable error) {
        requests = state;
        publish(error == null ? what : what + ": " + message(error));
    }

    synchronized void watch(ApiState state, Throwable error) {
        watch = state;
        publish(error == null ? "watch of the node's pods" : "watch of the node's pods: " + message(error));
    }

    /** The watch is not running and no error said why: closed, being re-established. */
    synchronized void watchClosed() {
        if (watch == ApiState.OK) {
            watch(ApiState.WATCH_CLOSED, null);
        }
    }

    synchronized ApiState state() {
        return requests != ApiState.OK ? requests : watch;
    }

    private void publish(String what) {
        ApiState now = state();
        if (now == shown) {
            return;
        }
        for (ApiState s : ApiState.values()) {
            gauge.labelValues(s.label()).set(s == now ? 1 : 0);
        }
        if (shown != null) {
            if (now == ApiState.OK) {
                LOG.info("Kubernetes API reachable again ({}): node condition, Events and pod diagnoses resume",
                        what);
            } else {
                LOG.warn("Kubernetes API {} ({}): probing and metrics go on, posting is retried with backoff",
                        now.label(), what);
            }
        }
        shown = now;
    }

    /** The exception's own words, one line, without a token (fabric8 never puts one in a message). */
    private static String message(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getMessage() == null) {
            root = root.getCause();
        }
        String m = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        m = m.replaceAll("\\s+", " ");
        return m.length() > 300 ? m.substring(0, 300) + "..." : m;
    }
}
