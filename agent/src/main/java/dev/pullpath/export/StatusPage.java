package dev.pullpath.export;

import dev.pullpath.Version;
import dev.pullpath.diagnosis.PhaseReport;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.schedule.TargetStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/** The human status page: server-rendered HTML, no script, readable from a node with curl or a browser. */
final class StatusPage {
    private StatusPage() {
    }

    static String render(String node, String zone, List<TargetStatus> statuses, boolean ready, Instant now) {
        StringBuilder b = new StringBuilder(4096);
        b.append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta http-equiv=\"refresh\" content=\"15\"><title>pullpath on ").append(esc(node))
                .append("</title><style>")
                .append("body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}")
                .append("table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;")
                .append("padding:.4em .6em;text-align:left;vertical-align:top}th{background:#f4f4f4}")
                .append(".ok{color:#176f2c;font-weight:600}.fail{color:#b00020;font-weight:600}")
                .append("code{font-size:12px}small{color:#666}</style></head><body>")
                .append("<h1>pullpath</h1><p>node <b>").append(esc(node)).append("</b>")
                .append(zone.isEmpty() ? "" : " in zone <b>" + esc(zone) + "</b>")
                .append(" &middot; version ").append(esc(Version.get()))
                .append(ready ? "" : " &middot; <b>first round of probes still running</b>")
                .append(" &middot; <a href=\"/status\">JSON</a> &middot; <a href=\"/metrics\">metrics</a></p>")
                .append("<table><tr><th>target</th><th>state</th><th>diagnosis</th><th>since</th>")
                .append("<th>last phases</th><th>hint</th></tr>");
        for (TargetStatus s : statuses) {
            TargetReport r = s.report();
            b.append("<tr><td><b>").append(esc(r.target())).append("</b><br><small>")
                    .append(esc(s.config().target().authority())).append(" &middot; ")
                    .append(esc(s.config().kind().label())).append("</small></td><td class=\"")
                    .append(r.outcome() == dev.pullpath.diagnosis.Reason.OK ? "ok\">OK"
                            : r.ok() ? "fail\">WARN" : "fail\">FAIL").append("</td><td><code>").append(esc(r.category()))
                    .append('/').append(esc(r.reason())).append("</code><br><small>").append(esc(r.summary()))
                    .append("</small></td><td>").append(esc(s.since().toString())).append("<br><small>")
                    .append(esc(ago(Duration.between(s.since(), now)))).append(" ago</small></td><td><small>");
            for (PhaseReport p : r.phases()) {
                b.append(esc(p.phase().label())).append(' ')
                        .append(String.format(Locale.ROOT, "%.1f ms", p.durationMs()))
                        .append(p.ok() ? "" : " &#10007;").append("<br>");
            }
            b.append("</small></td><td><small>").append(esc(r.hint())).append("</small></td></tr>");
        }
        return b.append("</table></body></html>\n").toString();
    }

    private static String ago(Duration d) {
        long s = Math.max(0, d.toSeconds());
        return s < 120 ? s + "s" : s < 7200 ? s / 60 + "m" : s / 3600 + "h";
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
