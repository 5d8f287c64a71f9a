package dev.pullpath.cli;

import dev.pullpath.config.ConfigException;
import dev.pullpath.config.ContainerdUnit;
import dev.pullpath.config.CredentialSettings;
import dev.pullpath.config.Durations;
import dev.pullpath.config.ProbeOptions;
import dev.pullpath.config.PrivateEcr;
import dev.pullpath.config.ProxySettings;
import dev.pullpath.config.Target;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.export.ReportJson;
import dev.pullpath.probe.PathProber;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code pullpath diagnose}: walk the pull path once for each target, print the diagnosis, exit 0/1/2. */
@Command(name = "diagnose", mixinStandardHelpOptions = true,
        description = "Walk DNS, TCP, TLS and the registry API for each TARGET once and name the failing hop.",
        footer = {"", "Exit status: 0 every target reachable, 1 a failure was diagnosed, 2 usage or config error."})
public final class DiagnoseCommand implements Callable<Integer> {

    @Parameters(paramLabel = "TARGET", arity = "0..*", defaultValue = "public.ecr.aws",
            description = "host, host:port or https://host[:port] (default: ${DEFAULT-VALUE})")
    List<String> targets = new ArrayList<>();

    @Option(names = "--resolver", paramLabel = "HOST[:PORT]",
            description = "Nameserver to ask instead of resolv.conf's (repeatable).")
    List<String> resolvers = new ArrayList<>();

    @Option(names = "--resolv-conf", paramLabel = "PATH", defaultValue = "/etc/resolv.conf",
            description = "Resolver configuration (search, ndots, nameservers) (default: ${DEFAULT-VALUE}).")
    Path resolvConf;

    @Option(names = "--hosts-file", paramLabel = "PATH", defaultValue = "/etc/hosts",
            description = "Hosts file consulted before DNS, as containerd does (default: ${DEFAULT-VALUE}).")
    Path hostsFile;

    @Option(names = "--ca-file", paramLabel = "PEM", description = "Extra trusted CA certificates (repeatable).")
    List<Path> caFiles = new ArrayList<>();

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "5s",
            description = "Timeout of each phase, e.g. 2s or 500ms (default: ${DEFAULT-VALUE}).")
    String timeout;

    @Option(names = "--pace", paramLabel = "DURATION",
            description = "Least time between two requests to the registry's hosts, as the daemon paces a fleet's "
                    + "checks (default: none).")
    String pace;

    @Option(names = "--max-addresses", paramLabel = "N", defaultValue = "4",
            description = "Addresses probed per address family (default: ${DEFAULT-VALUE}).")
    int maxAddresses;

    @Option(names = "--proxy", paramLabel = "URL",
            description = "HTTPS proxy, http://[user:password@]host:port (default: HTTPS_PROXY, as containerd).")
    String proxy;

    @Option(names = "--no-proxy", paramLabel = "LIST",
            description = "Hosts, domains, IPs and CIDRs to reach directly (default: NO_PROXY), Go's rules.")
    String noProxy;

    @Option(names = "--ecr-region", paramLabel = "REGION",
            description = "With --ecr-account: probe private ECR's registry, API and layer-bucket endpoints.")
    String ecrRegion;

    @Option(names = "--ecr-account", paramLabel = "ACCOUNT", description = "The 12-digit AWS account of the registry.")
    String ecrAccount;

    @Option(names = "--docker-config", paramLabel = "PATH",
            description = "Docker's config.json (or its directory) (default: $DOCKER_CONFIG, ~/.docker).")
    Path dockerConfig;

    @Option(names = "--registry-config", paramLabel = "PATH",
            description = "Helm's registry config.json (default: $HELM_REGISTRY_CONFIG, ~/.config/helm/registry).")
    Path registryConfig;

    @Option(names = "--credential-provider-config", paramLabel = "PATH",
            description = "The kubelet's CredentialProviderConfig, e.g. /etc/eks/image-credential-provider/config.json.")
    Path providerConfig;

    @Option(names = "--credential-provider-bin-dir", paramLabel = "DIR",
            description = "Where the provider binaries are (default: the config file's directory).")
    Path providerBinDir;

    @Option(names = "--containerd-certs-dir", paramLabel = "DIR", defaultValue = "/etc/containerd/certs.d",
            description = "containerd's registry config_path: HOST/hosts.toml there sets mirrors, ca, skip_verify "
                    + "and headers, and pullpath walks that pull path (default: ${DEFAULT-VALUE}).")
    Path containerdCertsDir;

    @Option(names = "--containerd-unit-root", paramLabel = "DIR",
            description = "Take containerd's proxy (HTTPS_PROXY, NO_PROXY) from its systemd unit and drop-ins under "
                    + "DIR (the host's root: / on the node, /host in the pod), as containerd gets it, instead of "
                    + "this shell's environment; a disagreement between the two is noted.")
    Path containerdUnitRoot;

    @Option(names = "--containerd-version", paramLabel = "VERSION",
            description = "The node's containerd release (e.g. 1.7.27, 2.0.0; `containerd --version`): releases "
                    + "read hosts.toml differently (before 1.7.32 a file without a [host] table is ignored). "
                    + "Default: assumed 1.7 before 1.7.32, and reports that depend on it say so.")
    String containerdVersion;

    @Option(names = "--image", paramLabel = "REPO:TAG",
            description = "Walk the whole pull of this image (REPO:TAG or REPO@sha256:...): its manifest (404 is "
                    + "registry/not_found), then the layer hop: its smallest blob, the registry's redirect and the "
                    + "layer host it leads to (a CDN, S3), walked as the registry is.")
    String image;

    @Option(names = "--no-traceroute", negatable = false,
            description = "When a connect times out, do not trace where the SYNs stop (a TCP traceroute of at most "
                    + "16 hops within one --timeout).")
    boolean noTraceroute;

    @Option(names = "--json", description = "One JSON object per target per line.")
    boolean json;

    @Option(names = "--color", paramLabel = "WHEN", defaultValue = "auto",
            description = "auto (on a terminal), always or never (default: ${DEFAULT-VALUE}).")
    String color;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** The probe options these flags describe; a bad value is a {@link ConfigException}. */
    public ProbeOptions options() {
        List<InetSocketAddress> servers = resolvers.stream().map(ProbeOptions::parseResolver).toList();
        ProxySettings proxies = proxy == null && noProxy == null
                ? ContainerdUnit.proxies(containerdUnitRoot, System::getenv)
                : ProxySettings.of(proxy, noProxy);
        // A person's own logins: HOME and DOCKER_CONFIG of this shell are searched, as docker and helm would.
        CredentialSettings logins = new CredentialSettings(true, registryConfig, dockerConfig, true,
                Duration.ofSeconds(5), providerConfig, providerBinDir, Duration.ofSeconds(10));
        return new ProbeOptions(Durations.parse(timeout), maxAddresses, servers, resolvConf, hostsFile, caFiles,
                ProbeOptions.DEFAULT_MAX_BODY_BYTES, proxies, logins, containerdCertsDir, !noTraceroute,
                containerdVersion == null ? dev.pullpath.config.ContainerdVersion.ASSUMED
                        : dev.pullpath.config.ContainerdVersion.parse(containerdVersion, "--containerd-version"))
                .withRegistryPace(pace == null ? Duration.ZERO : Durations.parse(pace));
    }

    public List<Target> parsedTargets() {
        if (ecrRegion != null || ecrAccount != null) {
            List<Target> ecr = PrivateEcr.endpoints(ecrRegion, ecrAccount);
            boolean defaultTarget = targets.size() == 1 && targets.get(0).equals("public.ecr.aws");
            List<Target> all = new ArrayList<>(defaultTarget ? List.of() : targets.stream().map(Target::parse).toList());
            all.addAll(ecr);
            return all;
        }
        return targets.stream().map(Target::parse).toList();
    }

    @Override
    public Integer call() {
        List<Target> parsed = parsedTargets();
        ProbeOptions options = options();
        // containerd would read the same environment: what is wrong with it is a finding, not noise.
        if (containerdUnitRoot != null) {
            spec.commandLine().getErr().println("pullpath: proxy: " + options.proxies().describe());
        }
        options.proxies().problems().forEach(p -> spec.commandLine().getErr().println("pullpath: note: " + p));
        boolean ansi = switch (color) {
            case "always" -> true;
            case "never" -> false;
            case "auto" -> System.console() != null && System.getenv("NO_COLOR") == null
                    && !"dumb".equals(System.getenv("TERM"));
            default -> throw new ConfigException("--color must be auto, always or never");
        };
        PrintWriter out = spec.commandLine().getOut();
        List<TargetReport> reports;
        try (PathProber prober = new PathProber(options, 1)) {
            reports = probeAll(prober, parsed, spec.commandLine().getErr(), image);
        }
        HumanReport human = new HumanReport(ansi, 80);
        for (TargetReport r : reports) {
            out.println(json ? ReportJson.line(r) : human.render(r));
        }
        out.flush();
        boolean allOk = reports.size() == parsed.size() && reports.stream().allMatch(TargetReport::ok);
        return allOk ? Main.EXIT_OK : Main.EXIT_DIAGNOSED;
    }

    /**
     * Probes every target at once. Each phase is bounded (the token phase at twice the timeout), so a probe ends
     * within about seven phase timeouts; a target whose probe failed inside pullpath is reported on stderr and
     * does not take the other targets' reports with it.
     */
    static List<TargetReport> probeAll(PathProber prober, List<Target> targets,
                                       PrintWriter err, String image) {
        // A shell's diagnose is a registry check that is due: the whole path, as the daemon's registry probes go.
        List<CompletableFuture<TargetReport>> running = targets.stream().map(t -> prober.probe(t, prober.defaults(),
                dev.pullpath.probe.Depth.of(dev.pullpath.config.TargetKind.defaultFor(t.host()), true),
                image == null ? null : dev.pullpath.probe.ManifestProbe.parse(image, t.host()))).toList();
        // Each probe bounds itself by its own pull path; this only catches a probe that never started.
        long deadline = System.nanoTime() + dev.pullpath.probe.PathProber.maxBound(prober.defaults()).toNanos();
        List<TargetReport> reports = new ArrayList<>();
        for (int i = 0; i < running.size(); i++) {
            try {
                reports.add(running.get(i).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return reports;
            } catch (ExecutionException | TimeoutException e) {
                Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
                err.println("pullpath: internal error probing " + targets.get(i).name() + ": " + cause);
            }
        }
        return reports;
    }
}
