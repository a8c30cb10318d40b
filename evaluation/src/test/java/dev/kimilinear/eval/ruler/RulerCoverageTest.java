package dev.kimilinear.eval.ruler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kimilinear.eval.metrics.Metrics;
import dev.kimilinear.eval.metrics.MetricsTable;
import dev.kimilinear.eval.records.MetricRecord;
import dev.kimilinear.eval.records.PromptRecord;
import dev.kimilinear.eval.records.GenerationRecord;
import dev.kimilinear.eval.scoring.ScoringRun;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RulerCoverageTest {

  static final String ESSAY = "no essay file: benchmarks.ruler.essay is not set";

  /** Scored metrics of niah_single_1 and vt at two lengths, as RulerScorer writes them. */
  static List<MetricRecord> scored() {
    List<PromptRecord> prompts = new ArrayList<>();
    List<GenerationRecord> gens = new ArrayList<>();
    for (String length : List.of("4096", "8192")) {
      for (String task : List.of("niah_single_1", "vt")) {
        PromptRecord p = RulerScorerTest.prompt(task, length, 0, "[\"1234567\"]");
        prompts.add(p);
        gens.add(RulerScorerTest.gen(p, "1234567"));
      }
    }
    return ScoringRun.run(new RulerScorer(), prompts, gens).metrics();
  }

  static List<MetricRecord> skipped(String task, String reason) {
    return List.of(MetricRecord.notRun("ruler", task + "@4096", "string_match_all", reason),
        MetricRecord.notRun("ruler", task + "@8192", "string_match_all", reason));
  }

  static MetricRecord row(List<MetricRecord> metrics, String subset) {
    return metrics.stream().filter(m -> m.subset().equals(subset)).findFirst()
        .orElseThrow(() -> new AssertionError("no row " + subset + " in " + metrics));
  }

  @Test
  void averagesOfScoredMetricsSayWhichTasksTheyCover() {
    List<MetricRecord> metrics = scored();
    String note = row(metrics, "all@4096").note();
    assertTrue(note.startsWith("mean over 2 of 13 tasks; not in this run: niah_single_2, niah_single_3,"), note);
    assertTrue(row(metrics, "all").note().startsWith("mean over 2 of 13 tasks at 2 lengths; not in this run: "),
        row(metrics, "all").note());
    assertNull(row(metrics, "vt@4096").note(), "task rows carry no note");
  }

  @Test
  void skippedTasksGetARowPerLengthAndTheAveragesNameThem() {
    List<MetricRecord> before = List.of(Metrics.proportion("gpqa", "all", "accuracy", 1, 2));
    List<MetricRecord> metrics = new ArrayList<>(before);
    metrics.addAll(scored());
    List<MetricRecord> notRun = new ArrayList<>(skipped("niah_single_2", ESSAY));
    notRun.addAll(skipped("qa_1", "no SQuAD file: benchmarks.ruler.squad is not set"));
    List<MetricRecord> out = RulerCoverage.withNotRun(metrics, notRun);

    assertEquals(metrics.size() + 4, out.size());
    assertEquals("gpqa", out.get(0).benchmark(), "other benchmarks keep their place");
    MetricRecord skippedRow = row(out, "niah_single_2@8192");
    assertFalse(skippedRow.ran());
    assertEquals("not run (" + ESSAY + ")", skippedRow.notRunText());
    assertTrue(Double.isNaN(skippedRow.value()));
    String at4k = row(out, "all@4096").note();
    assertTrue(at4k.startsWith("mean over 2 of 13 tasks; not run: niah_single_2, qa_1; not in this run: niah_single_3,"),
        at4k);
    assertFalse(at4k.substring(at4k.indexOf("not in this run")).contains("qa_1"), at4k);
    // the averages' values are still over the tasks that ran
    assertEquals(1.0, row(out, "all@4096").value(), 1e-12);
    // task rows in length then task order, the skipped ones among them
    List<String> cells = out.stream().filter(m -> m.benchmark().equals("ruler") && !m.subset().startsWith("all"))
        .map(MetricRecord::subset).toList();
    assertEquals(List.of("niah_single_1@4096", "niah_single_2@4096", "qa_1@4096", "vt@4096",
        "niah_single_1@8192", "niah_single_2@8192", "qa_1@8192", "vt@8192"), cells);

    String table = MetricsTable.format(out);
    assertTrue(table.contains("niah_single_2@4096  string_match_all  not run (" + ESSAY + ")"), table);
    assertTrue(table.contains("mean over 2 of 13 tasks; not run: niah_single_2, qa_1"), table);
  }

  @Test
  void everyTaskSkippedStillLeavesItsRows() {
    List<MetricRecord> out = RulerCoverage.withNotRun(List.of(), skipped("niah_single_2", ESSAY));
    assertEquals(2, out.size());
    assertTrue(out.stream().noneMatch(MetricRecord::ran));
    assertEquals("mean over 0 of 13 tasks; not run: niah_single_2; not in this run: niah_single_1, niah_single_3, "
        + "niah_multikey_1, niah_multikey_2, niah_multikey_3, niah_multivalue, niah_multiquery, vt, cwe, fwe, qa_1, qa_2",
        RulerCoverage.of(out).get(0).note());
  }

  @Test
  void aNotRunRowMustBeARulerTaskMarkedNotRun() {
    MetricRecord ran = Metrics.mean("ruler", "vt@4096", "string_match_all", new double[] {1});
    assertThrows(IllegalArgumentException.class, () -> RulerCoverage.withNotRun(List.of(), List.of(ran)));
  }
}
