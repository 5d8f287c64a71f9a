package dev.pullpath.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

    @ParameterizedTest(name = "{0} = {1} ms")
    @CsvSource({"500ms, 500", "2s, 2000", "1.5s, 1500", "5m, 300000", "1h, 3600000", "1m30s, 90000", "0.25s, 250"})
    void parsesGoStyleDurations(String text, long millis) {
        assertEquals(Duration.ofMillis(millis), Durations.parse(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "5", "s", "5 s", "-1s", "0s", "5x", "1d", "ms5", "2s junk"})
    void rejectsMalformedDurations(String text) {
        assertThrows(ConfigException.class, () -> Durations.parse(text));
    }

    @ParameterizedTest
    @CsvSource({"500, 500ms", "1500, 1.5s", "5000, 5s"})
    void formatsShortest(long millis, String text) {
        assertEquals(text, Durations.format(Duration.ofMillis(millis)));
    }
}
