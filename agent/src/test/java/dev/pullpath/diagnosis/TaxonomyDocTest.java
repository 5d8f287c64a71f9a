package dev.pullpath.diagnosis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** docs/taxonomy.md and {@link Reason} are the same list: a reason added in one place only fails here. */
class TaxonomyDocTest {
    private static final Pattern SECTION = Pattern.compile("^## `([a-z_]+)`", Pattern.MULTILINE);
    private static final Pattern ROW = Pattern.compile("^\\| `([a-z_]+)` \\|", Pattern.MULTILINE);

    @Test
    void everyReasonIsDocumentedAndEveryDocumentedReasonExists() throws Exception {
        String doc = Files.readString(Path.of("..", "docs", "taxonomy.md"));
        Set<String> documented = new TreeSet<>();
        Matcher sections = SECTION.matcher(doc);
        int[] starts = sections.results().mapToInt(r -> r.start()).toArray();
        sections.reset();
        int i = 0;
        while (sections.find()) {
            String category = sections.group(1);
            int end = i + 1 < starts.length ? starts[i + 1] : doc.length();
            Matcher rows = ROW.matcher(doc.substring(sections.start(), end));
            while (rows.find()) {
                documented.add(category + "/" + rows.group(1));
            }
            i++;
        }
        Set<String> inCode = Arrays.stream(Reason.values()).map(Reason::toString).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(inCode, documented);
    }

    @Test
    void reasonStringsAreUniqueSnakeCaseAndEveryFailureHasAHint() {
        Set<String> seen = new HashSet<>();
        for (Reason r : Reason.values()) {
            assertTrue(r.code().matches("[a-z]+(_[a-z]+)*"), r.code());
            assertTrue(seen.add(r.toString()), "duplicate " + r);
            if (!r.ok()) {
                assertFalse(r.hint("h", 443).isBlank(), "no hint for " + r);
            }
        }
        assertEquals(Reason.OK, Reason.values()[Reason.values().length - 1], "OK must rank best");
    }
}
