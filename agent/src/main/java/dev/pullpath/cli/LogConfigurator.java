package dev.pullpath.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import net.logstash.logback.encoder.LogstashEncoder;
import net.logstash.logback.fieldnames.LogstashFieldNames;
import net.logstash.logback.stacktrace.ShortenedThrowableConverter;

/**
 * The agent's logging, set up in code (found by logback through {@code META-INF/services}): {@code pullpath run}
 * writes JSON lines on stdout for the node's log pipeline, the CLI keeps stdout for its result and writes
 * diagnostics on stderr, quiet by default. Written in code rather than XML because logback's XML configuration
 * (Joran, its model processors and the JDK's XML parser) is about 340 classes a daemon would keep in metaspace for a
 * configuration read once. {@code -Dlogback.configurationFile} still wins, and so does a {@code logback-test.xml} on
 * the class path of an in-process test.
 */
public final class LogConfigurator extends ContextAwareBase implements Configurator {
    /** Set by {@link Main} before any logger exists: {@code run} for the daemon's JSON lines. */
    static final String MODE_PROPERTY = "pullpath.logging";

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        boolean daemon = "run".equals(System.getProperty(MODE_PROPERTY));
        if (System.getProperty("logback.configurationFile") != null
                || !daemon && LogConfigurator.class.getClassLoader().getResource("logback-test.xml") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
        console.setContext(context);
        console.setName(daemon ? "JSON" : "STDERR");
        console.setEncoder(daemon ? json(context) : pattern(context));
        if (!daemon) {
            console.setTarget("System.err");
        }
        console.start();
        context.getLogger("io.netty").setLevel(Level.WARN);
        // Netty falls back to a random machine id in containers without a MAC: harmless, not worth a warning.
        context.getLogger("io.netty.util.internal.MacAddressUtil").setLevel(Level.ERROR);
        context.getLogger("org.xbill.DNS").setLevel(Level.WARN);
        // The informer logs every retry of a failed watch with its stack; pullpath logs one line per change of the
        // API's state instead (dev.pullpath.kubernetes.ApiHealth).
        context.getLogger("io.fabric8.kubernetes.client").setLevel(Level.ERROR);
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(level(daemon ? Level.INFO : Level.WARN));
        root.addAppender(console);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /** PULLPATH_LOG_LEVEL (a system property of that name first, as logback's substitution did); bad values keep the default. */
    private static Level level(Level fallback) {
        String v = System.getProperty("PULLPATH_LOG_LEVEL", System.getenv("PULLPATH_LOG_LEVEL"));
        return v == null || v.isBlank() ? fallback : Level.toLevel(v.trim(), fallback);
    }

    private static Encoder<ILoggingEvent> json(LoggerContext context) {
        LogstashEncoder encoder = new LogstashEncoder();
        encoder.setContext(context);
        LogstashFieldNames names = new LogstashFieldNames();
        names.setTimestamp("time");
        names.setVersion("[ignore]");
        names.setLevelValue("[ignore]");
        encoder.setFieldNames(names);
        ShortenedThrowableConverter throwables = new ShortenedThrowableConverter();
        throwables.setMaxDepthPerThrowable(20);
        throwables.setMaxLength(4096);
        encoder.setThrowableConverter(throwables);
        // No Jackson module discovery: the log fields are strings, numbers, booleans, enums and maps of them, and
        // the java.time module it found on the classpath was 53 classes loaded for nothing.
        encoder.setFindAndRegisterJacksonModules(false);
        encoder.start();
        return encoder;
    }

    private static Encoder<ILoggingEvent> pattern(LoggerContext context) {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%d{HH:mm:ss.SSS} %-5level %logger{24} - %msg%n");
        encoder.start();
        return encoder;
    }
}
