package dev.pullpath.probe;

import dev.pullpath.config.ProbeOptions;
import dev.pullpath.config.Target;

/**
 * What every hop of one probe shares: the options, how far the probe goes, the host it walks, the phase timeout
 * (each hop's budget), and how to reach another host of the path (a token realm, a manifest's redirect).
 */
record ProbeContext(ProbeOptions options, Depth depth, Target target, long timeoutMillis, Dialer dialer) {

    /** The same probe, on another host of its path (a token realm reached through the proxy). */
    ProbeContext forTarget(Target other) {
        return other.equals(target) ? this : new ProbeContext(options, depth, other, timeoutMillis, dialer);
    }
}
