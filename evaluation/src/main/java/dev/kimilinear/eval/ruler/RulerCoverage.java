package dev.kimilinear.eval.ruler;

import dev.kimilinear.eval.records.MetricRecord;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Which RULER tasks a run's metrics cover at one length: the tasks that ran, those configured but
 * not run (each with why), and those of RULER's 13 absent from the run. An average over tasks is
 * only comparable with another (or with RULER's published tables) when both cover the same tasks,
 * so every average says what it covers.
 *
 * @param notRun task -> why it did not run
 */
public record RulerCoverage(String length, List<String> ran, Map<String, String> notRun, List<String> absent) {

  public RulerCoverage {
    ran = List.copyOf(ran);
    notRun = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(notRun));
    absent = List.copyOf(absent);
  }

  /** Tasks an average could have covered: RULER's 13 and any other task the metrics name. */
  public int universe() {
    return ran.size() + notRun.size() + absent.size();
  }

  /** Whether RULER's 13 tasks all ran, the condition for the official mean. */
  public boolean allOfficialRan() {
    return ran.containsAll(RulerScorer.TASKS);
  }

  /** The official tasks without a score here, not run or absent. */
  public List<String> officialMissing() {
    return RulerScorer.TASKS.stream().filter(t -> !ran.contains(t)).toList();
  }

  /** What the mean over tasks at this length covers, e.g. "mean over 10 of 13 tasks; not run: qa_1, qa_2, vt". */
  public String note() {
    return coverage(ran.size() + " of " + universe() + " tasks", notRun.keySet(), absent);
  }

  /** The coverage of a RULER benchmark's metric rows at each length, in length order. */
  public static List<RulerCoverage> of(List<MetricRecord> metrics) {
    Map<RulerSubset, MetricRecord> cells = new TreeMap<>();
    Set<String> tasks = new LinkedHashSet<>(RulerScorer.TASKS);
    Set<String> extra = new TreeSet<>();
    for (MetricRecord m : metrics) {
      RulerSubset s = taskCell(m);
      if (s != null) {
        cells.putIfAbsent(s, m);
        if (!tasks.contains(s.task())) {
          extra.add(s.task());
        }
      }
    }
    tasks.addAll(extra);
    Map<String, Map<String, MetricRecord>> byLength = new LinkedHashMap<>();
    cells.forEach((s, m) -> byLength.computeIfAbsent(s.length(), k -> new LinkedHashMap<>()).put(s.task(), m));
    List<RulerCoverage> out = new ArrayList<>();
    byLength.forEach((length, row) -> {
      List<String> ran = new ArrayList<>();
      Map<String, String> notRun = new LinkedHashMap<>();
      List<String> absent = new ArrayList<>();
      for (String task : tasks) {
        MetricRecord m = row.get(task);
        if (m == null) {
          absent.add(task);
        } else if (m.ran()) {
          ran.add(task);
        } else {
          notRun.put(task, m.note() == null ? "no reason given" : m.note());
        }
      }
      out.add(new RulerCoverage(length, ran, notRun, absent));
    });
    return out;
  }

  /** What the mean over every task and length covers. */
  public static String overallNote(List<RulerCoverage> lengths) {
    if (lengths.isEmpty()) {
      return null;
    }
    RulerCoverage first = lengths.get(0);
    boolean same = lengths.stream().allMatch(c -> c.ran.equals(first.ran));
    String span = lengths.size() == 1 ? "1 length" : lengths.size() + " lengths";
    Set<String> notRun = new LinkedHashSet<>();
    Set<String> absent = new LinkedHashSet<>();
    int cells = 0;
    for (RulerCoverage c : lengths) {
      notRun.addAll(c.notRun.keySet());
      absent.addAll(c.absent);
      cells += c.ran.size();
    }
    absent.removeAll(notRun);
    String what = same ? first.ran.size() + " of " + first.universe() + " tasks at " + span
        : cells + " task-length cells at " + span + " (tasks differ by length)";
    return coverage(what, notRun, List.copyOf(absent));
  }

  /** The RULER metrics with each average's note saying which tasks it covers; other rows unchanged. */
  public static List<MetricRecord> annotate(List<MetricRecord> metrics) {
    List<MetricRecord> ruler = metrics.stream().filter(m -> m.benchmark().equals(RulerScorer.BENCHMARK)).toList();
    List<RulerCoverage> coverage = of(ruler);
    Map<String, String> notes = new LinkedHashMap<>();
    coverage.forEach(c -> notes.put("all@" + c.length(), c.note()));
    String overall = overallNote(coverage);
    List<MetricRecord> out = new ArrayList<>(metrics.size());
    for (MetricRecord m : metrics) {
      boolean average = m.benchmark().equals(RulerScorer.BENCHMARK) && m.metric().equals(RulerScorer.LENGTH_AVERAGE);
      if (average && m.subset().equals(MetricRecord.ALL)) {
        out.add(m.withNote(overall));
      } else if (average && notes.containsKey(m.subset())) {
        out.add(m.withNote(notes.get(m.subset())));
      } else {
        out.add(m);
      }
    }
    return out;
  }

  /**
   * The metrics with a row per RULER task and length that was configured but not run (from
   * {@code notRun}, made with {@link MetricRecord#notRun}), among the RULER task rows in length
   * and task order, and the averages annotated. A not-run row for a cell that has a score is dropped.
   */
  public static List<MetricRecord> withNotRun(List<MetricRecord> metrics, List<MetricRecord> notRun) {
    if (notRun.isEmpty()) {
      return annotate(metrics);
    }
    List<MetricRecord> before = new ArrayList<>();
    List<MetricRecord> averages = new ArrayList<>();
    Map<RulerSubset, MetricRecord> cells = new TreeMap<>();
    List<MetricRecord> after = new ArrayList<>();
    for (MetricRecord m : metrics) {
      RulerSubset cell = taskCell(m);
      if (cell != null) {
        cells.put(cell, m);
      } else if (m.benchmark().equals(RulerScorer.BENCHMARK)) {
        averages.add(m);
      } else {
        (averages.isEmpty() && cells.isEmpty() ? before : after).add(m);
      }
    }
    for (MetricRecord m : notRun) {
      RulerSubset cell = taskCell(m);
      if (cell == null || m.ran()) {
        throw new IllegalArgumentException("not a RULER task row marked not run: " + m);
      }
      cells.putIfAbsent(cell, m);
    }
    List<MetricRecord> out = new ArrayList<>(before);
    out.addAll(averages);
    out.addAll(cells.values());
    out.addAll(after);
    return annotate(out);
  }

  /** The task and length of a RULER row for one task at one length; null for other rows. */
  static RulerSubset taskCell(MetricRecord m) {
    if (!m.benchmark().equals(RulerScorer.BENCHMARK) || m.subset().equals(MetricRecord.ALL)) {
      return null;
    }
    try {
      RulerSubset s = RulerSubset.parse(m.subset());
      return s.task().equals(MetricRecord.ALL) ? null : s;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static String coverage(String what, java.util.Collection<String> notRun, List<String> absent) {
    StringBuilder s = new StringBuilder("mean over ").append(what);
    if (!notRun.isEmpty()) {
      s.append("; not run: ").append(String.join(", ", notRun));
    }
    if (!absent.isEmpty()) {
      s.append("; not in this run: ").append(String.join(", ", absent));
    }
    return s.toString();
  }
}
