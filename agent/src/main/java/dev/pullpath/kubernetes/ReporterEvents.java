package dev.pullpath.kubernetes;

import dev.pullpath.diagnosis.Reason;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.schedule.TargetStatus;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Events pullpath writes, on its node and on pods: named as the kubelet names its Events, with pullpath as
 * their source and reporting component.
 */
final class ReporterEvents {
    static final String COMPONENT = "pullpath";

    private final String node;
    private final Clock clock;
    private final AtomicLong sequence = new AtomicLong();

    ReporterEvents(String node, Clock clock) {
        this.node = node;
        this.clock = clock;
    }

    /** An Event about {@code about}, now. */
    Event event(String namespace, ObjectReference about, String type, String reason, String message) {
        Instant at = clock.instant();
        String ts = at.truncatedTo(ChronoUnit.SECONDS).toString();
        // As the kubelet names its Events: the object's name and a unique suffix.
        String name = about.getName() + "." + Long.toHexString(at.toEpochMilli()) + Long.toHexString(
                sequence.incrementAndGet());
        return new EventBuilder().withNewMetadata().withNamespace(namespace).withName(name).endMetadata()
                .withInvolvedObject(about).withType(type).withReason(reason).withMessage(message)
                .withNewSource().withComponent(COMPONENT).withHost(node).endSource()
                .withReportingComponent(COMPONENT).withReportingInstance(node)
                .withFirstTimestamp(ts).withLastTimestamp(ts).withCount(1).build();
    }

    /** The Event on the node for a change of one target's state: a Warning with the diagnosis, or its recovery. */
    Event nodeEvent(String target, TargetStatus previous, TargetStatus current) {
        TargetReport r = current.report();
        ObjectReference nodeRef = new ObjectReferenceBuilder().withKind("Node").withName(node)
                // The kubelet's node reference: the name as UID, which `kubectl describe node` searches too.
                .withUid(node).build();
        String type;
        String reason;
        String message;
        if (r.outcome() == Reason.OK) {
            type = "Normal";
            reason = "PullPathRecovered";
            TargetReport was = previous.report();
            // No time in the text: a flapping target's recoveries must be one aggregated Event (the correlator keys
            // on the message); the Warning before it carries when the failure began.
            message = "pullpath on " + node + ": " + target + " recovered, its pull path works (it was "
                    + was.category() + "/" + was.reason() + ")";
        } else {
            type = "Warning";
            reason = Wording.reason(r);
            message = Wording.diagnosis(node, r);
        }
        return event("default", nodeRef, type, reason, Wording.bounded(message));
    }
}
