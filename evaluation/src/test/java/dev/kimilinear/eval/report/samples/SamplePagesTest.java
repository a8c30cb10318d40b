package dev.kimilinear.eval.report.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kimilinear.eval.humaneval.HumanEvalScorer;
import dev.kimilinear.eval.humaneval.PythonSandbox;
import dev.kimilinear.eval.humaneval.SandboxConfig;
import dev.kimilinear.eval.mmlupro.MmluProResponses;
import dev.kimilinear.eval.mmlupro.MmluProScorer;
import dev.kimilinear.eval.records.GenerationRecord;
import dev.kimilinear.eval.records.PromptRecord;
import dev.kimilinear.eval.records.ScoreRecord;
import dev.kimilinear.eval.report.HtmlReport;
import dev.kimilinear.eval.scoring.ScoredRun;
import dev.kimilinear.eval.scoring.ScoringRun;
import dev.kimilinear.eval.testing.Python;
import dev.kimilinear.eval.testing.SharedFiles;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SamplePagesTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void pagesHoldEverySampleEscapedAndCountTheVerdictsOfEveryPage(@TempDir Path dir) throws Exception {
    DemoSamples.Run run = DemoSamples.mmluPro(120);
    ScoredRun scored = ScoringRun.run(new MmluProScorer(), run.prompts(), run.generations());
    List<ScoreRecord> shuffled = new ArrayList<>(scored.scores());
    Collections.shuffle(shuffled, new java.util.Random(1));
    List<SampleIndex> index = SamplePages.write(dir, shuffled,
        SampleViews.inOrder(run.prompts(), run.generations(), shuffled));

    assertEquals(1, index.size());
    SampleIndex mmlu = index.get(0);
    assertEquals(120, mmlu.total());
    assertEquals(3, mmlu.pages(), "50 samples a page");
    assertEquals(60, mmlu.count(SampleVerdict.CORRECT));
    assertEquals(30, mmlu.count(SampleVerdict.WRONG));
    assertEquals(30, mmlu.count(SampleVerdict.NO_ANSWER));
    assertEquals(List.of("history", "law", "math"), mmlu.subsets().stream().map(SampleIndex.Subset::name).toList());
    assertEquals(List.of(1, 1, 2), mmlu.subsets().stream().map(SampleIndex.Subset::firstPage).toList());

    int rows = 0;
    List<String> ids = new ArrayList<>();
    for (int page = 1; page <= 3; page++) {
      String html = Files.readString(dir.resolve("samples").resolve("mmlu-pro-" + page + ".html"));
      // the generations' markup is text: exactly the page's own two script elements
      assertEquals(2, count(html, "<script"), "page " + page);
      assertEquals(2, count(html, "</script>"), "page " + page);
      assertFalse(html.contains("<!-- -->") || html.contains("<b>&amp;"), "no markup from the records");
      assertFalse(html.replace("http://www.w3.org", "").contains("http"), "nothing fetched");
      Matcher m = Pattern.compile("<tbody class=\"s\" data-v=\"([a-z-]+)\" data-s=\"[a-z]+\">\n<tr><td><code>([^<]+)</code>")
          .matcher(html);
      while (m.find()) {
        rows++;
        ids.add(m.group(2));
      }
      JsonNode data = pageData(html);
      assertEquals(page, data.get("page").asInt());
      assertEquals(3, data.get("counts").size());
      if (page == 1) {
        assertTrue(html.contains("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; the answer is (B)"));
        assertTrue(html.contains("C: c &lt;/script&gt;"), "the reference answer with its option");
        // history's 40 samples, then 10 of law; counts in verdict order (correct, wrong, no answer, failed)
        JsonNode first = data.get("counts").get(0);
        assertEquals("[20,10,10,0]", first.get("history").toString());
        long lawOnPage1 = 0;
        for (JsonNode n : first.get("law")) {
          lawOnPage1 += n.asLong();
        }
        assertEquals(10, lawOnPage1);
        assertEquals(2, first.size());
      }
    }
    assertEquals(120, rows);
    List<String> sorted = new ArrayList<>(ids);
    sorted.sort(SampleOrder.CODE_POINTS);
    assertEquals(sorted, ids, "ordered by subset, then id (the ids start with their subset)");

    String page1 = Files.readString(dir.resolve("samples/mmlu-pro-1.html"));
    assertTrue(page1.contains("20,024 characters, its beginning and end shown"), "a long prompt is cut");
    assertTrue(page1.contains("characters not shown; the whole prompt is in prompts/"));
    assertTrue(page1.contains("Question 3 &lt;b&gt;&amp;amp;&lt;/b&gt;?"), "the question at the end is kept");

    String report = HtmlReport.render("run", null, scored.metrics(), null, List.of(), index);
    assertTrue(report.contains("<a href=\"samples/mmlu-pro-1.html#verdict=no-answer\">30</a>"), report);
    assertTrue(report.contains("href=\"samples/mmlu-pro-2.html#subset=math\""), "a subset links its first page");
  }

  @Test
  void samplesOutOfOrderAreRefused(@TempDir Path dir) {
    DemoSamples.Run run = DemoSamples.mmluPro(6);
    List<ScoreRecord> scores = ScoringRun.run(new MmluProScorer(), run.prompts(), run.generations()).scores();
    List<SampleView> views = new ArrayList<>();
    SampleViews.inOrder(run.prompts(), run.generations(), scores).forEachRemaining(views::add);
    Collections.swap(views, 0, 1);
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> SamplePages.write(dir, scores, views.iterator()));
    assertTrue(e.getMessage().contains("rows out of order"), e.getMessage());
  }

  @Test
  void aSecondWriteRemovesPagesTheFirstLeft(@TempDir Path dir) throws Exception {
    DemoSamples.Run big = DemoSamples.mmluPro(120);
    List<ScoreRecord> scores = ScoringRun.run(new MmluProScorer(), big.prompts(), big.generations()).scores();
    SamplePages.write(dir, scores, SampleViews.inOrder(big.prompts(), big.generations(), scores));
    DemoSamples.Run small = DemoSamples.mmluPro(10);
    List<ScoreRecord> fewer = ScoringRun.run(new MmluProScorer(), small.prompts(), small.generations()).scores();
    SamplePages.write(dir, fewer, SampleViews.inOrder(small.prompts(), small.generations(), fewer));
    assertTrue(Files.exists(dir.resolve("samples/mmlu-pro-1.html")));
    assertFalse(Files.exists(dir.resolve("samples/mmlu-pro-2.html")));
  }

  @Test
  void realMmluProResponsesMakePagesOfEveryCategory(@TempDir Path dir) throws Exception {
    MmluProResponses.Responses r = MmluProResponses.read(SharedFiles.require(SharedFiles.MMLU_PRO_RESPONSES));
    ScoredRun scored = ScoringRun.run(new MmluProScorer(), r.prompts(), r.generations());
    List<SampleIndex> index = SamplePages.write(dir, scored.scores(),
        SampleViews.inOrder(r.prompts(), r.generations(), scored.scores()));
    SampleIndex mmlu = index.get(0);
    assertEquals(scored.scores().size(), mmlu.total());
    assertEquals((scored.scores().size() + 49) / 50, mmlu.pages());
    assertEquals(14, mmlu.subsets().size(), "MMLU-Pro's 14 categories");
    long correct = scored.scores().stream().filter(ScoreRecord::correct).count();
    assertEquals(correct, mmlu.count(SampleVerdict.CORRECT));
    try (var files = Files.list(dir.resolve("samples"))) {
      assertEquals(mmlu.pages(), files.count());
    }
    String last = Files.readString(dir.resolve("samples").resolve(SampleIndex.fileName("mmlu-pro", mmlu.pages())));
    assertEquals(2, count(last, "</script>"));
    assertTrue(pageData(last).get("counts").size() == mmlu.pages());
  }

  @Test
  void humanEvalPagesShowTheSandboxReasonAndTheProgramsOutput(@TempDir Path dir) throws Exception {
    Python.assumeAvailable();
    Path file = SharedFiles.require(SharedFiles.HUMANEVAL);
    List<PromptRecord> prompts = new ArrayList<>();
    List<GenerationRecord> gens = new ArrayList<>();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(
        new GZIPInputStream(Files.newInputStream(file)), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null && prompts.size() < 6) {
        JsonNode task = JSON.readTree(line);
        String id = "humaneval/" + task.get("task_id").asText();
        prompts.add(new PromptRecord(id, "humaneval", "default", List.of(), task.get("prompt").asText(),
            JSON.writeValueAsString(JSON.createObjectNode().put("test", task.get("test").asText())
                .put("entry_point", task.get("entry_point").asText())), null));
        gens.add(new GenerationRecord(id, "humaneval", "default", 0, task.get("canonical_solution").asText(),
            "stop", 120, 40, null));
        gens.add(new GenerationRecord(id, "humaneval", "default", 1,
            "    import sys\n    print('looking at the input')\n    sys.stderr.write('a note on stderr\\n')\n"
                + "    raise ValueError('not written yet')\n", "length", 120, 512, null));
      }
    }
    ScoredRun scored;
    try (PythonSandbox sandbox = PythonSandbox.start(SandboxConfig.defaults())) {
      scored = ScoringRun.run(new HumanEvalScorer(sandbox), prompts, gens);
    }
    List<SampleIndex> index = SamplePages.write(dir, scored.scores(),
        SampleViews.inOrder(prompts, gens, scored.scores()));
    assertEquals(List.of(), scored.scores().stream().filter(s -> s.sample() == 0 && !s.correct())
        .map(s -> s.id() + ": " + s.reason()).toList(), "the canonical solutions pass");
    assertEquals(6, index.get(0).count(SampleVerdict.CORRECT));
    assertEquals(6, index.get(0).count(SampleVerdict.WRONG));
    String html = Files.readString(dir.resolve("samples/humaneval-1.html"));
    assertTrue(html.contains("ValueError"), "the sandbox's reason");
    assertTrue(html.contains("program stdout (last bytes)") && html.contains("looking at the input"), "stdout tail");
    assertTrue(html.contains("program stderr (last bytes)") && html.contains("a note on stderr"), "stderr tail");
    assertTrue(html.contains("reference: the tests of has_close_elements()"), "the tests, collapsed");
    assertTrue(html.contains("def check(candidate):"));
  }

  static JsonNode pageData(String html) throws Exception {
    int start = html.indexOf("<script type=\"application/json\" id=\"page-data\">");
    int end = html.indexOf("</script>", start);
    return JSON.readTree(html.substring(html.indexOf('>', start) + 1, end));
  }

  static int count(String s, String part) {
    int n = 0;
    for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + 1)) {
      n++;
    }
    return n;
  }
}
