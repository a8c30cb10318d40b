package dev.kimilinear.eval.trend;

import dev.kimilinear.eval.records.TrendRecord;
import dev.kimilinear.eval.report.Html;
import java.util.List;
import java.util.Locale;

/**
 * One metric of one subset over runs as an inline SVG: the value as a line, its 95% interval as a
 * band, a red ring on each point that regressed against the run before. The value axis spans the
 * data (bands included), so a drop of a point or two is visible.
 */
final class TrendChart {

  private static final int WIDTH = 340;
  private static final int HEIGHT = 150;
  private static final int LEFT = 38;
  private static final int RIGHT = 10;
  private static final int TOP = 8;
  private static final int BOTTOM = 22;

  private TrendChart() {}

  /** {@code points[i]}: the metric in run i (null where that run lacks it); {@code runs}: x labels. */
  static String render(String title, List<String> runs, TrendRecord[] points) {
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (TrendRecord p : points) {
      if (p != null) {
        lo = Math.min(lo, 100 * finiteOr(p.ciLow(), p.value()));
        hi = Math.max(hi, 100 * finiteOr(p.ciHigh(), p.value()));
      }
    }
    lo = Math.max(0, Math.floor(lo - 1));
    hi = Math.min(100, Math.ceil(hi + 1));
    if (hi - lo < 2) {
      hi = Math.min(100, lo + 2);
      lo = hi - 2;
    }
    int plotW = WIDTH - LEFT - RIGHT;
    int plotH = HEIGHT - TOP - BOTTOM;
    int n = runs.size();
    StringBuilder s = new StringBuilder();
    s.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"trend\" width=\"%d\" "
        + "height=\"%d\" role=\"img\"><title>%s</title>", WIDTH, HEIGHT, Html.escape(title)));
    for (int k = 0; k <= 2; k++) {
      double v = lo + (hi - lo) * k / 2;
      double y = TOP + plotH * (1 - k / 2.0);
      s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>"
          + "<text x=\"%d\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\" fill=\"#555\">%.0f</text>",
          LEFT, y, LEFT + plotW, y, LEFT - 4, y + 3, v));
    }
    double[] xs = new double[n];
    for (int i = 0; i < n; i++) {
      xs[i] = n == 1 ? LEFT + plotW / 2.0 : LEFT + plotW * i / (double) (n - 1);
    }
    int labelEvery = Math.max(1, (int) Math.ceil(n / 6.0));
    for (int i = 0; i < n; i += labelEvery) {
      // the first and last labels lean inward, so the chart's edges do not cut them
      String anchor = n > 1 && i == 0 ? "start" : n > 1 && i == n - 1 ? "end" : "middle";
      s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"9\" text-anchor=\"%s\" "
          + "fill=\"#555\">%s</text>", xs[i], HEIGHT - 8, anchor, Html.escape(shortLabel(runs.get(i)))));
    }
    StringBuilder upper = new StringBuilder();
    StringBuilder lower = new StringBuilder();
    StringBuilder line = new StringBuilder();
    StringBuilder marks = new StringBuilder();
    for (int i = 0; i < n; i++) {
      TrendRecord p = points[i];
      if (p == null) {
        continue;
      }
      double y = y(100 * p.value(), lo, hi, plotH);
      upper.append(String.format(Locale.ROOT, "%.1f,%.1f ", xs[i], y(100 * finiteOr(p.ciHigh(), p.value()), lo, hi, plotH)));
      lower.insert(0, String.format(Locale.ROOT, "%.1f,%.1f ", xs[i], y(100 * finiteOr(p.ciLow(), p.value()), lo, hi, plotH)));
      line.append(String.format(Locale.ROOT, "%.1f,%.1f ", xs[i], y));
      boolean regressed = "regressed".equals(p.verdict());
      marks.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\"%s>"
          + "<title>%s</title></circle>", xs[i], y, regressed ? "5" : "2.5", regressed ? "#fff" : "#1f77b4",
          regressed ? " stroke=\"#d62728\" stroke-width=\"2.5\" class=\"regressed\"" : "",
          Html.escape(String.format(Locale.ROOT, "%s: %.2f [%.2f, %.2f]%s", p.run(), 100 * p.value(),
              100 * p.ciLow(), 100 * p.ciHigh(), p.verdict() == null ? "" : ", " + p.verdict()))));
    }
    s.append("<polygon class=\"band\" points=\"").append((upper.toString() + lower).strip())
        .append("\" fill=\"#1f77b4\" fill-opacity=\"0.18\" stroke=\"none\"/>");
    s.append("<polyline class=\"value\" points=\"").append(line.toString().strip())
        .append("\" fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.8\"/>");
    s.append(marks);
    return s.append("</svg>").toString();
  }

  private static double y(double percent, double lo, double hi, int plotH) {
    double clamped = Math.max(lo, Math.min(hi, percent));
    return TOP + plotH * (1 - (clamped - lo) / (hi - lo));
  }

  private static double finiteOr(double v, double fallback) {
    return Double.isNaN(v) ? fallback : v;
  }

  /** Run names are often "nightly-2026-12-07": the axis shows their last 10 characters. */
  private static String shortLabel(String run) {
    return run.length() <= 10 ? run : run.substring(run.length() - 10);
  }
}
