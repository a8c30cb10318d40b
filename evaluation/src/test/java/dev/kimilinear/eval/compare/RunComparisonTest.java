package dev.kimilinear.eval.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kimilinear.eval.metrics.Metrics;
import dev.kimilinear.eval.records.MetricRecord;
import java.util.List;
import org.junit.jupiter.api.Test;

class RunComparisonTest {

  @Test
  void aSubsetThatDidNotRunIsNotComparedAndAveragesOverOtherTasksAreFlagged() {
    MetricRecord ranVt = Metrics.mean("ruler", "vt@4096", "string_match_all", new double[] {1, 1});
    MetricRecord ranQa = Metrics.mean("ruler", "qa_1@4096", "string_match_part", new double[] {1, 0});
    MetricRecord skippedQa = MetricRecord.notRun("ruler", "qa_1@4096", "string_match_part", "no SQuAD file");
    MetricRecord runAverage = Metrics.mean("ruler", "all@4096", "average", new double[] {1})
        .withNote("mean over 1 of 13 tasks; not run: qa_1");
    MetricRecord baseAverage = Metrics.mean("ruler", "all@4096", "average", new double[] {1, 0.5})
        .withNote("mean over 2 of 13 tasks");
    RunComparison c = RunComparison.of(List.of(runAverage, ranVt, skippedQa), List.of(baseAverage, ranVt, ranQa), 1.0);
    assertEquals(List.of("all@4096", "vt@4096"), c.deltas().stream().map(d -> d.run().subset()).toList());
    assertEquals(List.of(ranQa), c.onlyInBaseline());
    assertEquals(List.of(), c.onlyInRun());
    assertEquals(1, c.coverageDiffers().size());
    String text = c.format();
    assertTrue(text.contains("note: ruler all@4096 covers different things: run mean over 1 of 13 tasks; not run: qa_1;"
        + " baseline mean over 2 of 13 tasks"), text);
  }
}
