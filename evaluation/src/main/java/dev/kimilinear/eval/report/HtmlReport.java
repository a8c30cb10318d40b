package dev.kimilinear.eval.report;

import dev.kimilinear.eval.compare.MetricDelta;
import dev.kimilinear.eval.compare.RunComparison;
import dev.kimilinear.eval.metrics.MetricsTable;
import dev.kimilinear.eval.records.AtomicFiles;
import dev.kimilinear.eval.records.MetricRecord;
import dev.kimilinear.eval.report.samples.SampleIndex;
import dev.kimilinear.eval.run.RunFacts;
import dev.kimilinear.eval.report.samples.SamplePages;
import dev.kimilinear.eval.report.samples.SampleVerdict;
import dev.kimilinear.eval.ruler.RulerScorer;
import dev.kimilinear.eval.ruler.RulerSubset;
import dev.kimilinear.eval.ruler.RulerSummary;
import java.io.IOException;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A self-contained HTML report (inline CSS and SVG, nothing fetched): scores per benchmark,
 * MMLU-Pro by category, GPQA by domain, HumanEval pass@k, RULER by task and length (a heat-map
 * table and a line per task over length, RULER's official summary beside ours), deltas against a
 * baseline, and links to the data files. A subset that did not run shows "not run (reason)".
 */
public final class HtmlReport {

  /** A link to a file of the run, relative to the report. */
  public record Link(String label, String href) {}

  private static final String STYLE = """
      body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:24px 32px;color:#222;max-width:1100px}
      h1{font-size:24px;margin-bottom:4px}h2{font-size:19px;margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}
      h3{font-size:15px;margin-top:20px}.muted{color:#666;font-size:13px}
      table{border-collapse:collapse;margin:8px 0 12px;font-size:13px}
      th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}th{background:#f4f4f4}
      td.l,th.l{text-align:left}td.heat{color:#111;min-width:56px}td.notrun{color:#555;background:#eee;text-align:left}
      .regressed{background:#f8d0d0}.improved{background:#d3efd3}.drop-within-noise{background:#fbefc8}
      .verdict{font-weight:600;padding:6px 10px;display:inline-block;border-radius:4px}
      """;

  private HtmlReport() {}

  public static void write(Path file, String title, List<MetricRecord> metrics, RunComparison comparison,
      List<Link> links) throws IOException {
    AtomicFiles.writeString(file, render(title, metrics, comparison, links));
  }

  /**
   * With the run's facts (null when unknown) at the top and links to the per-sample pages already
   * written beside {@code file} ({@link SamplePages}).
   */
  public static void write(Path file, String title, RunFacts facts, List<MetricRecord> metrics,
      RunComparison comparison, List<Link> links, List<SampleIndex> samples) throws IOException {
    AtomicFiles.writeString(file, render(title, facts, metrics, comparison, links, samples));
  }

  public static String render(String title, List<MetricRecord> metrics, RunComparison comparison, List<Link> links) {
    return render(title, null, metrics, comparison, links, List.of());
  }

  public static String render(String title, RunFacts facts, List<MetricRecord> metrics, RunComparison comparison,
      List<Link> links, List<SampleIndex> samples) {
    StringBuilder h = new StringBuilder();
    h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
        .append(Html.escape(title)).append("</title><style>").append(STYLE).append("</style></head><body>\n");
    h.append("<h1>").append(Html.escape(title)).append("</h1>\n<p class=\"muted\">Generated ")
        .append(ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME))
        .append(". Values in percentage points with 95% confidence intervals: Wilson score intervals for ")
        .append("proportions, percentile bootstrap for means of fractional scores.</p>\n");
    if (facts != null) {
      h.append(heading("Run"));
      h.append("<table class=\"facts\">\n");
      for (String[] row : facts.rows()) {
        h.append("<tr><th class=\"l\">").append(Html.escape(row[0])).append("</th><td class=\"l\">")
            .append(Html.escape(row[1])).append("</td></tr>\n");
      }
      h.append("</table>\n");
    }

    Map<String, List<MetricRecord>> byBenchmark = new TreeMap<>();
    metrics.forEach(m -> byBenchmark.computeIfAbsent(m.benchmark(), k -> new ArrayList<>()).add(m));
    if (byBenchmark.isEmpty()) {
      h.append("<p>No metrics.</p>");
    }

    h.append(heading("Scores per benchmark"));
    List<Svg.Bar> headline = new ArrayList<>();
    for (Map.Entry<String, List<MetricRecord>> e : byBenchmark.entrySet()) {
      headlineOf(e.getKey(), e.getValue()).ifPresent(m ->
          headline.add(new Svg.Bar(e.getKey() + " " + m.metric(), 100 * m.value(), 100 * m.ciLow(), 100 * m.ciHigh())));
    }
    if (!headline.isEmpty()) {
      h.append(Svg.bars(headline)).append('\n');
    }
    List<MetricRecord> overall = metrics.stream().filter(m -> m.subset().equals(MetricRecord.ALL)).toList();
    h.append(metricTable(overall, true));

    for (Map.Entry<String, List<MetricRecord>> e : byBenchmark.entrySet()) {
      String benchmark = e.getKey();
      List<MetricRecord> rows = e.getValue();
      switch (benchmark) {
        case "mmlu-pro" -> subsetSection(h, "MMLU-Pro by category", rows, "accuracy");
        case "gpqa" -> subsetSection(h, "GPQA by domain", rows, "accuracy");
        case "humaneval" -> {
          h.append(heading("HumanEval"));
          h.append(metricTable(rows, false));
        }
        case "ruler" -> rulerSection(h, rows);
        default -> {
          h.append(heading(benchmark));
          h.append(metricTable(rows, false));
        }
      }
    }

    if (comparison != null) {
      comparisonSection(h, comparison);
    }

    if (!samples.isEmpty()) {
      samplesSection(h, samples);
    }

    if (!links.isEmpty()) {
      h.append(heading("Files")).append("<ul>\n");
      for (Link l : links) {
        h.append("<li><a href=\"").append(Html.escape(l.href())).append("\">").append(Html.escape(l.label()))
            .append("</a></li>\n");
      }
      h.append("</ul>\n");
    }
    return h.append("</body></html>\n").toString();
  }

  static Optional<MetricRecord> headlineOf(String benchmark, List<MetricRecord> rows) {
    String preferred = switch (benchmark) {
      case "humaneval" -> "pass@1";
      case "ruler" -> RulerScorer.LENGTH_AVERAGE;
      default -> "accuracy";
    };
    List<MetricRecord> all = rows.stream().filter(m -> m.subset().equals(MetricRecord.ALL)).toList();
    return all.stream().filter(m -> m.metric().equals(preferred)).findFirst().or(() -> all.stream().findFirst());
  }

  private static void subsetSection(StringBuilder h, String heading, List<MetricRecord> rows, String metric) {
    h.append(heading(heading));
    List<Svg.Bar> bars = new ArrayList<>();
    for (MetricRecord m : rows) {
      if (m.metric().equals(metric) && !m.subset().equals(MetricRecord.ALL)) {
        bars.add(new Svg.Bar(m.subset(), 100 * m.value(), 100 * m.ciLow(), 100 * m.ciHigh()));
      }
    }
    if (!bars.isEmpty()) {
      h.append("<p class=\"muted\">").append(Html.escape(metric)).append(" per subset; whiskers: 95% interval</p>\n");
      h.append(Svg.bars(bars)).append('\n');
    }
    // one row per subset, one column per metric
    Map<String, Map<String, MetricRecord>> grid = new LinkedHashMap<>();
    TreeSet<String> columns = new TreeSet<>();
    for (MetricRecord m : rows) {
      grid.computeIfAbsent(m.subset(), k -> new LinkedHashMap<>()).put(m.metric(), m);
      columns.add(m.metric());
    }
    List<String> cols = new ArrayList<>(columns);
    cols.remove(metric);
    cols.add(0, metric);
    h.append("<table><tr><th class=\"l\">subset</th><th>n</th>");
    cols.forEach(c -> h.append("<th>").append(Html.escape(c)).append("</th>"));
    h.append("</tr>\n");
    for (Map.Entry<String, Map<String, MetricRecord>> row : grid.entrySet()) {
      MetricRecord first = row.getValue().values().iterator().next();
      h.append("<tr><td class=\"l\">").append(Html.escape(row.getKey())).append("</td><td>").append(first.n())
          .append("</td>");
      for (String c : cols) {
        MetricRecord m = row.getValue().get(c);
        h.append("<td>").append(m == null ? "" : valueWithInterval(m)).append("</td>");
      }
      h.append("</tr>\n");
    }
    h.append("</table>\n");
  }

  private static void rulerSection(StringBuilder h, List<MetricRecord> rows) {
    h.append(heading("RULER by task and length"));
    Map<String, Map<String, MetricRecord>> byTask = new TreeMap<>();
    MetricRecord overall = null;
    Map<String, Long> lengths = new LinkedHashMap<>();
    Map<String, MetricRecord> averages = new LinkedHashMap<>();
    for (MetricRecord m : rows) {
      if (m.subset().equals(MetricRecord.ALL)) {
        overall = m.metric().equals(RulerScorer.LENGTH_AVERAGE) ? m : overall;
        continue;
      }
      RulerSubset s;
      try {
        s = RulerSubset.parse(m.subset());
      } catch (IllegalArgumentException e) {
        continue;
      }
      lengths.putIfAbsent(s.length(), s.lengthTokens());
      if (s.task().equals(MetricRecord.ALL)) {
        averages.put(s.length(), m);
      } else {
        byTask.computeIfAbsent(s.task(), k -> new LinkedHashMap<>()).put(s.length(), m);
      }
    }
    List<String> ordered = lengths.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().thenComparing(Map.Entry.comparingByKey()))
        .map(Map.Entry::getKey).toList();
    h.append("<p class=\"muted\">string_match_all for needle, variable-tracking and word tasks, ")
        .append("string_match_part for QA; each length's average is the mean over tasks.</p>\n");
    h.append("<table><tr><th class=\"l\">task</th>");
    ordered.forEach(l -> h.append("<th>").append(Html.escape(l)).append("</th>"));
    h.append("</tr>\n");
    for (Map.Entry<String, Map<String, MetricRecord>> task : byTask.entrySet()) {
      h.append("<tr><td class=\"l\">").append(Html.escape(task.getKey())).append("</td>");
      String notRunAnywhere = notRunEverywhere(task.getValue(), ordered);
      if (notRunAnywhere != null) {
        // one cell for a task skipped at every length, so its reason is read once
        h.append("<td class=\"notrun\" colspan=\"").append(ordered.size()).append("\">")
            .append(Html.escape(notRunAnywhere)).append("</td>");
      } else {
        for (String l : ordered) {
          h.append(heatCell(task.getValue().get(l)));
        }
      }
      h.append("</tr>\n");
    }
    h.append("<tr><th class=\"l\">average</th>");
    for (String l : ordered) {
      h.append(heatCell(averages.get(l)));
    }
    h.append("</tr></table>\n");
    List<String> covers = new ArrayList<>();
    for (String l : ordered) {
      MetricRecord a = averages.get(l);
      if (a != null && a.note() != null) {
        covers.add("average at " + l + ": " + a.note());
      }
    }
    if (overall != null && overall.note() != null) {
      covers.add("overall average " + MetricsTable.points(overall.value()) + ": " + overall.note());
    }
    if (!covers.isEmpty()) {
      h.append("<ul class=\"muted\">");
      covers.forEach(c -> h.append("<li>").append(Html.escape(c)).append("</li>"));
      h.append("</ul>\n");
    }

    List<Svg.Series> series = new ArrayList<>();
    for (Map.Entry<String, Map<String, MetricRecord>> task : byTask.entrySet()) {
      if (task.getValue().values().stream().noneMatch(MetricRecord::ran)) {
        continue;
      }
      series.add(new Svg.Series(task.getKey(), ordered.stream()
          .map(l -> task.getValue().containsKey(l) ? 100 * task.getValue().get(l).value() : Double.NaN).toList(), false));
    }
    series.add(new Svg.Series("average", ordered.stream()
        .map(l -> averages.containsKey(l) ? 100 * averages.get(l).value() : Double.NaN).toList(), true));
    h.append(Svg.lines("target length (tokens)", ordered, series)).append('\n');
    RulerSummary.of(rows).ifPresent(summary -> officialSummary(h, summary));
  }

  /** "not run (reason)" when the task did not run at any length, with one reason; null otherwise. */
  private static String notRunEverywhere(Map<String, MetricRecord> byLength, List<String> lengths) {
    String text = null;
    for (String l : lengths) {
      MetricRecord m = byLength.get(l);
      if (m == null || m.ran() || (text != null && !text.equals(m.notRunText()))) {
        return null;
      }
      text = m.notRunText();
    }
    return text;
  }

  /** RULER's official summary (evaluate.py's task scores, the mean over 13 tasks) beside ours. */
  private static void officialSummary(StringBuilder h, RulerSummary summary) {
    h.append("<h3 id=\"ruler-official-summary\">RULER: the official summary beside ours</h3>\n")
        .append("<p class=\"muted\">Official: ").append(Html.escape(RulerSummary.SOURCE))
        .append(", each task's score x100 rounded to 2 places; the mean over the 13 tasks, given only when all 13 ran. ")
        .append("Ours: the mean over the tasks that ran.</p>\n");
    h.append("<table><tr><th class=\"l\">task</th>");
    summary.lengths().forEach(l -> h.append("<th>").append(Html.escape(l.length())).append("</th>"));
    h.append("</tr>\n");
    Map<String, String> reasons = summary.notRunReasons();
    for (String task : summary.tasks()) {
      h.append("<tr><td class=\"l\">").append(Html.escape(task)).append("</td>");
      for (RulerSummary.Length l : summary.lengths()) {
        String cell = summary.cell(task, l);
        boolean notRun = cell.equals(MetricRecord.NOT_RUN);
        h.append(notRun ? "<td class=\"notrun\">" : "<td>")
            .append(Html.escape(notRun ? cell + " (" + reasons.get(task) + ")" : cell)).append("</td>");
      }
      h.append("</tr>\n");
    }
    h.append("<tr><th class=\"l\">official mean</th>");
    summary.lengths().forEach(l -> h.append("<td>").append(Html.escape(l.officialMean()
        .map(MetricsTable::twoPlaces).orElse("not given"))).append("</td>"));
    h.append("</tr>\n<tr><th class=\"l\">ours</th>");
    summary.lengths().forEach(l -> h.append("<td>")
        .append(l.ours() == null ? "n/a" : MetricsTable.points(l.ours().value())).append("</td>"));
    h.append("</tr></table>\n<ul class=\"muted\">");
    for (RulerSummary.Length l : summary.lengths()) {
      h.append("<li>").append(Html.escape("at " + l.length() + ": official mean " + l.officialMeanText()
          + "; ours " + l.oursText())).append("</li>");
    }
    h.append("</ul>\n");
  }

  private static String heatCell(MetricRecord m) {
    if (m == null) {
      return "<td></td>";
    }
    if (!m.ran()) {
      return "<td class=\"notrun\">" + Html.escape(m.notRunText()) + "</td>";
    }
    return "<td class=\"heat\" style=\"background:" + Svg.heat(m.value()) + "\" title=\"95% CI ["
        + MetricsTable.points(m.ciLow()) + ", " + MetricsTable.points(m.ciHigh()) + "], n=" + m.n() + "\">"
        + MetricsTable.points(m.value()) + "</td>";
  }

  private static void comparisonSection(StringBuilder h, RunComparison c) {
    h.append(heading("Against the baseline"));
    boolean regressed = c.regressed();
    h.append("<p><span class=\"verdict ").append(regressed ? "regressed" : "improved").append("\">")
        .append(regressed ? "Regression: " + c.regressions().size() + " metrics dropped beyond "
            + String.format(Locale.ROOT, "%.2f", c.maxDropPoints()) + " points and beyond noise"
            : "No regression beyond " + String.format(Locale.ROOT, "%.2f", c.maxDropPoints()) + " points")
        .append("</span></p>\n");
    h.append("<table><tr><th class=\"l\">benchmark</th><th class=\"l\">subset</th><th class=\"l\">metric</th>")
        .append("<th>run</th><th>baseline</th><th>delta</th><th>95% CI of delta</th><th class=\"l\">verdict</th></tr>\n");
    for (MetricDelta d : c.deltas()) {
      String cls = d.verdict() == MetricDelta.Verdict.UNCHANGED ? "" : d.verdict().label().replace(' ', '-');
      h.append("<tr class=\"").append(cls).append("\"><td class=\"l\">").append(Html.escape(d.run().benchmark()))
          .append("</td><td class=\"l\">").append(Html.escape(d.run().subset()))
          .append("</td><td class=\"l\">").append(Html.escape(d.run().metric()))
          .append("</td><td>").append(MetricsTable.points(d.run().value()))
          .append("</td><td>").append(MetricsTable.points(d.baseline().value()))
          .append("</td><td>").append(signed(d.delta()))
          .append("</td><td>[").append(signed(d.ciLow())).append(", ").append(signed(d.ciHigh()))
          .append("]</td><td class=\"l\">").append(d.verdict().label()).append("</td></tr>\n");
    }
    h.append("</table>\n");
    for (MetricDelta d : c.coverageDiffers()) {
      h.append("<p class=\"muted\">").append(Html.escape(d.run().benchmark() + " " + d.run().subset()
          + " covers different things: run " + d.run().note() + "; baseline " + d.baseline().note())).append("</p>\n");
    }
    if (!c.onlyInRun().isEmpty() || !c.onlyInBaseline().isEmpty()) {
      h.append("<p class=\"muted\">").append(c.onlyInRun().size()).append(" metrics only in this run, ")
          .append(c.onlyInBaseline().size()).append(" only in the baseline (not compared).</p>\n");
    }
  }

  /** Each benchmark's per-sample pages: counts per verdict, linked to the first page showing each. */
  private static void samplesSection(StringBuilder h, List<SampleIndex> samples) {
    h.append(heading("Samples"));
    h.append("<p class=\"muted\">Every sample with its prompt, generation, extracted answer, reference and verdict, ")
        .append(SamplePages.PER_PAGE).append(" a page; each page filters by verdict, subset and text.</p>\n");
    h.append("<table><tr><th class=\"l\">benchmark</th><th>samples</th><th>correct</th><th>wrong</th>")
        .append("<th>no answer</th><th>generation failed</th><th>pages</th></tr>\n");
    for (SampleIndex s : samples) {
      h.append("<tr><td class=\"l\"><a href=\"").append(Html.escape(s.href(1, null))).append("\">")
          .append(Html.escape(s.benchmark())).append("</a></td><td>").append(s.total()).append("</td>");
      for (SampleVerdict v : SampleVerdict.values()) {
        long n = s.count(v);
        h.append("<td>");
        if (n > 0) {
          h.append("<a href=\"").append(Html.escape(s.href(s.firstPageOf().get(v), "verdict=" + v.key()))).append("\">")
              .append(n).append("</a>");
        } else {
          h.append('0');
        }
        h.append("</td>");
      }
      h.append("<td>").append(s.pages()).append("</td></tr>\n");
    }
    h.append("</table>\n");
    for (SampleIndex s : samples) {
      if (s.subsets().size() < 2) {
        continue;
      }
      h.append("<details><summary>").append(Html.escape(s.benchmark())).append(": samples by subset</summary><p>");
      for (SampleIndex.Subset sub : s.subsets()) {
        h.append("<a href=\"").append(Html.escape(s.href(sub.firstPage(), "subset=" + urlPart(sub.name())))).append("\">")
            .append(Html.escape(sub.name())).append("</a> <span class=\"muted\">(").append(sub.correct()).append('/')
            .append(sub.samples()).append(" correct)</span> &nbsp; ");
      }
      h.append("</p></details>\n");
    }
  }

  private static String urlPart(String s) {
    return java.net.URLEncoder.encode(s, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** A section heading with an id made from its text, so sections can be linked to. */
  private static String heading(String text) {
    String id = text.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("(^-|-$)", "");
    return "<h2 id=\"" + id + "\">" + Html.escape(text) + "</h2>\n";
  }

  private static String metricTable(List<MetricRecord> rows, boolean withBenchmark) {
    StringBuilder t = new StringBuilder("<table><tr>");
    if (withBenchmark) {
      t.append("<th class=\"l\">benchmark</th>");
    }
    boolean notes = rows.stream().anyMatch(m -> m.ran() && m.note() != null);
    t.append("<th class=\"l\">subset</th><th class=\"l\">metric</th><th>value</th><th>95% CI</th><th>n</th>")
        .append(notes ? "<th class=\"l\">covers</th>" : "").append("</tr>\n");
    for (MetricRecord m : rows) {
      t.append("<tr>");
      if (withBenchmark) {
        t.append("<td class=\"l\">").append(Html.escape(m.benchmark())).append("</td>");
      }
      t.append("<td class=\"l\">").append(Html.escape(m.subset())).append("</td><td class=\"l\">")
          .append(Html.escape(m.metric())).append("</td>");
      if (!m.ran()) {
        t.append("<td class=\"notrun\" colspan=\"").append(notes ? 4 : 3).append("\">")
            .append(Html.escape(m.notRunText())).append("</td></tr>\n");
        continue;
      }
      t.append("<td>").append(MetricsTable.points(m.value()))
          .append("</td><td>[").append(MetricsTable.points(m.ciLow())).append(", ")
          .append(MetricsTable.points(m.ciHigh())).append("]</td><td>").append(m.n()).append("</td>");
      if (notes) {
        t.append("<td class=\"l\">").append(m.note() == null ? "" : Html.escape(m.note())).append("</td>");
      }
      t.append("</tr>\n");
    }
    return t.append("</table>\n").toString();
  }

  private static String valueWithInterval(MetricRecord m) {
    if (!m.ran()) {
      return Html.escape(m.notRunText());
    }
    return MetricsTable.points(m.value()) + " <span class=\"muted\">[" + MetricsTable.points(m.ciLow()) + ", "
        + MetricsTable.points(m.ciHigh()) + "]</span>";
  }

  private static String signed(double fraction) {
    return Double.isNaN(fraction) ? "n/a" : String.format(Locale.ROOT, "%+.2f", 100 * fraction);
  }
}
