package dev.kimilinear.eval.ruler;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kimilinear.eval.metrics.Metrics;
import dev.kimilinear.eval.records.MetricRecord;
import dev.kimilinear.eval.records.PromptRecord;
import dev.kimilinear.eval.records.ScoreRecord;
import dev.kimilinear.eval.scoring.BenchmarkScorer;
import dev.kimilinear.eval.scoring.References;
import dev.kimilinear.eval.scoring.ScoringInput;
import dev.kimilinear.eval.text.PythonText;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * RULER: the prediction is cleaned as RULER does (strip, control characters to newlines, strip)
 * and matched case-insensitively as substrings against the expected strings. A sample's score is
 * the fraction found ({@code string_match_all}) or 1 when any is found ({@code
 * string_match_part}, the QA tasks). Metrics, as fractions: each task at each length; each
 * length's mean over tasks ({@code all@LENGTH}); the mean over every task and length ({@code all}).
 * Each average's note says which tasks it covers ({@link RulerCoverage}).
 */
public final class RulerScorer implements BenchmarkScorer {

  public static final String BENCHMARK = "ruler";
  public static final String MATCH_ALL = "string_match_all";
  public static final String MATCH_PART = "string_match_part";
  public static final String LENGTH_AVERAGE = "average";
  /** RULER's 13 tasks in the order of its synthetic.yaml; its published averages are over all of them. */
  public static final List<String> TASKS = List.of("niah_single_1", "niah_single_2", "niah_single_3",
      "niah_multikey_1", "niah_multikey_2", "niah_multikey_3", "niah_multivalue", "niah_multiquery", "vt", "cwe",
      "fwe", "qa_1", "qa_2");

  @Override
  public String benchmark() {
    return BENCHMARK;
  }

  /** RULER's postprocess_pred: strip, every character in [\x00-\x1f] to '\n', strip. */
  public static String clean(String prediction) {
    StringBuilder sb = new StringBuilder(PythonText.strip(prediction));
    for (int i = 0; i < sb.length(); i++) {
      if (sb.charAt(i) < 0x20) {
        sb.setCharAt(i, '\n');
      }
    }
    return PythonText.strip(sb.toString());
  }

  public static double matchAll(String prediction, List<String> references) {
    String p = prediction.toLowerCase(Locale.ROOT);
    long found = references.stream().filter(r -> p.contains(r.toLowerCase(Locale.ROOT))).count();
    return references.isEmpty() ? 0.0 : (double) found / references.size();
  }

  public static double matchPart(String prediction, List<String> references) {
    String p = prediction.toLowerCase(Locale.ROOT);
    return references.stream().anyMatch(r -> p.contains(r.toLowerCase(Locale.ROOT))) ? 1.0 : 0.0;
  }

  static String metricOf(PromptRecord p, JsonNode reference) {
    String metric = References.optionalText(reference, "metric");
    if (metric == null) {
      return RulerSubset.parse(p.subset()).metric();
    }
    if (!metric.equals(MATCH_ALL) && !metric.equals(MATCH_PART)) {
      throw new IllegalArgumentException("prompt " + p.id() + ": reference field 'metric': expected "
          + MATCH_ALL + " or " + MATCH_PART + ", found " + metric);
    }
    return metric;
  }

  @Override
  public List<ScoreRecord> score(List<ScoringInput> inputs) {
    List<ScoreRecord> out = new ArrayList<>(inputs.size());
    for (ScoringInput in : inputs) {
      PromptRecord p = in.prompt();
      JsonNode ref = References.parse(p);
      List<String> expected = References.optionalTextList(p, ref, "outputs", "answers", "expected");
      if (expected == null || expected.isEmpty()) {
        throw new IllegalArgumentException("prompt " + p.id()
            + ": reference field 'outputs' is missing or empty; expected the list of expected strings");
      }
      String prediction = clean(in.generation().text());
      boolean all = metricOf(p, ref).equals(MATCH_ALL);
      double score = all ? matchAll(prediction, expected) : matchPart(prediction, expected);
      String reason = null;
      if (score < 1.0) {
        List<String> missing = expected.stream()
            .filter(r -> !prediction.toLowerCase(Locale.ROOT).contains(r.toLowerCase(Locale.ROOT))).toList();
        String shown = String.join(", ", missing.subList(0, Math.min(5, missing.size())));
        reason = all ? "missing " + missing.size() + " of " + expected.size() + ": " + shown
            : "none of " + expected.size() + " expected strings found";
      }
      out.add(new ScoreRecord(p.id(), BENCHMARK, p.subset(), in.generation().sample(), null, score == 1.0,
          score, reason));
    }
    return out;
  }

  @Override
  public List<MetricRecord> metrics(List<ScoreRecord> scores, Map<String, PromptRecord> promptsById) {
    Map<RulerSubset, List<ScoreRecord>> bySubset = new TreeMap<>();
    Map<String, String> metricBySubset = new java.util.HashMap<>();
    for (ScoreRecord s : scores) {
      RulerSubset subset = RulerSubset.parse(s.subset());
      bySubset.computeIfAbsent(subset, k -> new ArrayList<>()).add(s);
      metricBySubset.computeIfAbsent(s.subset(), k -> {
        PromptRecord p = promptsById.get(s.id());
        return metricOf(p, References.parse(p));
      });
    }
    List<MetricRecord> cells = new ArrayList<>();
    Map<String, List<double[]>> strataByLength = new java.util.LinkedHashMap<>();
    List<double[]> allStrata = new ArrayList<>();
    for (Map.Entry<RulerSubset, List<ScoreRecord>> e : bySubset.entrySet()) {
      String subset = e.getKey().task() + "@" + e.getKey().length();
      double[] units = e.getValue().stream().mapToDouble(ScoreRecord::score).toArray();
      cells.add(Metrics.mean(BENCHMARK, subset, metricBySubset.get(subset), units));
      strataByLength.computeIfAbsent(e.getKey().length(), k -> new ArrayList<>()).add(units);
      allStrata.add(units);
    }
    List<MetricRecord> out = new ArrayList<>();
    out.add(Metrics.meanOfStrata(BENCHMARK, MetricRecord.ALL, LENGTH_AVERAGE, allStrata));
    for (Map.Entry<String, List<double[]>> e : strataByLength.entrySet()) {
      out.add(Metrics.meanOfStrata(BENCHMARK, "all@" + e.getKey(), LENGTH_AVERAGE, e.getValue()));
    }
    out.addAll(cells);
    return RulerCoverage.annotate(out);
  }
}
