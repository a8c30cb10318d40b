package dev.kimilinear.eval.metrics;

import dev.kimilinear.eval.records.MetricRecord;
import java.util.List;
import java.util.Locale;

/**
 * A plain-text table of metrics, values and intervals in percentage points. A subset that did not
 * run shows "not run (reason)" in place of its value; a note (what an average covers) ends its row.
 */
public final class MetricsTable {

  private MetricsTable() {}

  public static String format(List<MetricRecord> metrics) {
    int wb = "benchmark".length();
    int ws = "subset".length();
    int wm = "metric".length();
    for (MetricRecord m : metrics) {
      wb = Math.max(wb, m.benchmark().length());
      ws = Math.max(ws, m.subset().length());
      wm = Math.max(wm, m.metric().length());
    }
    String names = "%-" + wb + "s  %-" + ws + "s  %-" + wm + "s  ";
    String row = names + "%7s  %17s  %7s";
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, row, "benchmark", "subset", "metric", "value", "95% CI", "n")).append('\n');
    for (MetricRecord m : metrics) {
      if (!m.ran()) {
        out.append(String.format(Locale.ROOT, names, m.benchmark(), m.subset(), m.metric()))
            .append(m.notRunText()).append('\n');
        continue;
      }
      out.append(String.format(Locale.ROOT, row, m.benchmark(), m.subset(), m.metric(),
          points(m.value()), "[" + points(m.ciLow()) + ", " + points(m.ciHigh()) + "]", m.n()));
      if (m.note() != null) {
        out.append("  ").append(m.note());
      }
      out.append('\n');
    }
    return out.toString();
  }

  public static String points(double fraction) {
    return Double.isNaN(fraction) ? "n/a" : twoPlaces(100 * fraction);
  }

  /** A value already in percentage points, to 2 places. */
  public static String twoPlaces(double points) {
    return Double.isNaN(points) ? "n/a" : String.format(Locale.ROOT, "%.2f", points);
  }
}
