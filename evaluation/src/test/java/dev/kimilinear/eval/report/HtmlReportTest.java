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
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
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

  @Test
  void rendersInHeadlessChromium(@TempDir Path dir) throws Exception {
    Path chromium = Path.of("/usr/bin/chromium");
    Assumptions.assumeTrue(Files.isExecutable(chromium), "chromium is not installed");
    Path report = dir.resolve("report.html");
    HtmlReport.write(report, "render check", metrics(0.4), RunComparison.of(metrics(0.4), metrics(0.9), 1.0), List.of());
    Path png = dir.resolve("report.png");
    Path profile = Files.createDirectories(dir.resolve("profile"));
    Process p = new ProcessBuilder(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
        "--user-data-dir=" + profile, "--screenshot=" + png, "--window-size=1200,2000",
        report.toUri().toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("chromium.log").toFile()).start();
    assertTrue(p.waitFor(90, TimeUnit.SECONDS), "chromium finished");
    assertEquals(0, p.exitValue(), () -> readQuietly(dir.resolve("chromium.log")));
    BufferedImage image = ImageIO.read(png.toFile());
    assertEquals(1200, image.getWidth());
    assertEquals(2000, image.getHeight());
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
    assertTrue(colours.size() > 50, "a rendered page with charts has many colours, found " + colours.size());
    assertTrue(nonWhite > 5000, "the page is not blank: " + nonWhite + " sampled pixels drawn");
  }

  private static String readQuietly(Path p) {
    try {
      return Files.readString(p);
    } catch (Exception e) {
      return "";
    }
  }
}
