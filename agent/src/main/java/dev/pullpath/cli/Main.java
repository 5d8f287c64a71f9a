package dev.pullpath.cli;

import dev.pullpath.Version;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code pullpath diagnose|run}: the one entry point of the jar. */
@Command(name = "pullpath", mixinStandardHelpOptions = true, versionProvider = Main.VersionProvider.class,
        description = "Tells why a container image pull cannot get through: DNS, firewall, TLS, auth or registry.",
        subcommands = {DiagnoseCommand.class, RunCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    public static final int EXIT_OK = 0;
    public static final int EXIT_DIAGNOSED = 1;
    public static final int EXIT_USAGE = 2;

    public static void main(String[] args) {
        if (args.length > 0 && "run".equals(args[0])) {
            // The daemon logs JSON lines on stdout; the CLI keeps stdout for its result (LogConfigurator). Chosen
            // before any logger exists, which is why it happens here.
            System.setProperty(LogConfigurator.MODE_PROPERTY, "run");
        }
        System.exit(execute(args, new java.io.PrintWriter(System.out, true), new java.io.PrintWriter(System.err, true)));
    }

    /** Runs the command line with the given streams and returns the exit code (for tests and embedding). */
    public static int execute(String[] args, java.io.PrintWriter out, java.io.PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> {
            err.println("pullpath: " + ex.getMessage() + " (see --help)");
            return EXIT_USAGE;
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (ex instanceof dev.pullpath.config.ConfigException) {
                err.println("pullpath: " + ex.getMessage());
                return EXIT_USAGE;
            }
            // A bug, not a user error: one line for the user, the stack trace for the log (at debug).
            org.slf4j.LoggerFactory.getLogger(Main.class).debug("internal error", ex);
            err.println("pullpath: internal error: " + ex + " (PULLPATH_LOG_LEVEL=DEBUG shows the stack trace)");
            return EXIT_DIAGNOSED;
        });
        return cl.execute(args);
    }

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"pullpath " + Version.get(), "Java " + System.getProperty("java.version")};
        }
    }
}
