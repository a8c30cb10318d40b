package dev.kimilinear.eval.cli;

import dev.kimilinear.eval.compare.RunComparison;
import dev.kimilinear.eval.compare.RunMetrics;
import dev.kimilinear.eval.humaneval.PythonSandbox;
import dev.kimilinear.eval.humaneval.SandboxConfig;
import dev.kimilinear.eval.humaneval.SandboxLimits;
import dev.kimilinear.eval.metrics.MetricsTable;
import dev.kimilinear.eval.mmlupro.MmluProResponses;
import dev.kimilinear.eval.mmlupro.MmluProScorer;
import dev.kimilinear.eval.records.GenerationRecord;
import dev.kimilinear.eval.records.MetricRecord;
import dev.kimilinear.eval.records.PromptRecord;
import dev.kimilinear.eval.records.RecordFormat;
import dev.kimilinear.eval.records.RecordIo;
import dev.kimilinear.eval.report.HtmlReport;
import dev.kimilinear.eval.report.samples.SampleIndex;
import dev.kimilinear.eval.report.samples.SamplePages;
import dev.kimilinear.eval.report.samples.SampleViews;
import dev.kimilinear.eval.report.samples.PromptText;
import dev.kimilinear.eval.records.ScoreRecord;
import dev.kimilinear.eval.ruler.RulerSummary;
import dev.kimilinear.eval.scoring.BenchmarkScorer;
import dev.kimilinear.eval.scoring.ScoredRun;
import dev.kimilinear.eval.scoring.Scorers;
import dev.kimilinear.eval.scoring.ScoringRun;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code score BENCHMARK --prompts P --generations G --out DIR}: scores, metrics and a report. */
@Command(name = "score", mixinStandardHelpOptions = true,
    description = {"Scores one benchmark's generations against its prompts.",
        "Writes DIR/scores/BENCHMARK.(parquet|jsonl), DIR/metrics/BENCHMARK.(parquet|jsonl) and "
            + "DIR/report.html (all benchmarks scored into DIR), and prints the metrics "
            + "(percentage points, 95%% intervals)."})
public final class ScoreCommand implements Callable<Integer> {

  @Spec
  CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "BENCHMARK", description = "mmlu-pro, gpqa, humaneval or ruler")
  String benchmark;

  @Option(names = "--prompts", paramLabel = "PROMPTS",
      description = "prompt records: Parquet file or directory of parts, or JSONL")
  Path prompts;

  @Option(names = "--generations", paramLabel = "GENERATIONS",
      description = "generation records keyed by prompt id (n samples per id for pass@k)")
  Path generations;

  @Option(names = "--responses", paramLabel = "FILE",
      description = "mmlu-pro only: a JSON list (or .zip of one) of questions with model_outputs or "
          + "generated_text (model_outputs wins where both are given), instead of --prompts and --generations;"
          + " entries that are not such records go to errors/mmlu-pro.jsonl")
  Path responses;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory")
  Path out;

  @Option(names = "--format", defaultValue = "parquet", paramLabel = "FORMAT",
      description = "parquet (default) or jsonl")
  String format;

  @Option(names = "--baseline", paramLabel = "RUN",
      description = "a baseline run directory or metrics file: the report shows deltas against it")
  Path baseline;

  @Option(names = "--max-drop", defaultValue = "1.0", paramLabel = "POINTS",
      description = "with --baseline: drop in points that counts as a regression (default 1.0)")
  double maxDrop;

  @Option(names = "--timeout", defaultValue = "10", paramLabel = "SECONDS",
      description = "humaneval: wall-clock limit per program (default 10)")
  double timeoutSeconds;

  @Option(names = "--parallelism", paramLabel = "N", description = "humaneval: programs run at once (default: cores)")
  Integer parallelism;

  @Option(names = "--python", paramLabel = "PATH", description = "humaneval: the python3 interpreter")
  Path python;

  @Option(names = "--no-official-guard",
      description = "humaneval: keep os.fork, os.kill, shutil.rmtree ... callable (the official harness disables them)")
  boolean noOfficialGuard;

  public static void main(String[] args) {
    System.exit(new CommandLine(new ScoreCommand()).execute(args));
  }

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    PrintWriter outWriter = spec.commandLine().getOut();
    PythonSandbox sandbox = null;
    try {
      RecordFormat outFormat = RecordFormat.parse(format);
      List<PromptRecord> promptRecords;
      List<MmluProResponses.Rejected> rejected = List.of();
      List<GenerationRecord> generationRecords;
      if (!Scorers.BENCHMARKS.contains(benchmark)) {
        throw new IllegalArgumentException("unknown benchmark '" + benchmark + "': expected one of "
            + String.join(", ", Scorers.BENCHMARKS));
      }
      PythonSandbox[] started = new PythonSandbox[1];
      BenchmarkScorer scorer = Scorers.forBenchmark(benchmark, () -> {
        started[0] = PythonSandbox.start(sandboxConfig());
        return started[0];
      });
      sandbox = started[0];
      if (sandbox != null) {
        outWriter.println("sandbox: " + sandbox.isolation().describe());
      }
      if (responses != null) {
        if (!benchmark.equals(MmluProScorer.BENCHMARK)) {
          throw new IllegalArgumentException("--responses is for mmlu-pro only");
        }
        if (prompts != null || generations != null) {
          throw new IllegalArgumentException("give either --responses or --prompts with --generations, not both");
        }
        MmluProResponses.Responses r = MmluProResponses.read(responses);
        promptRecords = r.prompts();
        generationRecords = r.generations();
        rejected = r.rejected();
      } else {
        if (prompts == null || generations == null) {
          throw new IllegalArgumentException("--prompts and --generations are both required"
              + (benchmark.equals(MmluProScorer.BENCHMARK) ? " (or --responses)" : ""));
        }
        promptRecords = scorer.needsPromptText() ? RecordIo.readPrompts(prompts)
            : RecordIo.readPrompts(prompts, RecordIo.PROMPT_COLUMNS_WITHOUT_TEXT);
        generationRecords = RecordIo.readGenerations(generations);
      }

      ScoredRun run = ScoringRun.run(scorer, promptRecords, generationRecords);
      Path scoresFile = out.resolve("scores").resolve(benchmark + outFormat.extension());
      Path metricsFile = out.resolve("metrics").resolve(benchmark + outFormat.extension());
      Files.createDirectories(scoresFile.getParent());
      Files.createDirectories(metricsFile.getParent());
      removeOtherFormat(scoresFile, outFormat);
      removeOtherFormat(metricsFile, outFormat);
      RecordIo.writeScores(scoresFile, outFormat, run.scores());
      RecordIo.writeMetrics(metricsFile, outFormat, run.metrics());

      Path errorsFile = writeRejected(rejected);
      List<SampleIndex> pages = SamplePages.write(out, run.scores(), sampleViews(scorer, promptRecords,
          generationRecords, run.scores()));
      Path report = writeReport(pages);
      outWriter.print(MetricsTable.format(run.metrics()));
      RulerSummary.of(run.metrics()).ifPresent(summary -> outWriter.print("\n" + summary.format()));
      run.notes().forEach(n -> outWriter.println("note: " + n));
      if (errorsFile != null) {
        outWriter.println("errors:  " + errorsFile + " (" + rejected.size() + " entries of " + responses
            + " set aside, not scored)");
      }
      outWriter.println("scores:  " + scoresFile);
      outWriter.println("metrics: " + metricsFile);
      outWriter.println("report:  " + report);
      outWriter.flush();
      return 0;
    } catch (Exception e) {
      err.println("score: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
      err.flush();
      return 1;
    } finally {
      if (sandbox != null) {
        sandbox.close();
      }
    }
  }

  /**
   * The samples for the per-sample pages. Prompts read without their text (the scorer did not
   * need it) are read again one at a time, keeping only what the pages show of each.
   */
  private java.util.Iterator<dev.kimilinear.eval.report.samples.SampleView> sampleViews(BenchmarkScorer scorer,
      List<PromptRecord> promptRecords, List<GenerationRecord> generationRecords, List<ScoreRecord> scores)
      throws java.io.IOException {
    if (responses != null || scorer.needsPromptText()) {
      return SampleViews.inOrder(promptRecords, generationRecords, scores);
    }
    java.util.Map<String, PromptText> texts = new java.util.HashMap<>();
    java.util.Map<String, String> references = new java.util.HashMap<>();
    RecordIo.forEachPrompt(prompts, p -> {
      if (p.benchmark() == null || p.benchmark().equals(benchmark)) {
        texts.putIfAbsent(p.id(), PromptText.of(p));
        references.putIfAbsent(p.id(), p.reference());
      }
    });
    return SampleViews.inOrder(texts, references, generationRecords, scores);
  }

  private SandboxConfig sandboxConfig() {
    if (!(timeoutSeconds > 0)) {
      throw new IllegalArgumentException("--timeout must be positive, got " + timeoutSeconds);
    }
    SandboxConfig c = SandboxConfig.defaults()
        .withLimits(SandboxLimits.withTimeout(Duration.ofMillis((long) (timeoutSeconds * 1000))))
        .withOfficialGuard(!noOfficialGuard)
        .withPython(python);
    return parallelism == null ? c : c.withParallelism(parallelism);
  }

  /**
   * The response file's entries that could not be scored, one JSON line each (source, row in the
   * list counted from 1, reason) in errors/BENCHMARK.jsonl; null, and no file left from an earlier run, when
   * there are none.
   */
  private Path writeRejected(List<MmluProResponses.Rejected> rejected) throws java.io.IOException {
    Path file = out.resolve("errors").resolve(benchmark + ".jsonl");
    if (rejected.isEmpty()) {
      Files.deleteIfExists(file);
      return null;
    }
    Files.createDirectories(file.getParent());
    com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
    StringBuilder lines = new StringBuilder();
    for (MmluProResponses.Rejected r : rejected) {
      lines.append(json.writeValueAsString(java.util.Map.of("source", r.source(), "row", r.row(),
          "reason", r.reason()))).append('\n');
    }
    Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
    Files.writeString(tmp, lines);
    Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    return file;
  }

  /** A benchmark scored again in the other format must not leave its old file beside the new. */
  private static void removeOtherFormat(Path file, RecordFormat format) throws java.io.IOException {
    String name = file.getFileName().toString();
    String stem = name.substring(0, name.length() - format.extension().length());
    for (RecordFormat other : RecordFormat.values()) {
      if (other != format) {
        Files.deleteIfExists(file.resolveSibling(stem + other.extension()));
      }
    }
  }

  /**
   * The report covers every benchmark scored into this output directory; {@code pages}, the
   * per-sample pages just written, and those an earlier scoring wrote for other benchmarks.
   */
  private Path writeReport(List<SampleIndex> pages) throws Exception {
    List<MetricRecord> all = new ArrayList<>();
    List<SampleIndex> samples = new ArrayList<>(pages);
    List<HtmlReport.Link> links = new ArrayList<>();
    for (String table : List.of("metrics", "scores")) {
      try (Stream<Path> files = Files.list(out.resolve(table))) {
        for (Path f : files.sorted().toList()) {
          String n = f.getFileName().toString();
          if (n.startsWith(".") || !(n.endsWith(".parquet") || n.endsWith(".jsonl"))) {
            continue;
          }
          if (table.equals("metrics")) {
            all.addAll(RecordIo.readMetrics(f));
          } else if (!n.startsWith(benchmark + ".")) {
            List<ScoreRecord> earlier = RecordIo.readScores(f);
            for (SampleIndex index : SamplePages.indexOf(earlier)) {
              if (Files.isRegularFile(out.resolve(index.href(1, null)))) {
                samples.add(index);
              }
            }
          }
          links.add(new HtmlReport.Link(table + "/" + n, table + "/" + n));
        }
      }
    }
    RunComparison comparison = baseline == null ? null
        : RunComparison.of(all, RunMetrics.load(baseline), maxDrop);
    Path report = out.resolve("report.html");
    samples.sort(java.util.Comparator.comparing(SampleIndex::benchmark));
    HtmlReport.write(report, "Evaluation report: " + out.toAbsolutePath().normalize().getFileName(), null, all,
        comparison, links, samples);
    return report;
  }
}
