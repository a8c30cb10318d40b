package dev.kimilinear.eval.cli;

import dev.kimilinear.eval.records.RecordFormat;
import dev.kimilinear.eval.records.RecordIo;
import dev.kimilinear.eval.records.TrendRecord;
import dev.kimilinear.eval.trend.Trend;
import dev.kimilinear.eval.trend.TrendReport;
import dev.kimilinear.eval.trend.TrendRun;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code trend RUN_DIR... [--out DIR]}: metrics over runs as trend.html and a table of the same numbers. */
@Command(name = "trend", mixinStandardHelpOptions = true,
    description = {"Charts every metric of a series of runs (e.g. nightly runs) over time.",
        "RUN_DIR: run directories, or a quoted glob such as 'runs/nightly-*'. Writes DIR/trend.html "
            + "(inline SVG, the 95%% intervals as bands, regressions ringed) and DIR/trend.parquet (or .jsonl): one "
            + "row per run and metric with the verdict against the run before, as compare decides it."})
public final class TrendCommand implements Callable<Integer> {

  @Spec
  CommandLine.Model.CommandSpec spec;

  @Parameters(arity = "1..*", paramLabel = "RUN_DIR")
  List<String> runs;

  @Option(names = "--out", defaultValue = ".", paramLabel = "DIR", description = "output directory (default: .)")
  Path out;

  @Option(names = "--format", defaultValue = "parquet", paramLabel = "FORMAT",
      description = "the table's format: parquet (default) or jsonl")
  String format;

  @Option(names = "--max-drop", defaultValue = "1.0", paramLabel = "POINTS",
      description = "drop in points beyond which (and beyond noise) a point counts as regressed (default 1.0)")
  double maxDrop;

  public static void main(String[] args) {
    System.exit(new CommandLine(new TrendCommand()).execute(args));
  }

  @Override
  public Integer call() {
    PrintWriter o = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try {
      RecordFormat tableFormat = RecordFormat.parse(format);
      List<TrendRun> loaded = new ArrayList<>();
      for (Path dir : expand(runs)) {
        loaded.add(TrendRun.load(dir));
      }
      Trend trend = Trend.of(loaded, maxDrop);
      Files.createDirectories(out);
      Path html = out.resolve("trend.html");
      Path table = out.resolve("trend" + tableFormat.extension());
      for (RecordFormat other : RecordFormat.values()) {
        if (other != tableFormat) {
          Files.deleteIfExists(out.resolve("trend" + other.extension()));
        }
      }
      TrendReport.write(html, trend);
      RecordIo.writeTrends(table, tableFormat, trend.rows());
      o.printf("%d runs, %d metric values; %d regressed against the run before%n", trend.runs().size(),
          trend.rows().size(), trend.regressions().size());
      for (TrendRecord r : trend.regressions()) {
        o.printf("  regressed: %s %s %s %s in %s%n", r.benchmark(), r.subset(), r.metric(),
            dev.kimilinear.eval.metrics.MetricsTable.points(r.value()), r.run());
      }
      o.println("trend:   " + html);
      o.println("table:   " + table);
      o.flush();
      return 0;
    } catch (Exception e) {
      err.println("trend: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
      err.flush();
      return 2;
    }
  }

  /** Arguments as given, and globs (which a shell did not expand, e.g. quoted) matched in their folder. */
  static List<Path> expand(List<String> args) throws IOException {
    Set<Path> dirs = new LinkedHashSet<>();
    for (String arg : args) {
      if (!arg.contains("*") && !arg.contains("?") && !arg.contains("[")) {
        dirs.add(Path.of(arg));
        continue;
      }
      Path pattern = Path.of(arg);
      Path parent = pattern.getParent() == null ? Path.of(".") : pattern.getParent();
      PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + pattern.getFileName());
      if (!Files.isDirectory(parent)) {
        throw new IllegalArgumentException(arg + ": the folder " + parent + " does not exist");
      }
      List<Path> matched;
      try (Stream<Path> files = Files.list(parent)) {
        matched = files.filter(p -> Files.isDirectory(p) && matcher.matches(p.getFileName())).sorted().toList();
      }
      if (matched.isEmpty()) {
        throw new IllegalArgumentException(arg + ": no directory matches");
      }
      dirs.addAll(matched);
    }
    return List.copyOf(dirs);
  }
}
