package dev.kimilinear.eval.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kimilinear.eval.compare.RunComparison;
import dev.kimilinear.eval.metrics.Metrics;
import dev.kimilinear.eval.records.MetricRecord;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HtmlReportTest {

  static List<MetricRecord> metrics(double quality) {
    List<MetricRecord> m = new ArrayList<>();
    m.add(Metrics.proportion("mmlu-pro", "all", "accuracy", (long) (600 * quality), 1000));
    for (String c : List.of("law", "math", "<script>")) {
      m.add(Metrics.proportion("mmlu-pro", c, "accuracy", (long) (200 * quality), 300));
    }
    m.add(Metrics.proportion("humaneval", "all", "pass@1", 120, 164));
    for (String length : List.of("8k", "4096", "16384")) {
      m.add(Metrics.mean("ruler", "all@" + length, "average", new double[] {quality, 0.5, 1.0}));
      m.add(Metrics.mean("ruler", "vt@" + length, "string_match_all", new double[] {quality, 0.25}));
      m.add(Metrics.mean("ruler", "qa_1@" + length, "string_match_part", new double[] {1, 0}));
    }
    m.add(Metrics.mean("ruler", "all", "average", new double[] {quality, 0.5}));
    return m;
  }

  @Test
  void reportHasEverySectionEscapedAndSelfContained() {
    String html = HtmlReport.render("run <1>", metrics(0.4), RunComparison.of(metrics(0.4), metrics(0.9), 1.0),
        List.of(new HtmlReport.Link("scores/ruler.parquet", "scores/ruler.parquet")));
    assertTrue(html.contains("MMLU-Pro by category") && html.contains("RULER by task and length")
        && html.contains("Against the baseline") && html.contains("href=\"scores/ruler.parquet\""));
    assertTrue(html.contains("&lt;script&gt;") && !html.contains("<script>"), "labels are escaped");
    assertTrue(html.contains("run &lt;1&gt;"));
    assertFalse(html.replace("http://www.w3.org/2000/svg", "").contains("http"), "nothing fetched");
    assertTrue(html.contains("Regression: "));
    // lengths ordered by size whatever their spelling: 4096, 8k (8192), 16384
    int i4 = html.indexOf("<th>4096</th>");
    int i8 = html.indexOf("<th>8k</th>");
    int i16 = html.indexOf("<th>16384</th>");
    assertTrue(i4 > 0 && i4 < i8 && i8 < i16, "length columns in order");
  }

  @Test
  void aRulerTaskThatDidNotRunShowsWhyAndTheAveragesSayWhatTheyCover() {
    List<MetricRecord> m = new ArrayList<>(metrics(0.4));
    m.removeIf(r -> r.benchmark().equals("ruler") && r.subset().startsWith("all"));
    m.add(Metrics.mean("ruler", "all@4096", "average", new double[] {0.4, 0.5}));
    m.add(Metrics.mean("ruler", "all", "average", new double[] {0.4, 0.5}));
    List<MetricRecord> notRun = new ArrayList<>();
    for (String length : List.of("8k", "4096", "16384")) {
      notRun.add(MetricRecord.notRun("ruler", "niah_single_2@" + length, "string_match_all",
          "no essay file: benchmarks.ruler.essay is not set"));
    }
    String html = HtmlReport.render("run", dev.kimilinear.eval.ruler.RulerCoverage.withNotRun(m, notRun), null,
        List.of());
    String ruler = html.substring(html.indexOf("RULER by task and length"));
    assertTrue(ruler.contains("<td class=\"l\">niah_single_2</td><td class=\"notrun\" colspan=\"3\">not run "
        + "(no essay file: benchmarks.ruler.essay is not set)</td>"), ruler);
    assertTrue(ruler.contains("average at 4096: mean over 2 of 13 tasks; not run: niah_single_2; not in this run:"), ruler);
    assertTrue(html.contains("mean over 2 of 13 tasks at 3 lengths; not run: niah_single_2"), "the overall row's note");
    String official = html.substring(html.indexOf("RULER: the official summary beside ours"));
    assertTrue(official.contains("<td class=\"notrun\">not run (no essay file: benchmarks.ruler.essay is not set)</td>"),
        official);
    assertTrue(official.contains("<th class=\"l\">official mean</th><td>not given</td>"), official);
    assertTrue(official.contains("at 4096: official mean not given: 11 of 13 tasks did not run (niah_single_1, "
        + "niah_single_2,"), official);
  }

  /**
   * report.html (with run facts and links to sample pages), one per-sample page and trend.html,
   * each opened in headless Chromium: what the DOM holds once scripts ran, no script errors on
   * the console, and a screenshot under target/browser/ to look at.
   */
  @Test
  void rendersInHeadlessChromium(@TempDir Path dir) throws Exception {
    HeadlessChromium.assumeInstalled();
    HeadlessChromium chromium = new HeadlessChromium(dir);
    Path shots = Path.of("target", "browser");

    // a run directory: sample pages of MMLU-Pro questions whose generations hold markup and scripts
    var run = dev.kimilinear.eval.report.samples.DemoSamples.mmluPro(120);
    var scored = dev.kimilinear.eval.scoring.ScoringRun.run(new dev.kimilinear.eval.mmlupro.MmluProScorer(),
        run.prompts(), run.generations());
    var pages = dev.kimilinear.eval.report.samples.SamplePages.write(dir, scored.scores(),
        dev.kimilinear.eval.report.samples.SampleViews.inOrder(run.prompts(), run.generations(), scored.scores()));
    var facts = new dev.kimilinear.eval.run.RunFacts("/models/kimi", "sha256:0123", "BF16 weights", "cpu", 120, 120,
        List.of(new dev.kimilinear.eval.run.Invocation("2026-12-07T02:00:00Z", "local[2]", 0, 2, List.of("cpu (4 cores)"),
            0, 120, 120, 9000, 3000, 1.5, 60, 2, 0)));
    Path report = dir.resolve("report.html");
    HtmlReport.write(report, "render check", facts, metrics(0.4), RunComparison.of(metrics(0.4), metrics(0.9), 1.0),
        List.of(), pages);

    HeadlessChromium.Page shown = chromium.open(report, null);
    assertEquals(List.of(), shown.scriptErrors(), shown.log());
    assertTrue(shown.dom().contains("<th class=\"l\">model fingerprint</th>"), "the run's facts");
    assertTrue(shown.dom().contains("href=\"samples/mmlu-pro-1.html\""), "links to the sample pages");
    assertTrue(count(shown.dom(), "<svg") >= 3, "charts");
    chromium.screenshot(report, null, shots.resolve("report.png"), 1200, 2000);
    assertPainted(shots.resolve("report.png"), 1200, 2000);

    // a sample page opened with a filter in its address: the script hides the rest and pages by matches
    Path page = dir.resolve("samples/mmlu-pro-1.html");
    HeadlessChromium.Page samples = chromium.open(page, "verdict=no-answer");
    assertEquals(List.of(), samples.scriptErrors(), samples.log());
    String dom = samples.dom();
    assertTrue(dom.contains("data-ready=\"1\""), "the page's script ran to its end");
    long visible = dom.lines().filter(l -> l.startsWith("<tbody class=\"s\"") && !l.contains("display: none")).count();
    long noAnswer = dom.lines().filter(l -> l.startsWith("<tbody class=\"s\" data-v=\"no-answer\"")).count();
    assertTrue(noAnswer > 0 && visible == noAnswer, "only the no-answer samples show: " + visible + " of " + noAnswer);
    assertTrue(dom.contains(noAnswer + " of 50 samples on this page shown; 30 samples match in 3 of 3 pages"), dom);
    assertTrue(dom.contains("<a href=\"mmlu-pro-2.html#verdict=no-answer\">2</a>"), "page links keep the filter");
    assertFalse(dom.contains("<script>alert(1)</script>"), "generations stay text");
    chromium.screenshot(page, "verdict=no-answer", shots.resolve("samples-page.png"), 1200, 1600);
    assertPainted(shots.resolve("samples-page.png"), 1200, 1600);

    // trend.html over three runs
    List<dev.kimilinear.eval.trend.TrendRun> runs = new ArrayList<>();
    double[] quality = {0.9, 0.92, 0.4};
    for (int i = 0; i < quality.length; i++) {
      runs.add(new dev.kimilinear.eval.trend.TrendRun("nightly-" + i, dir.resolve("nightly-" + i),
          "2026-12-0" + (i + 1) + "T02:00:00Z", metrics(quality[i])));
    }
    Path trend = dir.resolve("trend.html");
    dev.kimilinear.eval.trend.TrendReport.write(trend, dev.kimilinear.eval.trend.Trend.of(runs, 1.0));
    HeadlessChromium.Page trendShown = chromium.open(trend, null);
    assertEquals(List.of(), trendShown.scriptErrors(), trendShown.log());
    assertTrue(count(trendShown.dom(), "<polygon class=\"band\"") > 10, "interval bands");
    assertTrue(trendShown.dom().contains("class=\"regressed\""), "a ringed regression");
    chromium.screenshot(trend, null, shots.resolve("trend.png"), 1200, 1600);
    assertPainted(shots.resolve("trend.png"), 1200, 1600);
  }

  /** A rendered page with charts and coloured cells has many colours and few blank areas. */
  private static void assertPainted(Path png, int width, int height) throws Exception {
    BufferedImage image = ImageIO.read(png.toFile());
    assertEquals(width, image.getWidth());
    assertEquals(height, image.getHeight());
    Set<Integer> colours = new HashSet<>();
    long nonWhite = 0;
    for (int y = 0; y < image.getHeight(); y += 3) {
      for (int x = 0; x < image.getWidth(); x += 3) {
        int rgb = image.getRGB(x, y) & 0xffffff;
        colours.add(rgb);
        if (rgb != 0xffffff) {
          nonWhite++;
        }
      }
    }
    assertTrue(colours.size() > 50, png + ": a rendered page has many colours, found " + colours.size());
    assertTrue(nonWhite > 5000, png + ": the page is not blank: " + nonWhite + " sampled pixels drawn");
  }

  private static int count(String s, String part) {
    int n = 0;
    for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + 1)) {
      n++;
    }
    return n;
  }
}
