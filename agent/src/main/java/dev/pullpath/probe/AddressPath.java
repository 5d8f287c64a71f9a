package dev.pullpath.probe;

import dev.pullpath.Version;
import dev.pullpath.config.ContainerdHosts;
import dev.pullpath.config.IpLiterals;
import dev.pullpath.config.ProbeOptions;
import dev.pullpath.config.ProxySettings;
import dev.pullpath.config.Target;
import dev.pullpath.diagnosis.AddressReport;
import dev.pullpath.diagnosis.Diagnosis;
import dev.pullpath.diagnosis.Evidence;
import dev.pullpath.diagnosis.Phase;
import dev.pullpath.diagnosis.PhaseReport;
import dev.pullpath.diagnosis.Reason;
import dev.pullpath.diagnosis.TargetReport;
import io.netty.channel.Channel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The path to one address as far as it went. {@code session} is open when TLS succeeded and HTTP has not yet
 * run; {@code http} and {@code token} are set on the address that carried the registry hops.
 */
    record AddressPath(InetAddress address, List<PhaseReport> phases, Diagnosis diagnosis,
                           TlsProbe.Session session, HttpConnection connection, Evidence.Http http,
                           Evidence.Token token) {

    AddressPath then(PhaseResult<?> step, Evidence.Http http, Evidence.Token token) {
        List<PhaseReport> more = new ArrayList<>(phases);
        more.add(step.report());
        return new AddressPath(address, List.copyOf(more), step.diagnosis(), session, connection, http, token);
    }

    void close() {
        if (connection != null) {
            connection.close();
        } else if (session != null && session.channel() != null) {
            session.channel().close();
        }
    }
    }
