package dev.pullpath.export;

import dev.pullpath.Version;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Info;
import io.prometheus.metrics.instrumentation.jvm.ProcessMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.time.Instant;

/**
 * The agent's own registry: Micrometer's JVM binders, client_java's process metrics (RSS, CPU, file descriptors,
 * start time: Micrometer's uptime binder would duplicate the last), the agent
 * info and config-reload state, and room for {@link ProbeMetrics}. One registry, one scrape.
 */
public final class AgentMetrics implements AutoCloseable {
    private final PrometheusMeterRegistry meters;
    private final Gauge reloadSuccess;
    private final Gauge reloadTimestamp;
    private final JvmGcMetrics gc;

    public AgentMetrics(String node, String zone) {
        meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new JvmMemoryMetrics().bindTo(meters);
        new JvmThreadMetrics().bindTo(meters);
        new ClassLoaderMetrics().bindTo(meters);
        gc = new JvmGcMetrics();
        gc.bindTo(meters);
        PrometheusRegistry registry = meters.getPrometheusRegistry();
        ProcessMetrics.builder().register(registry);
        Info.builder().name("pullpath_agent")
                .help("The agent's version and where it runs; value 1")
                .labelNames("version", "node", "zone").register(registry)
                .setLabelValues(Version.get(), node, zone);
        reloadSuccess = Gauge.builder().withoutExemplars().name("pullpath_config_reload_success")
                .help("1 when the last configuration load or reload succeeded, 0 while an invalid one is refused")
                .register(registry);
        reloadTimestamp = Gauge.builder().withoutExemplars().name("pullpath_config_last_reload_success_timestamp_seconds")
                .unit(Unit.SECONDS).help("When a configuration was last loaded successfully, Unix time")
                .register(registry);
    }

    public PrometheusRegistry registry() {
        return meters.getPrometheusRegistry();
    }

    public void configLoaded(boolean ok) {
        reloadSuccess.set(ok ? 1 : 0);
        if (ok) {
            reloadTimestamp.set(Instant.now().getEpochSecond());
        }
    }

    @Override
    public void close() {
        gc.close();
        meters.close();
    }
}
