package dev.kimilinear.eval.cli;

import dev.kimilinear.eval.compare.RunComparison;
import dev.kimilinear.eval.compare.RunMetrics;
import dev.kimilinear.eval.records.MetricRecord;
import dev.kimilinear.eval.report.HtmlReport;
import dev.kimilinear.eval.run.PrecisionDifference;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code compare RUN BASELINE [--max-drop POINTS]}: per-metric deltas and a regression verdict. */
@Command(name = "compare", mixinStandardHelpOptions = true,
    description = {"Compares a run's metrics with a baseline's.",
        "RUN and BASELINE are run directories (holding metrics/, metrics.parquet or metrics.jsonl) or "
            + "metrics files. Exit status 1 when a metric got worse by more than --max-drop points and "
            + "the 95%% interval of the difference excludes zero; 0 otherwise; 2 on bad input."})
public final class CompareCommand implements Callable<Integer> {

  @Spec
  CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "RUN")
  Path run;

  @Parameters(index = "1", paramLabel = "BASELINE")
  Path baseline;

  @Option(names = "--max-drop", defaultValue = "1.0", paramLabel = "POINTS",
      description = "largest tolerated drop, in percentage points (default 1.0)")
  double maxDrop;

  @Option(names = "--report", paramLabel = "FILE", description = "also write an HTML report with the deltas")
  Path report;

  public static void main(String[] args) {
    System.exit(new CommandLine(new CompareCommand()).execute(args));
  }

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try {
      List<MetricRecord> runMetrics = RunMetrics.load(run);
      List<MetricRecord> baseMetrics = RunMetrics.load(baseline);
      RunComparison comparison = RunComparison.of(runMetrics, baseMetrics, maxDrop);
      if (comparison.deltas().isEmpty()) {
        throw new IllegalArgumentException("no metric of " + run + " is in " + baseline
            + " (same benchmark, subset and metric names needed)");
      }
      PrecisionDifference.between(run, baseline).ifPresent(note -> out.println("note: " + note));
      out.print(comparison.format());
      if (report != null) {
        HtmlReport.write(report, "Comparison: " + run.getFileName() + " against " + baseline.getFileName(),
            runMetrics, comparison, List.of());
        out.println("report: " + report);
      }
      out.flush();
      return comparison.regressed() ? 1 : 0;
    } catch (Exception e) {
      err.println("compare: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
      err.flush();
      return 2;
    }
  }
}
