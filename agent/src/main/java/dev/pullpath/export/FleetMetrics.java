package dev.pullpath.export;

import dev.pullpath.config.TargetConfig;
import dev.pullpath.schedule.FleetSize;
import dev.pullpath.schedule.ProbeScheduler;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;

/**
 * The fleet's registry cadence as this node holds it, read at scrape time: the fleet size in force and its source,
 * the budget, and each registry target's per-node interval and next check. One series each (the fleet size's
 * {@code source} label is the current source), so a dashboard can sum the fleet's expected rate.
 */
public final class FleetMetrics {
    private FleetMetrics() {
    }

    public static void register(PrometheusRegistry registry, ProbeScheduler scheduler) {
        GaugeWithCallback.builder().name("pullpath_fleet_size")
                .help("The fleet size this node divides the registries' budget by; source: kubernetes (the "
                        + "DaemonSet), dns (the headless Service) or configured (fleet.size)")
                .labelNames("source")
                .callback(cb -> {
                    FleetSize size = scheduler.fleet().size();
                    cb.call(size.nodes(), size.source());
                }).register(registry);
        GaugeWithCallback.builder().name("pullpath_fleet_registry_budget_requests_per_second")
                .help("Requests per second the whole fleet may send each registry (fleet.registryBudget)")
                .callback(cb -> cb.call(scheduler.fleet().budget())).register(registry);
        GaugeWithCallback.builder().name("pullpath_registry_interval_seconds").unit(Unit.SECONDS)
                .help("This node's interval between registry checks of the target: max(registryInterval, fleet "
                        + "size x requests per check / budget)")
                .labelNames("target")
                .callback(cb -> each(scheduler, (t, s) -> cb.call(s.interval().toMillis() / 1000.0, t.name())))
                .register(registry);
        GaugeWithCallback.builder().name("pullpath_registry_next_check_timestamp_seconds").unit(Unit.SECONDS)
                .help("When this node's next registry check of the target is due, Unix time")
                .labelNames("target")
                .callback(cb -> each(scheduler, (t, s) -> cb.call(s.nextCheckAt().toEpochMilli() / 1000.0,
                        t.name())))
                .register(registry);
        // No series before the first check: a dashboard's max() over nodes is then the fleet's last check, and a
        // node that never checked does not pull it to 1970.
        GaugeWithCallback.builder().name("pullpath_registry_last_check_timestamp_seconds").unit(Unit.SECONDS)
                .help("When this node's last registry check of the target reached the registry, Unix time; "
                        + "max() over the fleet's nodes is when the fleet last checked it")
                .labelNames("target")
                .callback(cb -> each(scheduler, (t, s) -> {
                    if (s.lastCheckAt() != null) {
                        cb.call(s.lastCheckAt().toEpochMilli() / 1000.0, t.name());
                    }
                }))
                .register(registry);
    }

    private static void each(ProbeScheduler scheduler,
                             java.util.function.BiConsumer<TargetConfig, dev.pullpath.schedule.RegistrySchedule> out) {
        if (scheduler.config() == null) {
            return;
        }
        for (TargetConfig t : scheduler.config().targets()) {
            dev.pullpath.schedule.RegistrySchedule s = scheduler.registrySchedule(t.name());
            if (s != null) {
                out.accept(t, s);
            }
        }
    }
}
