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
        // Slotted: rank r of M and its source, and when the fleet's previous slot was scheduled (rank r - 1's: a
        // schedule, not an observation); random: no rank known yet (no source answered, DNS only, a fixed size).
        s.put("placement", schedule.placement());
        if (schedule.rank() != null) {
            s.put("rank", schedule.rank().rank());
            s.put("rankOf", schedule.rank().members());
            s.put("rankSource", schedule.rank().source());
            s.put("fleetPreviousSlotScheduledAt", schedule.fleetPreviousAt().toString());
        }
        if (schedule.lastCheckAt() != null) {
            s.put("lastCheckAt", schedule.lastCheckAt().toString());
        }
        s.put("fleetBudgetRequestsPerSecond", fleet.budget());
        FleetSize size = fleet.size();
        s.put("fleetSize", size.nodes());
        s.put("fleetSizeSource", size.source());
        s.put("fleetSizeAt", size.at().toString());
        return node.toString();
    }
}
