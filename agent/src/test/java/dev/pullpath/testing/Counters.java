package dev.pullpath.testing;

import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;

/** Reads a counter's value out of a registry, as a scrape would show it. */
public final class Counters {
    private Counters() {
    }

    /** {@code name} (with its {@code _total}) where label {@code result} is {@code result}; 0 when not counted yet. */
    public static double value(PrometheusRegistry registry, String name, String result) {
        for (MetricSnapshot m : registry.scrape()) {
            if (m instanceof CounterSnapshot c && (m.getMetadata().getPrometheusName() + "_total").equals(name)) {
                for (CounterSnapshot.CounterDataPointSnapshot p : c.getDataPoints()) {
                    if (result.equals(p.getLabels().get("result"))) {
                        return p.getValue();
                    }
                }
            }
        }
        return 0;
    }
}
