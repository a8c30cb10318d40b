package dev.kimilinear.eval.compare;

import dev.kimilinear.eval.metrics.ConfidenceIntervals;
import dev.kimilinear.eval.metrics.Interval;
import dev.kimilinear.eval.metrics.MetricsTable;
import dev.kimilinear.eval.records.MetricRecord;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A run's metrics against a baseline's. A metric regresses when it got worse by more than
 * {@code maxDropPoints} percentage points and the 95% interval of the difference (from the two
 * runs' own intervals, see {@link ConfidenceIntervals#difference}) lies entirely on the worse side.
 * A subset that did not run (in either run) is not compared: a score the other run has for it
 * counts as only in that run.
 */
public record RunComparison(List<MetricDelta> deltas, List<MetricRecord> onlyInRun,
    List<MetricRecord> onlyInBaseline, double maxDropPoints) {

  /** Metrics where a smaller value is better. */
  static final Set<String> LOWER_IS_BETTER = Set.of("no_answer_rate");

  public static RunComparison of(List<MetricRecord> run, List<MetricRecord> baseline, double maxDropPoints) {
    if (maxDropPoints < 0 || Double.isNaN(maxDropPoints)) {
      throw new IllegalArgumentException("--max-drop must be a non-negative number of points, got " + maxDropPoints);
    }
    Map<String, MetricRecord> base = new LinkedHashMap<>();
    baseline.stream().filter(MetricRecord::ran).forEach(m -> base.put(m.key(), m));
    List<MetricDelta> deltas = new ArrayList<>();
    List<MetricRecord> onlyInRun = new ArrayList<>();
    for (MetricRecord r : run.stream().filter(MetricRecord::ran).toList()) {
      MetricRecord b = base.remove(r.key());
      if (b == null) {
        onlyInRun.add(r);
      } else {
        deltas.add(delta(r, b, maxDropPoints));
      }
    }
    return new RunComparison(deltas, onlyInRun, new ArrayList<>(base.values()), maxDropPoints);
  }

  static MetricDelta delta(MetricRecord r, MetricRecord b, double maxDropPoints) {
    double d = r.value() - b.value();
    Interval ci = ConfidenceIntervals.difference(r.value(), new Interval(r.ciLow(), r.ciHigh()),
        b.value(), new Interval(b.ciLow(), b.ciHigh()));
    boolean lowerBetter = LOWER_IS_BETTER.contains(r.metric());
    double worsening = lowerBetter ? d : -d;
    boolean worseBeyondNoise = lowerBetter ? ci.low() > 0 : ci.high() < 0;
    boolean betterBeyondNoise = lowerBetter ? ci.high() < 0 : ci.low() > 0;
    MetricDelta.Verdict verdict;
    if (worsening * 100 > maxDropPoints) {
      verdict = worseBeyondNoise ? MetricDelta.Verdict.REGRESSED : MetricDelta.Verdict.DROP_WITHIN_NOISE;
    } else if (betterBeyondNoise) {
      verdict = MetricDelta.Verdict.IMPROVED;
    } else {
      verdict = MetricDelta.Verdict.UNCHANGED;
    }
    return new MetricDelta(r, b, d, ci.low(), ci.high(), verdict);
  }

  public List<MetricDelta> regressions() {
    return deltas.stream().filter(d -> d.verdict() == MetricDelta.Verdict.REGRESSED).toList();
  }

  /** Deltas between values that say they cover different things, e.g. RULER averages over different tasks. */
  public List<MetricDelta> coverageDiffers() {
    return deltas.stream().filter(d -> d.run().note() != null && d.baseline().note() != null
        && !d.run().note().equals(d.baseline().note())).toList();
  }

  public boolean regressed() {
    return !regressions().isEmpty();
  }

  /** A plain-text table of the deltas, in percentage points, and a verdict line. */
  public String format() {
    int wb = 9;
    int ws = 6;
    int wm = 6;
    for (MetricDelta d : deltas) {
      wb = Math.max(wb, d.run().benchmark().length());
      ws = Math.max(ws, d.run().subset().length());
      wm = Math.max(wm, d.run().metric().length());
    }
    String row = "%-" + wb + "s  %-" + ws + "s  %-" + wm + "s  %7s  %8s  %7s  %17s  %s%n";
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, row, "benchmark", "subset", "metric", "run", "baseline", "delta",
        "95% CI of delta", "verdict"));
    for (MetricDelta d : deltas) {
      out.append(String.format(Locale.ROOT, row, d.run().benchmark(), d.run().subset(), d.run().metric(),
          MetricsTable.points(d.run().value()), MetricsTable.points(d.baseline().value()), signed(d.delta()),
          "[" + signed(d.ciLow()) + ", " + signed(d.ciHigh()) + "]", d.verdict().label()));
    }
    if (!onlyInRun.isEmpty()) {
      out.append(onlyInRun.size()).append(" metrics only in the run (not compared)\n");
    }
    if (!onlyInBaseline.isEmpty()) {
      out.append(onlyInBaseline.size()).append(" metrics only in the baseline (not compared)\n");
    }
    for (MetricDelta d : coverageDiffers()) {
      out.append("note: ").append(d.run().benchmark()).append(' ').append(d.run().subset())
          .append(" covers different things: run ").append(d.run().note()).append("; baseline ")
          .append(d.baseline().note()).append('\n');
    }
    List<MetricDelta> regressions = regressions();
    if (regressions.isEmpty()) {
      out.append(String.format(Locale.ROOT, "verdict: no regression (threshold %.2f points, 95%% intervals)%n",
          maxDropPoints));
    } else {
      out.append(String.format(Locale.ROOT, "verdict: REGRESSION in %d metrics beyond %.2f points and beyond noise:%n",
          regressions.size(), maxDropPoints));
      for (MetricDelta d : regressions) {
        out.append("  ").append(d.run().benchmark()).append(' ').append(d.run().subset()).append(' ')
            .append(d.run().metric()).append(' ').append(signed(d.delta())).append('\n');
      }
    }
    return out.toString();
  }

  static String signed(double fraction) {
    return Double.isNaN(fraction) ? "n/a" : String.format(Locale.ROOT, "%+.2f", 100 * fraction);
  }
}
