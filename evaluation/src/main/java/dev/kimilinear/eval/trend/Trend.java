package dev.kimilinear.eval.trend;

import dev.kimilinear.eval.compare.MetricDelta;
import dev.kimilinear.eval.compare.RunComparison;
import dev.kimilinear.eval.records.MetricRecord;
import dev.kimilinear.eval.records.TrendRecord;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Metrics over runs ordered by run time. Each metric of a run is judged against the same metric of
 * the latest earlier run that has it, exactly as {@code compare RUN BASELINE --max-drop} judges it
 * ({@link RunComparison}): a point regressed when it dropped by more than the threshold and the 95%
 * interval of the difference excludes zero.
 */
public record Trend(List<TrendRun> runs, List<TrendRecord> rows, double maxDropPoints) {

  public static Trend of(List<TrendRun> unordered, double maxDropPoints) {
    List<TrendRun> runs = new ArrayList<>(unordered);
    runs.sort(Comparator.comparing((TrendRun r) -> instant(r.time())).thenComparing(TrendRun::name));
    Map<String, MetricRecord> previous = new HashMap<>();
    List<TrendRecord> rows = new ArrayList<>();
    for (TrendRun run : runs) {
      List<MetricRecord> earlier = new ArrayList<>();
      for (MetricRecord m : run.metrics()) {
        MetricRecord p = previous.get(m.key());
        if (m.ran() && p != null) {
          earlier.add(p);
        }
      }
      Map<String, MetricDelta.Verdict> verdicts = new HashMap<>();
      for (MetricDelta d : RunComparison.of(run.metrics(), earlier, maxDropPoints).deltas()) {
        verdicts.put(d.run().key(), d.verdict());
      }
      for (MetricRecord m : run.metrics()) {
        if (!m.ran()) {
          continue;
        }
        MetricDelta.Verdict v = verdicts.get(m.key());
        rows.add(new TrendRecord(run.name(), run.time(), m.benchmark(), m.subset(), m.metric(), m.value(), m.ciLow(),
            m.ciHigh(), m.n(), v == null ? null : v.label()));
        previous.put(m.key(), m);
      }
    }
    return new Trend(runs, rows, maxDropPoints);
  }

  /** Rows that regressed against the run before. */
  public List<TrendRecord> regressions() {
    return rows.stream().filter(r -> MetricDelta.Verdict.REGRESSED.label().equals(r.verdict())).toList();
  }

  /** Run times as written by the job (ISO-8601 with offset) order by instant; others after, by text. */
  private static OffsetDateTime instant(String time) {
    try {
      return OffsetDateTime.parse(time);
    } catch (DateTimeParseException | NullPointerException e) {
      return OffsetDateTime.MAX;
    }
  }
}
