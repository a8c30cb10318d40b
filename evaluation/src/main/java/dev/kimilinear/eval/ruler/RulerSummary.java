package dev.kimilinear.eval.ruler;

import dev.kimilinear.eval.metrics.MetricsTable;
import dev.kimilinear.eval.records.MetricRecord;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * RULER's official summary beside ours, per length. NVIDIA/RULER's scripts/eval/evaluate.py writes
 * each task's score as {@code round(100 * mean, 2)}; its published tables give a length's mean over
 * the 13 tasks, which is only given here when all 13 ran. Ours is the {@code all@LENGTH} average,
 * over the tasks that ran.
 */
public record RulerSummary(List<String> tasks, List<Length> lengths) {

  public static final String SOURCE = "NVIDIA/RULER scripts/eval/evaluate.py";

  /**
   * One length: the official score of each task that ran (x100, 2 places), what ran, and our average.
   *
   * @param ours our {@code all@LENGTH} average; null when no task ran at this length
   */
  public record Length(String length, Map<String, Double> official, RulerCoverage coverage, MetricRecord ours) {
    public Length {
      official = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(official));
    }

    /** The mean of the 13 official task scores, 2 places; empty unless all 13 ran. */
    public Optional<Double> officialMean() {
      if (!coverage.allOfficialRan()) {
        return Optional.empty();
      }
      double sum = 0;
      for (String task : RulerScorer.TASKS) {
        sum += official.get(task);
      }
      return Optional.of(round2(sum / RulerScorer.TASKS.size()));
    }

    /** The official mean, or why it is not given. */
    public String officialMeanText() {
      List<String> missing = coverage.officialMissing();
      return officialMean().map(MetricsTable::twoPlaces).orElse("not given: " + missing.size() + " of "
          + RulerScorer.TASKS.size() + " tasks did not run (" + String.join(", ", missing) + ")");
    }

    /** Our average and what it covers. */
    public String oursText() {
      return ours == null ? "none: no task ran" : MetricsTable.points(ours.value()) + ", " + coverage.note();
    }
  }

  /** The summary of a run's RULER metrics; empty when they hold no RULER task. */
  public static Optional<RulerSummary> of(List<MetricRecord> metrics) {
    List<MetricRecord> ruler = metrics.stream().filter(m -> m.benchmark().equals(RulerScorer.BENCHMARK)).toList();
    List<RulerCoverage> coverage = RulerCoverage.of(ruler);
    if (coverage.isEmpty()) {
      return Optional.empty();
    }
    Map<String, MetricRecord> averages = new LinkedHashMap<>();
    Map<String, Map<String, Double>> scores = new LinkedHashMap<>();
    for (MetricRecord m : ruler) {
      if (m.subset().startsWith("all@") && m.metric().equals(RulerScorer.LENGTH_AVERAGE)) {
        averages.put(m.subset().substring(4), m);
      }
      RulerSubset cell = RulerCoverage.taskCell(m);
      if (cell != null && m.ran()) {
        scores.computeIfAbsent(cell.length(), k -> new LinkedHashMap<>()).putIfAbsent(cell.task(), official(m.value()));
      }
    }
    Set<String> tasks = new LinkedHashSet<>(RulerScorer.TASKS);
    List<Length> lengths = new ArrayList<>();
    for (RulerCoverage c : coverage) {
      tasks.addAll(c.ran());
      tasks.addAll(c.notRun().keySet());
      lengths.add(new Length(c.length(), scores.getOrDefault(c.length(), Map.of()), c, averages.get(c.length())));
    }
    return Optional.of(new RulerSummary(List.copyOf(tasks), lengths));
  }

  /** A task's score as evaluate.py writes it: {@code round(100 * mean, 2)}, Python's rounding of the double. */
  public static double official(double fraction) {
    return round2(100 * fraction);
  }

  private static double round2(double x) {
    return Double.isNaN(x) ? x : new BigDecimal(x).setScale(2, RoundingMode.HALF_EVEN).doubleValue();
  }

  /** One task's cell at one length: its official score, "not run" or "-" (not in this run). */
  public String cell(String task, Length length) {
    Double score = length.official().get(task);
    if (score != null) {
      return MetricsTable.twoPlaces(score);
    }
    return length.coverage().notRun().containsKey(task) ? MetricRecord.NOT_RUN : "-";
  }

  /** Why each task that did not run did not, over all lengths (the first reason given). */
  public Map<String, String> notRunReasons() {
    Map<String, String> out = new LinkedHashMap<>();
    for (Length l : lengths) {
      l.coverage().notRun().forEach(out::putIfAbsent);
    }
    return out;
  }

  /** The console text: a task x length table of official scores, the official mean and ours per length. */
  public String format() {
    int width = "official mean".length();
    for (String t : tasks) {
      width = Math.max(width, t.length());
    }
    int col = MetricRecord.NOT_RUN.length();
    for (Length l : lengths) {
      col = Math.max(col, l.length().length());
    }
    String first = "%-" + width + "s";
    String cellFormat = "  %" + col + "s";
    StringBuilder out = new StringBuilder();
    out.append("RULER: the official summary (").append(SOURCE).append(": each task's score x100, 2 places; the mean")
        .append(" over the 13 tasks only when all 13 ran) beside ours (mean over the tasks that ran)\n");
    out.append(String.format(Locale.ROOT, first, "task"));
    lengths.forEach(l -> out.append(String.format(Locale.ROOT, cellFormat, l.length())));
    out.append('\n');
    for (String task : tasks) {
      out.append(String.format(Locale.ROOT, first, task));
      lengths.forEach(l -> out.append(String.format(Locale.ROOT, cellFormat, cell(task, l))));
      out.append('\n');
    }
    out.append(String.format(Locale.ROOT, first, "official mean"));
    lengths.forEach(l -> out.append(String.format(Locale.ROOT, cellFormat,
        l.officialMean().map(MetricsTable::twoPlaces).orElse("n/a"))));
    out.append('\n').append(String.format(Locale.ROOT, first, "ours"));
    lengths.forEach(l -> out.append(String.format(Locale.ROOT, cellFormat,
        l.ours() == null ? "n/a" : MetricsTable.points(l.ours().value()))));
    out.append('\n');
    for (Length l : lengths) {
      out.append("at ").append(l.length()).append(": official mean ").append(l.officialMeanText())
          .append("; ours ").append(l.oursText()).append('\n');
    }
    notRunReasons().forEach((task, why) -> out.append(task).append(": not run (").append(why).append(")\n"));
    return out.toString();
  }
}
