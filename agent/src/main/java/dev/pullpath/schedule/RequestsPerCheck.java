package dev.pullpath.schedule;

import dev.pullpath.config.TargetConfig;
import dev.pullpath.config.TargetKind;
import dev.pullpath.diagnosis.Phase;
import dev.pullpath.diagnosis.TargetReport;

/**
 * The HTTP requests one registry check of a target sends, which the fleet's budget divides: counted as the walk
 * sends them when no token is cached (at a fleet's cadence of hours, a token never is):
 * <ul>
 *   <li>{@code GET /v2/} (401 and its challenge), {@code GET} of the token, {@code GET /v2/} with it: 3;
 *   <li>with an image: the manifest {@code HEAD} (401), a token for {@code repository:REPO:pull}, the {@code HEAD}
 *       again: 3; the layer hop's manifest {@code GET}, the platform's manifest {@code GET} after an index, the blob
 *       {@code GET} (a redirect) and the {@code GET} at the layer host it redirects to: 4;
 *   <li>each stored login: {@code /v2/} with it and its token (2), and with an image its own manifest exchange (3).
 * </ul>
 * Stored logins are known only once a check has run; until then none are counted, after it those the check met.
 */
final class RequestsPerCheck {
    static final int VERSION_CHECK = 3;
    static final int MANIFEST = 3;
    static final int LAYER = 4;
    static final int LOGIN = 2;

    private RequestsPerCheck() {
    }

    /** Requests of one check of {@code target}, with the stored logins the last check ({@code last}, or null) met. */
    static int of(TargetConfig target, TargetReport last) {
        if (target.kind() != TargetKind.REGISTRY) {
            return 0;
        }
        int logins = last == null ? 0 : (int) last.phases().stream().filter(p -> p.phase() == Phase.AUTH).count();
        boolean image = target.image() != null;
        return VERSION_CHECK + (image ? MANIFEST + LAYER : 0) + logins * (LOGIN + (image ? MANIFEST : 0));
    }
}
