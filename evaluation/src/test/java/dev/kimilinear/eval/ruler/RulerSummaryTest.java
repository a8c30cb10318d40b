package dev.kimilinear.eval.ruler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kimilinear.eval.metrics.Metrics;
import dev.kimilinear.eval.records.MetricRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RulerSummaryTest {

  /** Every task at 4096, a task-dependent mean of two samples, except those in {@code skip}, not run. */
  static List<MetricRecord> run(List<String> skip) {
    List<MetricRecord> cells = new ArrayList<>();
    List<MetricRecord> notRun = new ArrayList<>();
    for (int i = 0; i < RulerScorer.TASKS.size(); i++) {
      String task = RulerScorer.TASKS.get(i);
      String metric = task.startsWith("qa") ? RulerScorer.MATCH_PART : RulerScorer.MATCH_ALL;
      if (skip.contains(task)) {
        notRun.add(MetricRecord.notRun("ruler", task + "@4096", metric, "squad file /x not given"));
      } else {
        cells.add(Metrics.mean("ruler", task + "@4096", metric, new double[] {1.0 / 3 + i * 0.01, 1.0 / 3}));
      }
    }
    List<double[]> strata = cells.stream().map(m -> new double[] {m.value()}).toList();
    List<MetricRecord> metrics = new ArrayList<>();
    metrics.add(Metrics.meanOfStrata("ruler", "all@4096", RulerScorer.LENGTH_AVERAGE, strata));
    metrics.addAll(cells);
    return RulerCoverage.withNotRun(metrics, notRun);
  }

  @Test
  void taskScoresAreRoundedAsEvaluatePyRoundsThem() {
    assertEquals(66.67, RulerSummary.official(2.0 / 3));
    assertEquals(33.33, RulerSummary.official(1.0 / 3));
    assertEquals(50.0, RulerSummary.official(0.5));
    // Python's round on the double: ties to even (0.125 -> 0.12, 0.375 -> 0.38), 2.675 lies below its tie
    assertEquals(0.12, RulerSummary.official(0.00125));
    assertEquals(0.38, RulerSummary.official(0.00375));
    assertEquals(2.67, RulerSummary.official(0.02675));
  }

  @Test
  void theOfficialMeanIsGivenWhenAllThirteenRan() {
    RulerSummary summary = RulerSummary.of(run(List.of())).orElseThrow();
    RulerSummary.Length at4k = summary.lengths().get(0);
    double sum = 0;
    for (String task : RulerScorer.TASKS) {
      sum += at4k.official().get(task);
    }
    assertEquals(Optional.of(Math.round(sum / 13 * 100) / 100.0), at4k.officialMean());
    assertEquals("mean over 13 of 13 tasks", at4k.coverage().note());
    String text = summary.format();
    assertTrue(text.contains("official mean " + String.format(java.util.Locale.ROOT, "%.2f", at4k.officialMean().get())
        + "; ours "), text);
  }

  @Test
  void theOfficialMeanIsNotGivenWhenATaskDidNotRunAndSaysWhy() {
    RulerSummary summary = RulerSummary.of(run(List.of("qa_1", "qa_2"))).orElseThrow();
    RulerSummary.Length at4k = summary.lengths().get(0);
    assertEquals(Optional.empty(), at4k.officialMean());
    assertEquals("not given: 2 of 13 tasks did not run (qa_1, qa_2)", at4k.officialMeanText());
    assertEquals(11, at4k.official().size());
    assertEquals("not run", summary.cell("qa_1", at4k));
    String text = summary.format();
    assertTrue(text.contains("at 4096: official mean not given: 2 of 13 tasks did not run (qa_1, qa_2); ours "), text);
    assertTrue(text.contains("mean over 11 of 13 tasks; not run: qa_1, qa_2"), text);
    assertTrue(text.contains("qa_1: not run (squad file /x not given)"), text);
    assertTrue(text.lines().anyMatch(l -> l.matches("qa_2\\s+not run")), text);
    assertTrue(text.lines().anyMatch(l -> l.matches("official mean\\s+n/a")), text);
  }

  @Test
  void aTaskAbsentFromTheRunAlsoWithholdsTheOfficialMean() {
    List<MetricRecord> metrics = run(List.of()).stream().filter(m -> !m.subset().startsWith("fwe@")).toList();
    RulerSummary.Length at4k = RulerSummary.of(metrics).orElseThrow().lengths().get(0);
    assertEquals("not given: 1 of 13 tasks did not run (fwe)", at4k.officialMeanText());
    assertEquals("-", RulerSummary.of(metrics).orElseThrow().cell("fwe", at4k));
  }

  @Test
  void noRulerRowsNoSummary() {
    assertTrue(RulerSummary.of(List.of(Metrics.proportion("gpqa", "all", "accuracy", 1, 2))).isEmpty());
  }
}
