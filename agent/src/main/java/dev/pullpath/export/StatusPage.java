package dev.pullpath.export;

import dev.pullpath.Version;
import dev.pullpath.diagnosis.EndpointReport;
import dev.pullpath.diagnosis.PhaseReport;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.schedule.TargetStatus;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The human status page: server-rendered HTML, no script, readable from a node with curl, a laptop or a phone.
 * Written for the on-call engineer an alert woke up: worst target first, since when, the hop that failed and what it
 * saw, the hint, and a link to the runbook section of the diagnosis' category.
 */
final class StatusPage {
    /**
     * The runbook the alerts link to ({@code runbook_url} in dashboards/alerts/pullpath-rules.yaml): the same
     * placeholder base, so a page and an alert about one failure open the same section. A test keeps them equal.
     */
    static final String RUNBOOK = "https://github.com/pullpath/pullpath/blob/main/docs/runbook.md";
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'", Locale.ROOT)
            .withZone(ZoneOffset.UTC);

    /** Severity classes of the page, worst first: the order of the rows (the verdict's own order, reversed). */
    enum State {
        FAIL, WARN, OK;

        final String css = name().toLowerCase(Locale.ROOT);

        static State of(TargetReport r) {
            return valueOf(r.verdict().name());
        }
    }

    // Small on purpose: no external resource (the CSP allows none), wraps long URLs and summaries instead of
    // scrolling sideways on a phone, dark when the device is (it is 3 a.m.).
    private static final String CSS = "*{box-sizing:border-box}"
            + "body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;padding:.75em;max-width:62em;color:#1c1c1c;"
            + "background:#fff;overflow-wrap:anywhere}"
            + "h1{font-size:1.25em;margin:.2em 0}h2{font-size:1.1em;margin:0 0 .3em}"
            + "header p{margin:.25em 0;color:#555}a{color:#0b57d0}"
            + ".summary{font-weight:600;padding:.45em .7em;border-radius:.3em}"
            + "section{border:1px solid #ddd;border-left:.45em solid #999;border-radius:.3em;padding:.6em .8em;"
            + "margin:.7em 0}section p{margin:.25em 0}"
            + ".fail{border-left-color:#c5221f}.warn{border-left-color:#b06000}.ok{border-left-color:#188038}"
            + ".summary.fail{background:#fce8e6;color:#a50e0e}.summary.warn{background:#fef7e0;color:#7a4100}"
            + ".summary.ok{background:#e6f4ea;color:#0d652d}"
            + ".badge{display:inline-block;min-width:3.2em;text-align:center;border-radius:.25em;color:#fff;"
            + "font-size:.85em;padding:0 .35em;margin-right:.35em}"
            + ".fail .badge{background:#c5221f}.warn .badge{background:#b06000}.ok .badge{background:#188038}"
            + "code{font:13px ui-monospace,monospace}small,.meta{color:#5f6368;font-size:13px}"
            + ".hint{background:#f1f3f4;padding:.35em .55em;border-radius:.25em}"
            + "ul{margin:.25em 0;padding-left:1.2em}time{white-space:nowrap}"
            + "@media (prefers-color-scheme:dark){body{background:#121212;color:#e8eaed}header p,small,.meta{color:#9aa0a6}"
            + "section{border-color:#3c4043}.hint{background:#202124}a{color:#8ab4f8}"
            + ".summary.fail{background:#3b1412;color:#f6aea9}.summary.warn{background:#3a2a05;color:#fdd663}"
            + ".summary.ok{background:#0f2e1a;color:#81c995}}";

    private StatusPage() {
    }

    static String render(String node, String zone, List<TargetStatus> statuses, boolean ready, Instant now) {
        List<TargetStatus> rows = statuses.stream().sorted(Comparator
                .comparing((TargetStatus s) -> State.of(s.report()))
                // Within a state, the longest-standing first: the outage that started it all leads.
                .thenComparing(TargetStatus::since)
                .thenComparing(s -> s.report().target())).toList();
        long failing = rows.stream().filter(s -> State.of(s.report()) == State.FAIL).count();
        long warning = rows.stream().filter(s -> State.of(s.report()) == State.WARN).count();
        State worst = rows.isEmpty() ? State.OK : State.of(rows.get(0).report());

        StringBuilder b = new StringBuilder(8192);
        b.append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">")
                .append("<meta http-equiv=\"refresh\" content=\"15\"><title>")
                .append(failing > 0 ? failing + " failing · " : warning > 0 ? warning + " warning · " : "OK · ")
                .append("pullpath on ").append(esc(node)).append("</title><style>").append(CSS)
                .append("</style></head><body><header><h1>pullpath on <b>").append(esc(node)).append("</b></h1><p>")
                .append(zone.isEmpty() ? "" : "zone <b>" + esc(zone) + "</b> &middot; ")
                .append("version ").append(esc(Version.get())).append(" &middot; as of ").append(time(now))
                .append(" &middot; <a href=\"/status\">JSON</a> &middot; <a href=\"/metrics\">metrics</a></p>")
                .append("<p class=\"summary ").append(worst.css).append("\">");
        if (rows.isEmpty()) {
            b.append("no targets configured");
        } else {
            b.append(failing).append(" failing, ").append(warning).append(warning == 1 ? " warning, " : " warnings, ")
                    .append(rows.size() - failing - warning).append(" ok of ").append(rows.size())
                    .append(rows.size() == 1 ? " target" : " targets");
        }
        if (!ready) {
            b.append(" &middot; first round of probes still running");
        }
        b.append("</p></header><main>");
        for (TargetStatus s : rows) {
            target(b, s, now);
        }
        return b.append("</main></body></html>\n").toString();
    }

    private static void target(StringBuilder b, TargetStatus s, Instant now) {
        TargetReport r = s.report();
        State state = State.of(r);
        b.append("<section class=\"").append(state.css).append("\" data-target=\"").append(esc(r.target()))
                .append("\" data-state=\"").append(state).append("\"><h2><span class=\"badge\">").append(state)
                .append("</span>").append(esc(r.target())).append(" <small>")
                .append(esc(s.config().target().authority())).append(" &middot; ")
                .append(esc(s.config().kind().label())).append("</small></h2>");
        b.append("<p><code class=\"reason\">").append(esc(r.category())).append('/').append(esc(r.reason()))
                .append("</code> <span class=\"since\">since ").append(time(s.since())).append(" (")
                .append(ago(Duration.between(s.since(), now))).append(" ago)</span></p>");
        if (state != State.OK) {
            hop(b, r);
            trace(b, r);
            b.append("<p class=\"hint\"><b>hint:</b> ").append(esc(r.hint())).append("</p>")
                    .append("<p><a class=\"runbook\" href=\"").append(RUNBOOK).append('#').append(esc(r.category()))
                    .append("\">runbook: ").append(esc(r.category())).append(" &rarr;</a></p>");
        }
        if (r.endpoints() != null && !r.endpoints().isEmpty()) {
            EndpointReport named = state == State.OK ? null : failedEndpoint(r);
            b.append("<ul class=\"endpoints\">");
            for (EndpointReport e : r.endpoints()) {
                // The host already named as the failed hop is not described twice.
                b.append("<li>").append(e.ok() ? "&#10003; " : "&#10007; ").append(esc(e.endpoint())).append(" <code>")
                        .append(esc(e.category())).append('/').append(esc(e.reason())).append("</code>")
                        .append(e.ok() || e == named ? "" : "<br><small>" + esc(e.summary()) + "</small>")
                        .append("</li>");
            }
            b.append("</ul>");
        }
        b.append("<p class=\"phases meta\">");
        for (int i = 0; i < r.phases().size(); i++) {
            PhaseReport p = r.phases().get(i);
            b.append(i == 0 ? "" : " &rarr; ").append(esc(p.phase().label())).append(' ')
                    .append(String.format(Locale.ROOT, "%.1f ms", p.durationMs())).append(p.ok() ? "" : " &#10007;");
        }
        b.append("</p><p class=\"checked meta\">probed ").append(stamp(r.checkedAt(), now));
        if (r.registryCheckedAt() != null) {
            b.append(" &middot; registry checked ").append(stamp(r.registryCheckedAt(), now));
        }
        b.append(" &middot; ").append(s.probes()).append(s.probes() == 1 ? " probe" : " probes").append("</p></section>");
    }

    /**
     * The hop that failed and what it saw. A warning has no failing hop on the path that decided: a mirror that
     * failed before a working host is named from the endpoints, any other warning by its summary.
     */
    private static void hop(StringBuilder b, TargetReport r) {
        PhaseReport failed = failedPhase(r);
        b.append("<p class=\"hop\">");
        if (failed != null) {
            b.append("failed at <b>").append(esc(failed.phase().label())).append("</b>: ")
                    .append(esc(failed.detail() == null || failed.detail().isBlank() ? r.summary() : failed.detail()));
        } else {
            EndpointReport endpoint = failedEndpoint(r);
            if (endpoint != null) {
                b.append("failed at <b>").append(esc(endpoint.endpoint())).append("</b>: ").append(esc(endpoint.summary()));
            } else {
                b.append(esc(r.summary()));
            }
        }
        b.append("</p>");
    }

    /** Where the SYNs stop, when a timed-out connect was traced: the line, then each hop that answered or not. */
    private static void trace(StringBuilder b, TargetReport r) {
        dev.pullpath.diagnosis.Evidence.Trace t = r.evidence() == null ? null : r.evidence().trace();
        if (t == null) {
            return;
        }
        b.append("<p class=\"trace\"><b>traceroute:</b> ").append(esc(t.summary())).append("</p><ol class=\"hops meta\">");
        for (dev.pullpath.diagnosis.Evidence.TraceHop h : t.hops()) {
            b.append("<li value=\"").append(h.hop()).append("\">").append(esc(h.address() == null ? "*" : h.address()))
                    .append(' ').append(String.format(Locale.ROOT, "%.1f ms", h.rttMs())).append(' ')
                    .append(esc(h.answer())).append("</li>");
        }
        b.append("</ol>");
    }

    private static PhaseReport failedPhase(TargetReport r) {
        return r.phases().stream().filter(p -> !p.ok()).findFirst().orElse(null);
    }

    /** The first host of the containerd pull path that failed, when no hop of the deciding host did. */
    private static EndpointReport failedEndpoint(TargetReport r) {
        if (failedPhase(r) != null || r.endpoints() == null) {
            return null;
        }
        return r.endpoints().stream().filter(e -> !e.ok()).findFirst().orElse(null);
    }

    /** A time of the report as the page writes times, with how long ago. */
    private static String stamp(Instant at, Instant now) {
        return at == null ? "never" : time(at) + " (" + ago(Duration.between(at, now)) + " ago)";
    }

    private static String time(Instant t) {
        return "<time datetime=\"" + DateTimeFormatter.ISO_INSTANT.format(t.truncatedTo(java.time.temporal.ChronoUnit.SECONDS))
                + "\">" + TIME.format(t) + "</time>";
    }

    private static String ago(Duration d) {
        long s = Math.max(0, d.toSeconds());
        return s < 120 ? s + "s" : s < 7200 ? s / 60 + "m" : s < 172800 ? s / 3600 + "h" : s / 86400 + "d";
    }

    static String esc(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
