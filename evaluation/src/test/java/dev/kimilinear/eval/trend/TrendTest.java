package dev.kimilinear.eval.trend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kimilinear.eval.cli.TrendCommand;
import dev.kimilinear.eval.compare.MetricDelta;
import dev.kimilinear.eval.compare.RunComparison;
import dev.kimilinear.eval.metrics.Metrics;
import dev.kimilinear.eval.mmlupro.MmluProResponses;
import dev.kimilinear.eval.mmlupro.MmluProScorer;
import dev.kimilinear.eval.records.GenerationRecord;
import dev.kimilinear.eval.records.MetricRecord;
import dev.kimilinear.eval.records.RecordFormat;
import dev.kimilinear.eval.records.RecordIo;
import dev.kimilinear.eval.records.TrendRecord;
import dev.kimilinear.eval.run.Invocation;
import dev.kimilinear.eval.run.RunFacts;
import dev.kimilinear.eval.run.RunFactsFile;
import dev.kimilinear.eval.scoring.ScoringRun;
import dev.kimilinear.eval.testing.SharedFiles;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class TrendTest {

  /** Demo-like metrics: MMLU-Pro overall and two categories, HumanEval pass@1; {@code q} sets the accuracy. */
  static List<MetricRecord> metrics(double q) {
    List<MetricRecord> m = new ArrayList<>();
    m.add(Metrics.proportion("mmlu-pro", "all", "accuracy", Math.round(2000 * q), 2000));
    m.add(Metrics.proportion("mmlu-pro", "law", "accuracy", Math.round(1000 * q), 1000));
    m.add(Metrics.proportion("mmlu-pro", "math", "accuracy", Math.round(1000 * 0.7), 1000));
    m.add(Metrics.proportion("humaneval", "all", "pass@1", 100, 164));
    return m;
  }

  /** A run directory as the job leaves it: metrics/ and run.json with its start time. */
  static Path run(Path root, String name, String started, List<MetricRecord> metrics) throws Exception {
    Path dir = root.resolve(name);
    RecordIo.writeMetrics(dir.resolve("metrics").resolve("part-0.parquet"), RecordFormat.PARQUET, metrics);
    RunFactsFile.write(dir, new RunFacts("/models/kimi", "sha256:abc", "BF16 weights", "cuda", 2000, 2000,
        List.of(new Invocation(started, "spark://m:7077", 8, 64, List.of("NVIDIA H100 (cuda:0 on a)"), 0, 2000, 2000,
            1_000_000, 500_000, 10, 600, 30, 0))));
    return dir;
  }

  @Test
  void metricsOverRunsInTimeOrderWithRegressionsAsCompareDecides(@TempDir Path root) throws Exception {
    // named out of time order: the trend follows run.json's start times
    run(root, "nightly-c", "2026-12-03T02:00:00Z", metrics(0.45));
    run(root, "nightly-a", "2026-12-01T02:00:00Z", metrics(0.60));
    run(root, "nightly-b", "2026-12-02T02:00:00+01:00", metrics(0.61));
    Path d = run(root, "nightly-d", "2026-12-04T02:00:00Z", metrics(0.60));
    // a run without run.json: ordered by when its config was written
    Path old = root.resolve("old-run");
    RecordIo.writeMetrics(old.resolve("metrics.jsonl"), RecordFormat.JSONL, metrics(0.5));
    Files.writeString(old.resolve("config.yaml"), "name: old\n");
    Files.setLastModifiedTime(old.resolve("config.yaml"), FileTime.from(Instant.parse("2026-11-30T00:00:00Z")));

    Path out = root.resolve("trend-out");
    StringWriter printed = new StringWriter();
    CommandLine cli = new CommandLine(new TrendCommand());
    cli.setOut(new PrintWriter(printed));
    int status = cli.execute(root.resolve("nightly-*").toString(), old.toString(), "--out", out.toString());
    assertEquals(0, status, printed.toString());

    List<TrendRecord> rows = RecordIo.readTrends(out.resolve("trend.parquet"));
    assertEquals(5 * 4, rows.size());
    List<String> order = rows.stream().map(TrendRecord::run).distinct().toList();
    assertEquals(List.of("old-run", "nightly-a", "nightly-b", "nightly-c", "nightly-d"), order);

    // each point's verdict is compare's verdict of that run against the one before
    RunComparison cAgainstB = RunComparison.of(metrics(0.45), metrics(0.61), 1.0);
    for (MetricDelta delta : cAgainstB.deltas()) {
      TrendRecord row = rows.stream().filter(r -> r.run().equals("nightly-c")
          && r.subset().equals(delta.run().subset()) && r.metric().equals(delta.run().metric())
          && r.benchmark().equals(delta.run().benchmark())).findFirst().orElseThrow();
      assertEquals(delta.verdict().label(), row.verdict(), row.toString());
    }
    List<String> regressed = rows.stream().filter(r -> "regressed".equals(r.verdict()))
        .map(r -> r.run() + " " + r.subset()).toList();
    assertEquals(List.of("nightly-c all", "nightly-c law"), regressed);
    assertTrue(rows.stream().filter(r -> r.run().equals("old-run")).allMatch(r -> r.verdict() == null));
    assertEquals("improved", rows.stream().filter(r -> r.run().equals("nightly-d") && r.subset().equals("law"))
        .findFirst().orElseThrow().verdict());
    assertTrue(printed.toString().contains("2 regressed against the run before"), printed.toString());

    String html = Files.readString(out.resolve("trend.html"));
    assertEquals(4, count(html, "<div class=\"chart\""), "one chart per benchmark, subset and metric");
    assertEquals(4, count(html, "<polygon class=\"band\""));
    assertEquals(2, count(html, "class=\"regressed\""), "the two regressed points are ringed");
    assertTrue(html.contains("<tr class=\"regressed-row\"><td>nightly-c</td><td>mmlu-pro</td><td>law</td>"), html);
    assertFalse(html.contains("<script"), "no scripts");
    assertFalse(html.replace("http://www.w3.org/2000/svg", "").contains("http"), "nothing fetched");
    assertTrue(html.indexOf("data-subset=\"all\" data-metric=\"accuracy\"")
        < html.indexOf("data-subset=\"law\" data-metric=\"accuracy\""), "the overall subset first");

    // the nightly job appends by rerunning over the glob: a new night adds its rows
    run(root, "nightly-e", "2026-12-05T02:00:00Z", metrics(0.60));
    assertEquals(0, new CommandLine(new TrendCommand()).execute(root.resolve("nightly-*").toString(),
        "--out", out.toString(), "--format", "jsonl"));
    assertEquals(5 * 4, RecordIo.readTrends(out.resolve("trend.jsonl")).size());
    assertFalse(Files.exists(out.resolve("trend.parquet")), "one table, in the format asked for");
    assertTrue(Files.isDirectory(d));
  }

  @Test
  void aPathThatIsNotARunDirectoryIsNamed(@TempDir Path root) throws Exception {
    Path empty = Files.createDirectories(root.resolve("not-a-run"));
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new TrendCommand());
    cli.setErr(new PrintWriter(err));
    assertEquals(2, cli.execute(empty.toString(), "--out", root.toString()));
    assertTrue(err.toString().contains(empty + " is not a run directory: it holds no metrics/"), err.toString());

    err.getBuffer().setLength(0);
    assertEquals(2, cli.execute(root.resolve("missing").toString()));
    assertTrue(err.toString().contains(root.resolve("missing") + " is not a run directory: it does not exist"),
        err.toString());

    err.getBuffer().setLength(0);
    assertEquals(2, cli.execute(root.resolve("nightly-*").toString()));
    assertTrue(err.toString().contains("nightly-*: no directory matches"), err.toString());
  }

  @Test
  void realMmluProScoresMarkTheCategoryThatLostItsAnswers(@TempDir Path root) throws Exception {
    MmluProResponses.Responses r = MmluProResponses.read(SharedFiles.require(SharedFiles.MMLU_PRO_RESPONSES));
    List<MetricRecord> good = ScoringRun.run(new MmluProScorer(), r.prompts(), r.generations()).metrics();
    // the next night, every law answer came back empty
    List<GenerationRecord> broken = r.generations().stream().map(g -> !"law".equals(g.subset()) ? g
        : new GenerationRecord(g.id(), g.benchmark(), g.subset(), g.sample(), "", g.finishReason(), g.promptTokens(),
            g.outputTokens(), g.error())).toList();
    List<MetricRecord> bad = ScoringRun.run(new MmluProScorer(), r.prompts(), broken).metrics();
    List<TrendRun> runs = List.of(TrendRun.load(run(root, "night-1", "2026-12-01T02:00:00Z", good)),
        TrendRun.load(run(root, "night-2", "2026-12-02T02:00:00Z", bad)));
    Trend trend = Trend.of(runs, 1.0);
    List<String> regressed = trend.regressions().stream().map(t -> t.subset() + " " + t.metric()).sorted().toList();
    assertTrue(regressed.contains("law accuracy") && regressed.contains("law no_answer_rate"), regressed.toString());
    assertTrue(trend.regressions().stream().noneMatch(t -> t.subset().equals("math")), regressed.toString());
    String html = TrendReport.render(trend);
    assertEquals(15 * 3, count(html, "<div class=\"chart\""), "14 categories and the overall row, 3 metrics each");
  }

  static int count(String s, String part) {
    int n = 0;
    for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + 1)) {
      n++;
    }
    return n;
  }
}
