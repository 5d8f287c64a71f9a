package dev.pullpath.testing;

import dev.pullpath.cli.DiagnoseCommand;
import dev.pullpath.config.Target;
import dev.pullpath.diagnosis.TargetReport;
import dev.pullpath.export.ReportJson;
import dev.pullpath.probe.Depth;
import dev.pullpath.probe.PathProber;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;

/**
 * A lab peer that diagnoses one target again and again, one after the other, in one warm prober: {@code COUNT
 * [diagnose options] TARGET}, one JSON line per diagnosis, as {@code diagnose --json} prints it. For tests that
 * need a verdict to hold every time, not once: fifty JVM starts would measure the JVM.
 */
public final class RepeatedDiagnosis {
    private RepeatedDiagnosis() {
    }

    public static void main(String[] args) throws Exception {
        int count = Integer.parseInt(args[0]);
        String target = args[args.length - 1];
        DiagnoseCommand command = new DiagnoseCommand();
        new CommandLine(command).parseArgs(Arrays.copyOfRange(args, 1, args.length - 1));
        try (PathProber prober = new PathProber(command.options(), 1)) {
            Target t = Target.parse(target);
            for (int i = 0; i < count; i++) {
                TargetReport report = prober.probe(t, command.options(), Depth.REGISTRY).get(60, TimeUnit.SECONDS);
                System.out.println(ReportJson.line(report));
            }
        }
        System.out.println("done");
    }
}
