package dev.pullpath.cli;

import dev.pullpath.Agent;
import dev.pullpath.config.AgentConfig;
import dev.pullpath.config.ConfigLoader;
import dev.pullpath.config.TargetConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code pullpath run}: the daemon a DaemonSet runs on every node. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Probe the configured targets on a schedule and serve /metrics, /status, /healthz, /readyz, "
                + "/probe and a status page. Logs are JSON lines on stdout.",
        footer = {"", "Without a configuration file: target public.ecr.aws, interval 30s, timeout 5s, port "
                + ConfigLoader.DEFAULT_PORT + ".",
                "Environment: NODE_NAME, PULLPATH_ZONE, PULLPATH_LISTEN, PULLPATH_TARGETS, PULLPATH_INTERVAL,",
                "PULLPATH_REGISTRY_INTERVAL, PULLPATH_TIMEOUT, PULLPATH_MAX_CONCURRENT_PROBES, PULLPATH_LOG_LEVEL.",
                "Stops within 2 s on SIGTERM (exit status 143, as any JVM); 2 for a configuration error."})
public final class RunCommand implements Callable<Integer> {

    @Option(names = "--config", paramLabel = "PATH",
            description = "YAML configuration; reloaded when it changes (default: /etc/pullpath/config.yaml, "
                    + "optional there).")
    Path config;

    @Option(names = "--check-config", description = "Validate the configuration, print what would run, and exit.")
    boolean checkOnly;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        ConfigLoader loader = ConfigLoader.fromEnvironment();
        AgentConfig cfg = loader.load(config == null ? ConfigLoader.DEFAULT_PATH : config, config != null);
        if (checkOnly) {
            PrintWriter out = spec.commandLine().getOut();
            out.println("configuration from " + cfg.source() + " is valid; listen " + cfg.listen());
            for (TargetConfig t : cfg.targets()) {
                out.println("  " + t.name() + "  " + t.target().authority() + "  kind " + t.kind().label()
                        + "  every " + t.interval().toMillis() / 1000.0 + "s, registry hops every "
                        + t.registryInterval().toMillis() / 1000.0 + "s, timeout " + t.timeout().toMillis() + "ms");
            }
            out.flush();
            return Main.EXIT_OK;
        }
        Agent agent = Agent.start(cfg, loader);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                org.slf4j.LoggerFactory.getLogger(RunCommand.class).info("stopping");
                agent.close();
            } finally {
                stopped.countDown();
            }
        }, "pullpath-shutdown"));
        stopped.await();
        return Main.EXIT_OK;
    }
}
