package dev.kimilinear.eval.mmlupro;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kimilinear.eval.metrics.Grouping;
import dev.kimilinear.eval.metrics.Metrics;
import dev.kimilinear.eval.records.MetricRecord;
import dev.kimilinear.eval.records.PromptRecord;
import dev.kimilinear.eval.records.ScoreRecord;
import dev.kimilinear.eval.scoring.BenchmarkScorer;
import dev.kimilinear.eval.scoring.References;
import dev.kimilinear.eval.scoring.ScoringInput;
import dev.kimilinear.python.PythonRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * MMLU-Pro: the official extraction, correct iff the letter equals the reference {@code answer}.
 * Metrics per category and overall (micro average): {@code accuracy} (no answer = wrong),
 * {@code accuracy_random_fallback} (the official script's seeded random guess for samples with no
 * answer) and {@code no_answer_rate}.
 */
public final class MmluProScorer implements BenchmarkScorer {

  public static final String BENCHMARK = "mmlu-pro";
  static final long OFFICIAL_FALLBACK_SEED = 12345;

  private final Map<Integer, Integer> fallbackByOptionCount = new HashMap<>();

  @Override
  public String benchmark() {
    return BENCHMARK;
  }

  @Override
  public List<ScoreRecord> score(List<ScoringInput> inputs) {
    List<ScoreRecord> out = new ArrayList<>(inputs.size());
    for (ScoringInput in : inputs) {
      PromptRecord p = in.prompt();
      String answer = References.text(p, References.parse(p), "answer");
      MmluProExtractor.Extraction e = MmluProExtractor.extract(in.generation().text());
      boolean correct = e.found() && e.letter().equals(answer);
      String reason = correct ? null : e.found() ? "wrong answer (expected " + answer + ")" : "no answer extracted";
      out.add(new ScoreRecord(p.id(), BENCHMARK, p.subset(), in.generation().sample(), e.letter(), correct,
          correct ? 1.0 : 0.0, reason));
    }
    return out;
  }

  /**
   * The official fallback's pick: it reseeds with 12345 before every draw, so the guessed index
   * depends only on the number of options.
   */
  public int officialFallbackIndex(int optionCount) {
    return fallbackByOptionCount.computeIfAbsent(optionCount,
        n -> (int) new PythonRandom(OFFICIAL_FALLBACK_SEED).randint(0, n - 1));
  }

  @Override
  public List<MetricRecord> metrics(List<ScoreRecord> scores, Map<String, PromptRecord> promptsById) {
    Map<String, Boolean> fallbackHit = new HashMap<>();
    boolean fallbackKnown = true;
    for (ScoreRecord s : scores) {
      if (s.extracted() != null || fallbackHit.containsKey(s.id())) {
        continue;
      }
      PromptRecord p = promptsById.get(s.id());
      JsonNode ref = References.parse(p);
      JsonNode options = ref.get("options");
      String index = References.optionalText(ref, "answer_index");
      if (options == null || !options.isArray() || index == null) {
        fallbackKnown = false;
        break;
      }
      int count = 0;
      for (JsonNode o : options) {
        // the official preprocessing drops "N/A" padding options before counting
        if (!"N/A".equals(o.asText())) {
          count++;
        }
      }
      fallbackHit.put(s.id(), count > 0 && officialFallbackIndex(count) == Integer.parseInt(index));
    }
    List<MetricRecord> out = new ArrayList<>();
    Map<String, List<ScoreRecord>> groups = Grouping.allThenBySubset(scores);
    for (Map.Entry<String, List<ScoreRecord>> g : groups.entrySet()) {
      List<ScoreRecord> group = g.getValue();
      long correct = group.stream().filter(ScoreRecord::correct).count();
      long none = group.stream().filter(s -> s.extracted() == null).count();
      out.add(Metrics.proportion(BENCHMARK, g.getKey(), "accuracy", correct, group.size()));
      if (fallbackKnown) {
        long hits = group.stream().filter(s -> s.correct()
            || (s.extracted() == null && fallbackHit.getOrDefault(s.id(), false))).count();
        out.add(Metrics.proportion(BENCHMARK, g.getKey(), "accuracy_random_fallback", hits, group.size()));
      }
      out.add(Metrics.proportion(BENCHMARK, g.getKey(), "no_answer_rate", none, group.size()));
    }
    return out;
  }
}
