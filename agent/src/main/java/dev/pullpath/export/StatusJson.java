package dev.pullpath.export;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.schedule.FleetCadence;
import dev.pullpath.schedule.FleetSize;
import dev.pullpath.schedule.RegistrySchedule;

/**
 * One target of {@code /status}: its diagnosis ({@link ReportJson}), and for a registry target where its checks
 * stand, {@code registrySchedule}: whether one has run on this node, when the next is due, the per-node interval,
 * the requests per check, the fleet's budget and the fleet size in force with its source. A node whose first check
 * is days away says so rather than letting the cheap hops pass for the whole path.
 */
final class StatusJson {
    private StatusJson() {
    }

    static String line(TargetReport report, RegistrySchedule schedule, FleetCadence fleet) {
        if (schedule == null) {
            return ReportJson.line(report);
        }
        ObjectNode node = ReportJson.mapper().valueToTree(report);
        ObjectNode s = node.putObject("registrySchedule");
        s.put("checked", schedule.checked());
        s.put("nextCheckAt", schedule.nextCheckAt().toString());
        s.put("intervalSeconds", schedule.interval().toMillis() / 1000.0);
        s.put("requestsPerCheck", schedule.requestsPerCheck());
        s.put("fleetBudgetRequestsPerSecond", fleet.budget());
        FleetSize size = fleet.size();
        s.put("fleetSize", size.nodes());
        s.put("fleetSizeSource", size.source());
        s.put("fleetSizeAt", size.at().toString());
        return node.toString();
    }
}
