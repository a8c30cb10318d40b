package dev.kimilinear.eval.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kimilinear.eval.records.MetricRecord;
import dev.kimilinear.eval.records.RecordFormat;
import dev.kimilinear.eval.records.RecordIo;
import dev.kimilinear.eval.records.ScoreRecord;
import dev.kimilinear.eval.run.RunFacts;
import dev.kimilinear.eval.run.RunFactsFile;
import dev.kimilinear.eval.testing.Python;
import dev.kimilinear.eval.testing.SharedFiles;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class CommandsTest {

  record Outcome(int exit, String out, String err) {}

  static Outcome execute(Callable<Integer> command, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = new CommandLine(command);
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int exit = cl.execute(args);
    return new Outcome(exit, out.toString(), err.toString());
  }

  static Outcome score(String benchmark, SampleRuns.Inputs in, Path out, String... extra) {
    String[] base = {benchmark, "--prompts", in.prompts().toString(), "--generations", in.generations().toString(),
        "--out", out.toString()};
    String[] args = new String[base.length + extra.length];
    System.arraycopy(base, 0, args, 0, base.length);
    System.arraycopy(extra, 0, args, base.length, extra.length);
    return execute(new ScoreCommand(), args);
  }

  static MetricRecord metric(List<MetricRecord> metrics, String subset, String name) {
    return metrics.stream().filter(m -> m.subset().equals(subset) && m.metric().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no " + name + " for " + subset));
  }

  @Test
  void scoresEveryBenchmarkIntoOneRunAndReport(@TempDir Path dir) throws Exception {
    Path run = dir.resolve("run");
    Outcome ruler = score("ruler", SampleRuns.ruler(dir.resolve("in"), 1.0, RecordFormat.PARQUET), run);
    assertEquals(0, ruler.exit(), ruler.err());
    assertTrue(ruler.out().contains("string_match_all") && ruler.out().contains("all@16384"), ruler.out());
    Outcome gpqa = score("gpqa", SampleRuns.gpqa(dir.resolve("in"), RecordFormat.JSONL), run);
    assertEquals(0, gpqa.exit(), gpqa.err());
    Outcome mmlu = score("mmlu-pro", SampleRuns.mmluPro(dir.resolve("in"), RecordFormat.JSONL), run);
    assertEquals(0, mmlu.exit(), mmlu.err());

    List<MetricRecord> mmluMetrics = RecordIo.readMetrics(run.resolve("metrics/mmlu-pro.parquet"));
    // q % 4: (C) right, B wrong, none, last standalone C right -> q = 0,3,4,7,8,11,12: 7 of 15
    assertEquals(7.0 / 15, metric(mmluMetrics, "all", "accuracy").value(), 1e-12);
    List<ScoreRecord> mmluScores = RecordIo.readScores(run.resolve("scores/mmlu-pro.parquet"));
    assertEquals(15, mmluScores.size());
    assertEquals("no answer extracted", mmluScores.stream().filter(s -> s.id().equals("mmlu-pro/history/2"))
        .findFirst().orElseThrow().reason());

    List<MetricRecord> all = RecordIo.readMetrics(run.resolve("metrics"));
    assertTrue(all.stream().anyMatch(m -> m.benchmark().equals("gpqa")));
    assertTrue(all.stream().anyMatch(m -> m.benchmark().equals("ruler")));
    String html = Files.readString(run.resolve("report.html"));
    assertTrue(html.contains("MMLU-Pro by category") && html.contains("GPQA by domain")
        && html.contains("RULER by task and length") && html.contains("<svg"), "report sections");
    assertTrue(html.contains("href=\"scores/ruler.parquet\"") && html.contains("href=\"metrics/gpqa.parquet\""));
    assertFalse(html.replace("http://www.w3.org/2000/svg", "").contains("http"), "nothing fetched");
  }

  @Test
  void humanEvalThroughTheCommand(@TempDir Path dir) throws Exception {
    Python.assumeAvailable();
    Path run = dir.resolve("run");
    Outcome he = score("humaneval", SampleRuns.humanEval(dir.resolve("in"), RecordFormat.JSONL), run,
        "--format", "jsonl", "--timeout", "2", "--parallelism", "2");
    assertEquals(0, he.exit(), he.err());
    assertTrue(he.out().contains("sandbox: "), he.out());
    List<MetricRecord> metrics = RecordIo.readMetrics(run.resolve("metrics/humaneval.jsonl"));
    assertEquals(0.5, metric(metrics, "all", "pass@1").value(), 1e-12);
    assertTrue(metrics.stream().noneMatch(m -> m.metric().equals("pass@10")), "k above n is not reported");
    List<ScoreRecord> scores = RecordIo.readScores(run.resolve("scores/humaneval.jsonl"));
    assertTrue(scores.stream().anyMatch(s -> "failed: AssertionError".equals(s.reason())));
    assertTrue(scores.stream().anyMatch(s -> s.reason() != null && s.reason().startsWith("timed out")));
  }

  @Test
  void scoresThePublishedMmluProResponses(@TempDir Path dir) throws Exception {
    Path file = SharedFiles.require(SharedFiles.MMLU_PRO_RESPONSES);
    Outcome o = execute(new ScoreCommand(), "mmlu-pro", "--responses", file.toString(), "--out", dir.toString(),
        "--format", "jsonl");
    assertEquals(0, o.exit(), o.err());
    List<MetricRecord> metrics = RecordIo.readMetrics(dir.resolve("metrics/mmlu-pro.jsonl"));
    MetricRecord acc = metric(metrics, "all", "accuracy");
    assertEquals(12032, acc.n());
    assertEquals(14, metrics.stream().filter(m -> m.metric().equals("accuracy")).count() - 1);
    System.out.printf("MMLU-Pro published Llama-3.1-8B-Instruct responses: accuracy %.2f, with the official "
        + "random fallback %.2f%n", 100 * acc.value(), 100 * metric(metrics, "all", "accuracy_random_fallback").value());
  }

  @Test
  void compareExitsOneOnlyOnRegressionsBeyondThresholdAndNoise(@TempDir Path dir) throws Exception {
    Path good = dir.resolve("good");
    Path same = dir.resolve("same");
    Path bad = dir.resolve("bad");
    assertEquals(0, score("ruler", SampleRuns.ruler(dir.resolve("a"), 1.0, RecordFormat.PARQUET), good).exit());
    assertEquals(0, score("ruler", SampleRuns.ruler(dir.resolve("b"), 1.0, RecordFormat.JSONL), same).exit());
    assertEquals(0, score("ruler", SampleRuns.ruler(dir.resolve("c"), 0.3, RecordFormat.PARQUET), bad).exit());

    Outcome unchanged = execute(new CompareCommand(), same.toString(), good.toString());
    assertEquals(0, unchanged.exit(), unchanged.out() + unchanged.err());
    assertTrue(unchanged.out().contains("verdict: no regression"), unchanged.out());
    assertFalse(unchanged.out().contains("precision differs"), "runs without run.json are not told apart");

    // runs in different weight precisions compare, with the difference said first
    RunFactsFile.write(same, new RunFacts("/models/kimi", "sha256:abc", "BF16 weights; fp8 linear weights", "cuda",
        1, 1, List.of()));
    RunFactsFile.write(good, new RunFacts("/models/kimi", "sha256:abc", "BF16 weights; bf16 linear weights", "cuda",
        1, 1, List.of()));
    Outcome otherPrecision = execute(new CompareCommand(), same.toString(), good.toString());
    assertEquals(0, otherPrecision.exit(), otherPrecision.out() + otherPrecision.err());
    assertTrue(otherPrecision.out().startsWith("note: precision differs from the baseline's, so the deltas include "
        + "its effect: this run: BF16 weights; fp8 linear weights; baseline: BF16 weights; bf16 linear weights"),
        otherPrecision.out());

    Outcome worse = execute(new CompareCommand(), bad.toString(), good.toString(), "--report",
        dir.resolve("cmp.html").toString());
    assertEquals(1, worse.exit(), worse.out() + worse.err());
    assertTrue(worse.out().contains("REGRESSION") && worse.out().contains("regressed"), worse.out());
    assertTrue(Files.readString(dir.resolve("cmp.html")).contains("Against the baseline"));

    // the reverse direction is an improvement, not a regression
    Outcome better = execute(new CompareCommand(), good.toString(), bad.toString());
    assertEquals(0, better.exit(), better.out());
    assertTrue(better.out().contains("improved"), better.out());

    // a threshold larger than any drop tolerates it
    Outcome tolerant = execute(new CompareCommand(), bad.toString(), good.toString(), "--max-drop", "100");
    assertEquals(0, tolerant.exit(), tolerant.out());

    // a metrics file can be given directly
    Outcome files = execute(new CompareCommand(), bad.resolve("metrics/ruler.parquet").toString(),
        good.resolve("metrics").toString());
    assertEquals(1, files.exit(), files.out() + files.err());

    // a report written with a baseline shows the deltas
    assertEquals(0, score("ruler", SampleRuns.ruler(dir.resolve("d"), 0.3, RecordFormat.PARQUET), bad,
        "--baseline", good.toString()).exit());
    assertTrue(Files.readString(bad.resolve("report.html")).contains("Regression: "));
  }

  @Test
  void dropsWithinNoiseDoNotFail(@TempDir Path dir) throws Exception {
    Path base = dir.resolve("base.jsonl");
    Path run = dir.resolve("run.jsonl");
    RecordIo.writeMetrics(base, RecordFormat.JSONL,
        List.of(new MetricRecord("gpqa", "all", "accuracy", 0.40, 198, 0.334, 0.470)));
    RecordIo.writeMetrics(run, RecordFormat.JSONL,
        List.of(new MetricRecord("gpqa", "all", "accuracy", 0.37, 198, 0.306, 0.439)));
    Outcome o = execute(new CompareCommand(), run.toString(), base.toString());
    assertEquals(0, o.exit(), o.out());
    assertTrue(o.out().contains("drop within noise"), o.out());
  }

  @Test
  void badInvocationsAreOneClearLine(@TempDir Path dir) throws Exception {
    SampleRuns.Inputs in = SampleRuns.gpqa(dir, RecordFormat.JSONL);
    Outcome unknown = execute(new ScoreCommand(), "mmlu", "--prompts", in.prompts().toString(), "--generations",
        in.generations().toString(), "--out", dir.resolve("o").toString());
    assertEquals(1, unknown.exit());
    assertTrue(unknown.err().startsWith("score: unknown benchmark 'mmlu'"), unknown.err());
    assertEquals(1, unknown.err().strip().lines().count());

    Outcome missing = execute(new ScoreCommand(), "gpqa", "--prompts", in.prompts().toString(), "--out",
        dir.resolve("o").toString());
    assertEquals(1, missing.exit());
    assertTrue(missing.err().contains("--generations"), missing.err());

    Path stray = dir.resolve("stray.jsonl");
    Files.writeString(stray, "{\"id\":\"gpqa/Physics/nope\",\"benchmark\":\"gpqa\",\"sample\":0,\"text\":\"Answer: A\"}\n");
    Outcome unmatched = execute(new ScoreCommand(), "gpqa", "--prompts", in.prompts().toString(), "--generations",
        stray.toString(), "--out", dir.resolve("o").toString());
    assertEquals(1, unmatched.exit());
    assertTrue(unmatched.err().contains("gpqa/Physics/nope"), unmatched.err());

    Outcome noRun = execute(new CompareCommand(), dir.resolve("absent").toString(), dir.toString());
    assertEquals(2, noRun.exit());
    assertTrue(noRun.err().startsWith("compare: ") && noRun.err().contains("absent"), noRun.err());
  }
}
