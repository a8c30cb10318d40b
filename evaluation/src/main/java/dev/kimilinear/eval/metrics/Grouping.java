package dev.kimilinear.eval.metrics;

import dev.kimilinear.eval.records.MetricRecord;
import dev.kimilinear.eval.records.ScoreRecord;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;

/** Groups scores by a key, keys in sorted order. */
public final class Grouping {

  private Grouping() {}

  public static Map<String, List<ScoreRecord>> by(List<ScoreRecord> scores, Function<ScoreRecord, String> key) {
    return scores.stream().collect(Collectors.groupingBy(
        s -> {
          String k = key.apply(s);
          return k == null ? "(none)" : k;
        },
        TreeMap::new, Collectors.toList()));
  }

  public static Map<String, List<ScoreRecord>> bySubset(List<ScoreRecord> scores) {
    return by(scores, ScoreRecord::subset);
  }

  /** Every score under {@link MetricRecord#ALL} first, then the scores of each subset. */
  public static Map<String, List<ScoreRecord>> allThenBySubset(List<ScoreRecord> scores) {
    Map<String, List<ScoreRecord>> groups = new LinkedHashMap<>();
    groups.put(MetricRecord.ALL, scores);
    groups.putAll(bySubset(scores));
    return groups;
  }

  public static double[] scoreValues(List<ScoreRecord> scores) {
    return scores.stream().mapToDouble(ScoreRecord::score).toArray();
  }
}
