package dev.pullpath.cli;

import dev.pullpath.diagnosis.AddressReport;
import dev.pullpath.diagnosis.PhaseReport;
import dev.pullpath.diagnosis.TargetReport;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The terminal view of a diagnosis: a block per target that reads on an 80-column terminal. */
final class HumanReport {
    private static final String RESET = "\u001b[0m";
    private static final String RED = "\u001b[31m";
    private static final String GREEN = "\u001b[32m";
    private static final String YELLOW = "\u001b[33m";
    private static final String BOLD = "\u001b[1m";
    private static final int PHASE_INDENT = 30;

    private final boolean ansi;
    private final int width;

    HumanReport(boolean ansi, int width) {
        this.ansi = ansi;
        this.width = width;
    }

    String render(TargetReport r) {
        StringBuilder b = new StringBuilder();
        dev.pullpath.diagnosis.Verdict v = r.verdict();
        boolean clean = v == dev.pullpath.diagnosis.Verdict.OK;
        String verdict = clean ? paint(GREEN, "OK")
                : paint(v == dev.pullpath.diagnosis.Verdict.WARN ? YELLOW : RED, v.name()) + "  " + paint(YELLOW,
                r.category() + "/" + r.reason());
        b.append(paint(BOLD, r.target())).append("  ").append(verdict).append('\n');
        if (r.endpoints() != null) {
            b.append("  pull path (containerd hosts.toml), in order:\n");
            for (dev.pullpath.diagnosis.EndpointReport e : r.endpoints()) {
                b.append("    ").append(e.ok() ? paint(GREEN, "ok  ") : paint(RED, "FAIL")).append("  ");
                appendWrapped(b, e.endpoint() + (e.ok() ? "" : ": " + e.category() + "/" + e.reason()), 10, width);
            }
        }
        for (PhaseReport p : r.phases()) {
            String head = String.format(Locale.ROOT, "  %-8s%9.1f ms  %s", p.phase().label(), p.durationMs(),
                    p.ok() ? paint(GREEN, "ok  ") : paint(RED, "FAIL"));
            b.append(head).append("  ");
            appendWrapped(b, p.detail(), PHASE_INDENT, width);
        }
        if (r.evidence() != null && r.evidence().credentials() != null) {
            b.append("  stored logins:\n");
            for (dev.pullpath.diagnosis.Evidence.Credential c : r.evidence().credentials()) {
                StringBuilder line = new StringBuilder(c.source()).append(" ").append(c.location());
                if (c.user() != null) {
                    line.append(", user ").append(c.user());
                }
                if (c.expiresAt() != null) {
                    line.append(", expires ").append(c.expiresAt());
                }
                if (c.problem() != null) {
                    line.append(": ").append(c.problem());
                }
                if (c.checked() != null) {
                    line.append("; registry answered ").append(c.checked());
                }
                b.append("    ");
                appendWrapped(b, line.toString(), 6, width);
            }
        }
        if (r.evidence() != null && r.evidence().trace() != null) {
            dev.pullpath.diagnosis.Evidence.Trace t = r.evidence().trace();
            b.append("  traceroute (TCP SYN to ").append(t.destination()).append("):\n");
            for (dev.pullpath.diagnosis.Evidence.TraceHop h : t.hops()) {
                b.append(String.format(Locale.ROOT, "    %2d  %-39s %8.1f ms  %s\n", h.hop(),
                        h.address() == null ? "*" : h.address(), h.rttMs(), h.answer()));
            }
        }
        if (r.addresses().size() > 1) {
            b.append("  addresses:\n");
            for (AddressReport a : r.addresses()) {
                String state = a.ok() ? paint(GREEN, "ok") : paint(RED, a.category() + "/" + a.reason());
                b.append("    ").append(String.format(Locale.ROOT, "%-39s %-5s ", a.address(), a.family()))
                        .append(state).append('\n');
            }
        }
        if (!clean) {
            b.append("  diagnosis: ");
            appendWrapped(b, r.summary(), 13, width);
            b.append("  hint: ");
            appendWrapped(b, r.hint(), 8, width);
        }
        b.setLength(b.length() - 1);
        return b.toString();
    }

    private String paint(String code, String text) {
        return ansi ? code + text + RESET : text;
    }

    /** Appends {@code text} word-wrapped to {@code width}, continuation lines indented by {@code indent}. */
    static void appendWrapped(StringBuilder b, String text, int indent, int width) {
        int room = Math.max(20, width - indent);
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String word : (text == null ? "" : text).split(" ")) {
            while (word.length() > room) {
                if (line.length() > 0) {
                    lines.add(line.toString());
                    line.setLength(0);
                }
                lines.add(word.substring(0, room));
                word = word.substring(room);
            }
            if (line.length() > 0 && line.length() + 1 + word.length() > room) {
                lines.add(line.toString());
                line.setLength(0);
            }
            if (line.length() > 0) {
                line.append(' ');
            }
            line.append(word);
        }
        lines.add(line.toString());
        String pad = " ".repeat(indent);
        for (int i = 0; i < lines.size(); i++) {
            b.append(i == 0 ? "" : pad).append(lines.get(i)).append('\n');
        }
    }
}
