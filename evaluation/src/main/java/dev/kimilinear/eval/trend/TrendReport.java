package dev.kimilinear.eval.trend;

import dev.kimilinear.eval.records.AtomicFiles;
import dev.kimilinear.eval.records.TrendRecord;
import dev.kimilinear.eval.report.Html;
import dev.kimilinear.eval.metrics.MetricsTable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * trend.html: every metric of every benchmark and subset over the runs, one small chart each
 * (the overall subset first), regressions listed at the top and ringed in red on the charts.
 * Self-contained: inline CSS and SVG, no scripts, nothing fetched.
 */
public final class TrendReport {

  private static final String STYLE = """
      body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:24px 32px;color:#222}
      h1{font-size:24px;margin-bottom:4px}h2{font-size:19px;margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}
      h3{font-size:15px;margin:18px 0 6px}.muted{color:#666;font-size:13px}
      table{border-collapse:collapse;margin:8px 0 12px;font-size:13px}
      th,td{border:1px solid #ddd;padding:4px 8px;text-align:left}th{background:#f4f4f4}
      .charts{display:flex;flex-wrap:wrap;gap:8px}.chart{border:1px solid #eee;padding:4px}
      .chart .t{font-size:12px;font-weight:600}.regressed-row{background:#f8d0d0}
      """;

  private TrendReport() {}

  public static void write(Path file, Trend trend) throws IOException {
    AtomicFiles.writeString(file, render(trend));
  }

  public static String render(Trend trend) {
    List<String> runNames = trend.runs().stream().map(TrendRun::name).toList();
    StringBuilder h = new StringBuilder();
    h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Trend over ")
        .append(runNames.size()).append(" runs</title><style>").append(STYLE).append("</style></head><body>\n");
    h.append("<h1>Trend over ").append(runNames.size()).append(" runs</h1>\n<p class=\"muted\">Values in percentage ")
        .append("points; bands are 95% confidence intervals. Runs are ordered by when they ran. A ringed point ")
        .append(String.format(Locale.ROOT, "regressed against the run before it as <code>kimi compare --max-drop %.2f</code> ",
            trend.maxDropPoints()))
        .append("decides: a drop of more than that many points whose 95% interval excludes zero.</p>\n");
    h.append("<table id=\"runs\"><tr><th>#</th><th>run</th><th>ran at</th><th>directory</th></tr>\n");
    for (int i = 0; i < trend.runs().size(); i++) {
      TrendRun r = trend.runs().get(i);
      h.append("<tr><td>").append(i + 1).append("</td><td>").append(Html.escape(r.name())).append("</td><td>")
          .append(Html.escape(r.time())).append("</td><td>").append(Html.escape(r.dir().toString())).append("</td></tr>\n");
    }
    h.append("</table>\n");

    List<TrendRecord> regressions = trend.regressions();
    h.append("<h2 id=\"regressions\">Regressions</h2>\n");
    if (regressions.isEmpty()) {
      h.append("<p>No metric regressed against the run before it.</p>\n");
    } else {
      h.append("<table><tr><th>run</th><th>benchmark</th><th>subset</th><th>metric</th><th>value</th><th>95% CI</th></tr>\n");
      for (TrendRecord r : regressions) {
        h.append("<tr class=\"regressed-row\"><td>").append(Html.escape(r.run())).append("</td><td>")
            .append(Html.escape(r.benchmark())).append("</td><td>").append(Html.escape(r.subset())).append("</td><td>")
            .append(Html.escape(r.metric())).append("</td><td>").append(MetricsTable.points(r.value())).append("</td><td>[")
            .append(MetricsTable.points(r.ciLow())).append(", ").append(MetricsTable.points(r.ciHigh()))
            .append("]</td></tr>\n");
      }
      h.append("</table>\n");
    }

    // benchmark -> metric -> subset -> one point per run
    Map<String, Map<String, Map<String, TrendRecord[]>>> grid = new TreeMap<>();
    Map<String, Integer> runIndex = new HashMap<>();
    for (int i = 0; i < runNames.size(); i++) {
      runIndex.put(runNames.get(i) + "\u0000" + trend.runs().get(i).time(), i);
    }
    for (TrendRecord r : trend.rows()) {
      Integer i = runIndex.get(r.run() + "\u0000" + r.runTime());
      grid.computeIfAbsent(r.benchmark(), k -> new TreeMap<>()).computeIfAbsent(r.metric(), k -> new LinkedHashMap<>())
          .computeIfAbsent(r.subset(), k -> new TrendRecord[runNames.size()])[i] = r;
    }
    for (Map.Entry<String, Map<String, Map<String, TrendRecord[]>>> b : grid.entrySet()) {
      h.append("<h2 id=\"").append(Html.escape(b.getKey())).append("\">").append(Html.escape(b.getKey())).append("</h2>\n");
      for (Map.Entry<String, Map<String, TrendRecord[]>> m : b.getValue().entrySet()) {
        h.append("<h3>").append(Html.escape(m.getKey())).append("</h3>\n<div class=\"charts\">\n");
        List<String> subsets = new ArrayList<>(m.getValue().keySet());
        subsets.sort((x, y) -> x.equals("all") ? -1 : y.equals("all") ? 1 : x.compareTo(y));
        for (String subset : subsets) {
          TrendRecord[] points = m.getValue().get(subset);
          String title = b.getKey() + " " + subset + " " + m.getKey();
          h.append("<div class=\"chart\" data-benchmark=\"").append(Html.escape(b.getKey())).append("\" data-subset=\"")
              .append(Html.escape(subset)).append("\" data-metric=\"").append(Html.escape(m.getKey()))
              .append("\"><div class=\"t\">").append(Html.escape(subset)).append(latest(points)).append("</div>")
              .append(TrendChart.render(title, runNames, points)).append("</div>\n");
        }
        h.append("</div>\n");
      }
    }
    return h.append("</body></html>\n").toString();
  }

  /** The latest value, e.g. " 61.20". */
  private static String latest(TrendRecord[] points) {
    for (int i = points.length - 1; i >= 0; i--) {
      if (points[i] != null) {
        return " <span class=\"muted\">" + MetricsTable.points(points[i].value()) + "</span>";
      }
    }
    return "";
  }
}
