package dev.pullpath.probe;

import dev.pullpath.diagnosis.Phase;
import java.util.concurrent.CompletableFuture;

/**
 * One hop of the pull path, the seam every hop class implements: it takes what the hop before it produced and
 * answers its own result, which carries either the value the next hop goes on with or the diagnosis that stops the
 * path there. A hop never blocks the calling thread and always completes, within its phase timeout.
 *
 * @param <I> what the hop needs from the hop before it (an address, a connected channel, an HTTP connection)
 * @param <O> what it hands to the next one
 */
interface Hop<I, O> {
    /** The phase this hop reports as (its metric label). */
    Phase phase();

    CompletableFuture<PhaseResult<O>> run(I input, ProbeContext ctx);
}
