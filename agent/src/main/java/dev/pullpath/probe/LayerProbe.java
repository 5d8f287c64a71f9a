package dev.pullpath.probe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pullpath.config.Target;
import dev.pullpath.diagnosis.Diagnosis;
import dev.pullpath.diagnosis.Evidence;
import dev.pullpath.diagnosis.Phase;
import dev.pullpath.diagnosis.PhaseReport;
import dev.pullpath.diagnosis.Reason;
import dev.pullpath.diagnosis.Redaction;
import io.netty.handler.codec.http.HttpMethod;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The layer hop: what a pull does after the manifest. The manifest is read (an index resolved to this node's
 * platform), its smallest blob asked for with {@code Range: bytes=0-0} and the registry's authorization, and the
 * registry's redirects followed as Go's HTTP client follows them (absolute or relative, at most 10) to the host that
 * serves layers: a CDN, S3. That host is walked by the walk's own dialer (the proxy containerd uses for it, DNS, TCP,
 * TLS with the same trust), then asked the same GET, without the registry's Authorization. 200 and 206 pass.
 *
 * <p>A failure at the layer host keeps the category and reason the hop it died at gives (a firewall dropping its
 * SYNs is {@code firewall/connect_timeout}); its summary starts with {@code layer host HOST:PORT}, which the hint
 * and the evidence name.
 */
public final class LayerProbe implements Hop<LayerProbe.Request, Evidence.Layer> {
    /** An index or manifest larger than this is not what a registry serves: read no further. */
    static final int MANIFEST_BOUND = 4 << 20;
    /** Of the blob, one byte is asked for; a host that ignores Range is read no further than this. */
    static final int BLOB_BOUND = 4 << 10;
    /** The whole hop's bound, in phase timeouts (PathProber's bound of a probe counts it). */
    static final int BUDGET_TIMEOUTS = 6;
    /** Go's http.Client stops after 10 redirects, and containerd's pull with it. */
    static final int MAX_REDIRECTS = 10;
    /** How much of a URL the evidence shows: a blob URL with its presigned query fits. */
    private static final int URL_SHOWN = 600;
    /** The prefix that marks a diagnosis as the layer host's (the hint names that host then). */
    public static final String LAYER_HOST = "layer host ";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final long timeoutMillis;
    private final ImageManifests.Platform platform;

    public LayerProbe(long timeoutMillis) {
        this(timeoutMillis, ImageManifests.node());
    }

    LayerProbe(long timeoutMillis, ImageManifests.Platform platform) {
        this.timeoutMillis = timeoutMillis;
        this.platform = platform;
    }

    @Override
    public Phase phase() {
        return Phase.LAYER;
    }

    /**
     * @param authorization the registry's authorization as the manifest hop settled it (reused: no second token)
     * @param where         the registry address, as the registry hops' evidence names it
     */
    record Request(ManifestProbe.Image image, RegistryAuthorization authorization, String where) {
    }

    /** The state of one run: the requests made so far, the connections opened to other hosts. */
    private final class Run {
        final PhaseClock start;
        final Request r;
        final Target registry;
        final Dialer dialer;
        final List<Evidence.LayerRequest> requests = new CopyOnWriteArrayList<>();
        final List<HttpConnection> opened = new CopyOnWriteArrayList<>();
        final Set<String> seen = new HashSet<>();
        volatile String platformShown;
        volatile ImageManifests.Descriptor blob;
        volatile String layerHost;

        Run(Request r, ProbeContext ctx) {
            this.r = r;
            this.registry = ctx.target();
            this.dialer = ctx.dialer();
            this.start = PhaseClock.start(dialer);
        }

        Evidence.Layer evidence() {
            return new Evidence.Layer(r.image().toString(), platformShown, blob == null ? null : blob.digest(),
                    blob == null || blob.size() == Long.MAX_VALUE ? null : blob.size(), List.copyOf(requests),
                    layerHost);
        }

        PhaseResult<Evidence.Layer> ok(String detail) {
            return PhaseResult.ok(Phase.LAYER, start.nanos(), detail, evidence());
        }

        PhaseResult<Evidence.Layer> failed(Reason reason, String summary) {
            if (reason.ok()) { // a warning: the hop passed, not the way it should
                return new PhaseResult<>(PhaseReport.of(Phase.LAYER, true, start.nanos(), summary), evidence(),
                        new Diagnosis(reason, summary));
            }
            return PhaseResult.failed(Phase.LAYER, start.nanos(), reason, summary, evidence());
        }
    }

    @Override
    public CompletableFuture<PhaseResult<Evidence.Layer>> run(Request r, ProbeContext ctx) {
        Run run = new Run(r, ctx);
        CompletableFuture<PhaseResult<Evidence.Layer>> result;
        try {
            result = manifest(run, r.image().reference(), true).thenCompose(blob -> blob.failure != null
                    ? CompletableFuture.completedFuture(blob.failure) : fetchBlob(run, blob.descriptor));
        } catch (RuntimeException e) {
            result = CompletableFuture.failedFuture(e);
        }
        // Bounded as a whole: each request and each hop of a new host has its own timeout, but a chain of slow
        // answers (manifest, index, blob, redirects) must still end in time.
        long budget = BUDGET_TIMEOUTS * timeoutMillis;
        CompletableFuture<PhaseResult<Evidence.Layer>> bounded = new CompletableFuture<>();
        Deadlines.bound(bounded, budget, run.dialer.pace(), () -> run.failed(Reason.REGISTRY_UNEXPECTED_RESPONSE,
                (run.layerHost == null ? r.where() : LAYER_HOST + run.layerHost) + ": " + trail(run)
                        + ": the layer hop did not end within " + budget + "ms"));
        result.exceptionally(error -> {
            Diagnosis d = RegistryProbe.failedExchange(error, r.where(), "layer hop", timeoutMillis);
            return run.failed(d.reason(), d.summary());
        }).whenComplete((p, e) -> {
            run.opened.forEach(HttpConnection::close);
            if (p != null) {
                bounded.complete(p);
            }
        });
        return bounded;
    }

    /** The blob to fetch, or why there is none. */
    private record Picked(ImageManifests.Descriptor descriptor, PhaseResult<Evidence.Layer> failure) {
    }

    /** GET of the manifest {@code reference}; an index is resolved once to this node's platform. */
    private CompletableFuture<Picked> manifest(Run run, String reference, boolean mayBeIndex) {
        String path = "/v2/" + run.r.image().repository() + "/manifests/" + reference;
        return run.r.authorization().request(HttpMethod.GET, path, Map.of("Accept", ManifestProbe.ACCEPT),
                MANIFEST_BOUND).thenCompose(answer -> {
                    String line = "GET manifest " + reference + " -> " + answer.statusLine();
                    if (answer.status() != 200) {
                        return done(new Picked(null, run.failed(registryRefusal(answer, run.r.authorization()),
                                run.r.where() + ": " + line + RegistryProbe.bodyNote(answer))));
                    }
                    JsonNode doc = parse(answer);
                    if (doc == null) {
                        return done(new Picked(null, run.failed(Reason.REGISTRY_UNEXPECTED_RESPONSE, run.r.where()
                                + ": " + line + (answer.truncated() ? ": larger than " + (MANIFEST_BOUND >> 20)
                                + " MiB" : ": not a JSON manifest"))));
                    }
                    if (ImageManifests.isIndex(doc, answer.contentType())) {
                        if (!mayBeIndex) {
                            return done(new Picked(null, run.failed(Reason.REGISTRY_UNEXPECTED_RESPONSE,
                                    run.r.where() + ": " + line + ": an index inside an index")));
                        }
                        var chosen = ImageManifests.forPlatform(doc, platform);
                        if (chosen.isEmpty()) {
                            return done(new Picked(null, run.failed(Reason.REGISTRY_PLATFORM_MISSING, run.r.where()
                                    + ": the index of " + run.r.image() + " has no manifest for " + platform
                                    + " (it has " + ImageManifests.platforms(doc) + ")")));
                        }
                        run.platformShown = platform.toString();
                        return manifest(run, chosen.get().digest(), false);
                    }
                    var blob = ImageManifests.smallestBlob(doc);
                    if (blob.isEmpty()) {
                        return done(new Picked(null, run.failed(Reason.REGISTRY_UNEXPECTED_RESPONSE, run.r.where()
                                + ": " + line + ": the manifest names no blob")));
                    }
                    run.blob = blob.get();
                    return done(new Picked(blob.get(), null));
                });
    }

    /** {@code GET /v2/REPO/blobs/DIGEST} on the registry, then wherever it redirects. */
    private CompletableFuture<PhaseResult<Evidence.Layer>> fetchBlob(Run run, ImageManifests.Descriptor blob) {
        String path = "/v2/" + run.r.image().repository() + "/blobs/" + blob.digest();
        URI url = URI.create("https://" + run.registry.authority() + path);
        run.seen.add(url.toString());
        return run.r.authorization().request(HttpMethod.GET, path, Map.of("Range", "bytes=0-0"), BLOB_BOUND)
                .thenCompose(answer -> {
                    run.requests.add(new Evidence.LayerRequest(Redaction.url(url.toString(), URL_SHOWN),
                            run.registry.authority(), run.r.authorization().header() != null, answer.statusLine(),
                            headers(answer), null));
                    return judge(run, url, answer, 0);
                });
    }

    /** Judges one answer of the blob GET: success, a redirect to follow, or a refusal. */
    private CompletableFuture<PhaseResult<Evidence.Layer>> judge(Run run, URI at, BoundedResponse answer,
                                                                 int redirects) {
        boolean onRegistry = sameHost(at, run.registry);
        String who = onRegistry ? run.r.where() : LAYER_HOST + authority(at) + " (the registry's blob redirect)";
        int status = answer.status();
        String trail = trail(run);
        if (status == 200 || status == 206) {
            return done(run.ok("GET blob " + run.blob.digest() + (run.platformShown == null ? "" : " (" + run
                    .platformShown + ")") + ": " + trail + (onRegistry ? ", served by the registry itself"
                    : ", served by " + authority(at))));
        }
        if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
            String location = answer.header("location");
            if (location == null || location.isBlank()) {
                return done(run.failed(Reason.REGISTRY_UNEXPECTED_RESPONSE, who + ": " + trail
                        + ": a redirect without a Location"));
            }
            URI next;
            try {
                next = at.resolve(location.strip());
            } catch (IllegalArgumentException e) {
                return done(run.failed(Reason.REGISTRY_UNEXPECTED_RESPONSE, who + ": " + trail
                        + ": a Location that is not a URL (" + Redaction.url(location, 120) + ")"));
            }
            return follow(run, next, redirects + 1);
        }
        if (status == 403) {
            return done(run.failed(Reason.REGISTRY_LAYER_DENIED, who + ": " + trail + LayerHosts.denial(answer)));
        }
        if (status == 404) {
            return done(run.failed(Reason.REGISTRY_LAYER_NOT_FOUND, who + ": " + trail + ": blob "
                    + run.blob.digest() + " not there" + RegistryProbe.bodyNote(answer)));
        }
        if (onRegistry && (status == 400 || status == 401)) {
            return done(run.failed(registryRefusal(answer, run.r.authorization()), who + ": " + trail
                    + RegistryProbe.bodyNote(answer)));
        }
        Diagnosis d = RegistryProbe.classify(answer, true);
        Reason reason = d.ok() ? Reason.REGISTRY_UNEXPECTED_RESPONSE : d.reason();
        return done(run.failed(reason, who + ": " + trail + ": " + (d.ok() ? "unexpected " + answer.statusLine()
                : d.summary())));
    }

    /** One redirect: checked (count, loop, scheme), then asked on the registry's connection or a new host's. */
    private CompletableFuture<PhaseResult<Evidence.Layer>> follow(Run run, URI next, int redirects) {
        String shown = Redaction.url(next.toString(), URL_SHOWN);
        if (redirects > MAX_REDIRECTS) {
            return done(run.failed(Reason.REGISTRY_REDIRECT_LOOP, run.r.where() + ": " + trail(run)
                    + ": stopped after " + MAX_REDIRECTS + " redirects, as containerd's HTTP client does"));
        }
        if (!run.seen.add(next.toString())) {
            return done(run.failed(Reason.REGISTRY_REDIRECT_LOOP, run.r.where() + ": " + trail(run)
                    + ": redirected back to " + shown + ", a loop"));
        }
        String scheme = next.getScheme() == null ? "" : next.getScheme().toLowerCase(Locale.ROOT);
        if (scheme.equals("http")) {
            run.requests.add(new Evidence.LayerRequest(shown, authority(next), false, null, null, "not followed"));
            return done(run.failed(Reason.REGISTRY_REDIRECT_INSECURE, run.r.where() + ": " + trail(run)
                    + ": the blob is served over plain http:// (" + shown + "); not followed"));
        }
        if (!scheme.equals("https") || next.getHost() == null) {
            return done(run.failed(Reason.REGISTRY_UNEXPECTED_RESPONSE, run.r.where() + ": " + trail(run)
                    + ": a redirect to " + shown + ", which no client follows"));
        }
        String pathAndQuery = (next.getRawPath() == null || next.getRawPath().isEmpty() ? "/" : next.getRawPath())
                + (next.getRawQuery() == null ? "" : "?" + next.getRawQuery());
        Map<String, String> range = Map.of("Range", "bytes=0-0");
        if (sameHost(next, run.registry)) {
            // The registry's own host keeps its authorization, as Go's client keeps it for the same host.
            return run.r.authorization().requestRaw(HttpMethod.GET, pathAndQuery, range, BLOB_BOUND)
                    .thenCompose(answer -> {
                        run.requests.add(new Evidence.LayerRequest(shown, authority(next),
                                run.r.authorization().header() != null, answer.statusLine(),
                                headers(answer), null));
                        return judge(run, next, answer, redirects);
                    });
        }
        String host = host(next);
        int port = next.getPort() < 0 ? Target.HTTPS_PORT : next.getPort();
        run.layerHost = authority(next);
        String who = LAYER_HOST + authority(next) + " (the registry's blob redirect)";
        return run.dialer.send(() -> connectionTo(run, host, port), c -> c.request(HttpMethod.GET, pathAndQuery,
                range, timeoutMillis, BLOB_BOUND)).handle((answer, error) -> {
                    if (error != null) {
                        Diagnosis d = RegistryProbe.failedExchange(error, authority(next), "GET " + shown,
                                timeoutMillis);
                        run.requests.add(new Evidence.LayerRequest(shown, authority(next), false, null, null,
                                d.reason().toString()));
                        return done(run.failed(d.reason(), who + ": " + d.summary()));
                    }
                    run.requests.add(new Evidence.LayerRequest(shown, authority(next), false, answer.statusLine(),
                            headers(answer), null));
                    return judge(run, next, answer, redirects);
                }).thenCompose(f -> f);
    }

    /** A connection to another host of the redirects: one already open for it, or one the walk dials. */
    private CompletableFuture<HttpConnection> connectionTo(Run run, String host, int port) {
        String authority = new Target(host, host, port).authority();
        for (HttpConnection c : run.opened) {
            if (c.isOpen() && c.authority().equals(authority)) {
                return CompletableFuture.completedFuture(c);
            }
        }
        return run.dialer.dial(host, port).thenApply(c -> {
            run.opened.add(c);
            return c;
        });
    }

    /** The answers so far, one arrow each: "registry 307 → cdn.example:443 403". */
    private static String trail(Run run) {
        List<String> parts = new ArrayList<>();
        for (Evidence.LayerRequest q : run.requests) {
            parts.add(q.host() + " " + (q.statusLine() != null ? q.statusLine() : q.failure()));
        }
        return "GET blob " + (run.blob == null ? "" : run.blob.digest() + " ") + String.join(" -> ", parts);
    }

    /** The headers that say who answered, a redirect's Location with its query values redacted. */
    private static Map<String, String> headers(BoundedResponse answer) {
        Map<String, String> h = new java.util.LinkedHashMap<>(answer.evidenceHeaders());
        if (answer.header("location") != null) {
            h.put("location", Redaction.url(answer.header("location"), URL_SHOWN));
        }
        return h;
    }

    /** The registry refusing the layer hop's own request (the manifest GET, the blob GET before any redirect). */
    private static Reason registryRefusal(BoundedResponse answer, RegistryAuthorization authorization) {
        int status = answer.status();
        if (status == 400 || status == 401 || status == 403) {
            return authorization.withLogin() ? Reason.AUTH_CREDENTIALS_REJECTED : Reason.AUTH_ANONYMOUS_DENIED;
        }
        if (status == 404) {
            return Reason.REGISTRY_NOT_FOUND;
        }
        Diagnosis d = RegistryProbe.classify(answer, true);
        return d.ok() ? Reason.REGISTRY_UNEXPECTED_RESPONSE : d.reason();
    }

    private static JsonNode parse(BoundedResponse answer) {
        if (answer.truncated()) {
            return null;
        }
        try {
            JsonNode doc = JSON.readTree(answer.body());
            return doc != null && doc.isObject() ? doc : null;
        } catch (java.io.IOException e) {
            return null;
        }
    }

    private static boolean sameHost(URI url, Target registry) {
        int port = url.getPort() < 0 ? Target.HTTPS_PORT : url.getPort();
        return host(url).equals(registry.host()) && port == registry.port()
                && "https".equalsIgnoreCase(url.getScheme());
    }

    private static String host(URI url) {
        return url.getHost().toLowerCase(Locale.ROOT).replaceAll("^\\[|]$", "");
    }

    private static String authority(URI url) {
        String host = url.getHost() == null ? "?" : host(url);
        int port = url.getPort() >= 0 ? url.getPort() : "http".equalsIgnoreCase(url.getScheme()) ? 80
                : Target.HTTPS_PORT;
        return new Target(host, host, port).authority();
    }

    private static <T> CompletableFuture<T> done(T value) {
        return CompletableFuture.completedFuture(value);
    }
}
