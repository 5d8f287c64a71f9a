package dev.pullpath.probe;

import dev.pullpath.config.ConfigException;
import dev.pullpath.config.Target;
import dev.pullpath.diagnosis.Diagnosis;
import dev.pullpath.diagnosis.Phase;
import dev.pullpath.diagnosis.Reason;
import io.netty.handler.codec.http.HttpMethod;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The first request of a pull: {@code HEAD /v2/REPO/manifests/REF} with the media types containerd accepts, and on
 * a Bearer challenge a token for the repository's pull scope, anonymously or with a stored login. A 404 here is an
 * image that is not there (a typo, a deleted tag), which no other hop can tell.
 */
public final class ManifestProbe implements Hop<ManifestProbe.Request, String> {
    /** What containerd's resolver asks for (OCI index and manifest, Docker list and manifest). */
    static final String ACCEPT = String.join(", ", "application/vnd.oci.image.index.v1+json",
            "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.docker.distribution.manifest.v2+json");
    private static final Pattern REFERENCE = dev.pullpath.config.TargetConfig.IMAGE_REFERENCE;

    private final long timeoutMillis;

    /** A repository and a tag or digest. */
    public record Image(String repository, String reference) {
        String path() {
            return "/v2/" + repository + "/manifests/" + reference;
        }

        @Override
        public String toString() {
            return repository + (reference.startsWith("sha256:") ? "@" : ":") + reference;
        }
    }

    public ManifestProbe(long timeoutMillis) {
        this.timeoutMillis = timeoutMillis;
    }

    /** Parses {@code REPO:TAG} or {@code REPO@sha256:...}, with an optional leading registry host. */
    public static Image parse(String text, String registryHost) {
        String s = text.strip();
        if (s.startsWith(registryHost + "/")) {
            s = s.substring(registryHost.length() + 1);
        }
        Matcher m = REFERENCE.matcher(s);
        if (!m.matches()) {
            throw new ConfigException("--image '" + text + "': expected REPOSITORY:TAG or REPOSITORY@sha256:DIGEST");
        }
        return new Image(m.group(1), m.group(2) != null ? m.group(2) : m.group(3));
    }

    @Override
    public Phase phase() {
        return Phase.MANIFEST;
    }

    /** HEAD of the image's manifest, anonymously or with one stored login. */
    @Override
    public CompletableFuture<PhaseResult<String>> run(Request r, ProbeContext ctx) {
        return check(r.image(), r.authorization(), r.who(), r.on().where(), PhaseClock.start(ctx.dialer()));
    }

    /**
     * @param authorization how the requests for the image's repository are authorized (anonymously or with one
     *                      stored login); the layer hop goes on with what it settled
     * @param who           how the login is named in the evidence ("anonymous", its store and user)
     */
    record Request(Image image, RegistryAuthorization authorization, String who, RegistryProbe.OnConnection on) {
    }

    private CompletableFuture<PhaseResult<String>> check(Image image, RegistryAuthorization authorization, String who,
                                                         String where, PhaseClock start) {
        String as = authorization.withLogin() ? "with " + who : "anonymously";
        return authorization.request(HttpMethod.HEAD, image.path(), Map.of("Accept", ACCEPT)).handle((answer, error) -> {
            if (error != null) {
                Diagnosis d = RegistryProbe.failedExchange(error, where, "HEAD " + image.path(), timeoutMillis);
                return PhaseResult.failed(Phase.MANIFEST, start.nanos(), d.reason(), d.summary(), "no answer");
            }
            String line = "HEAD manifest of " + image + " " + as + authorization.described() + " -> "
                    + answer.statusLine();
            int status = answer.status();
            if (status == 200) {
                String digest = answer.header("docker-content-digest");
                return PhaseResult.ok(Phase.MANIFEST, start.nanos(), line + (digest == null ? "" : ", " + digest),
                        answer.statusLine());
            }
            if (status == 404) {
                return PhaseResult.failed(Phase.MANIFEST, start.nanos(), Reason.REGISTRY_NOT_FOUND, where + ": " + line
                        + ": the image is not there (repository or tag)", answer.statusLine());
            }
            if (status == 400 || status == 401 || status == 403) {
                Reason r = !authorization.withLogin() ? Reason.AUTH_ANONYMOUS_DENIED : Reason.AUTH_CREDENTIALS_REJECTED;
                return PhaseResult.failed(Phase.MANIFEST, start.nanos(), r, where + ": " + line + RegistryProbe.bodyNote(answer),
                        answer.statusLine());
            }
            Diagnosis d = RegistryProbe.classify(answer, true);
            return d.ok() ? PhaseResult.ok(Phase.MANIFEST, start.nanos(), line, answer.statusLine())
                    : PhaseResult.failed(Phase.MANIFEST, start.nanos(), d.reason(), where + ": " + line + ": " + d.summary(),
                    answer.statusLine());
        });
    }
}
