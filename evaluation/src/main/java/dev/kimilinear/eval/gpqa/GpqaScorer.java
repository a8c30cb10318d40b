package dev.kimilinear.eval.gpqa;

import dev.kimilinear.eval.metrics.Grouping;
import dev.kimilinear.eval.metrics.Metrics;
import dev.kimilinear.eval.records.MetricRecord;
import dev.kimilinear.eval.records.PromptRecord;
import dev.kimilinear.eval.records.ScoreRecord;
import dev.kimilinear.eval.scoring.BenchmarkScorer;
import dev.kimilinear.eval.scoring.References;
import dev.kimilinear.eval.scoring.ScoringInput;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * GPQA: the simple-evals extraction; correct iff the letter equals the reference {@code answer}
 * (the correct choice's letter after the seeded permutation). Accuracy is the mean over every
 * sample and repeat, per domain and overall.
 */
public final class GpqaScorer implements BenchmarkScorer {

  public static final String BENCHMARK = "gpqa";

  @Override
  public String benchmark() {
    return BENCHMARK;
  }

  @Override
  public List<ScoreRecord> score(List<ScoringInput> inputs) {
    List<ScoreRecord> out = new ArrayList<>(inputs.size());
    for (ScoringInput in : inputs) {
      PromptRecord p = in.prompt();
      String answer = References.text(p, References.parse(p), "answer", "answer_letter", "correct_letter");
      String letter = GpqaExtractor.extract(in.generation().text());
      boolean correct = letter != null && letter.equals(answer);
      String reason = correct ? null : letter == null ? "no answer extracted" : "wrong answer (expected " + answer + ")";
      out.add(new ScoreRecord(p.id(), BENCHMARK, p.subset(), in.generation().sample(), letter, correct,
          correct ? 1.0 : 0.0, reason));
    }
    return out;
  }

  @Override
  public List<MetricRecord> metrics(List<ScoreRecord> scores, Map<String, PromptRecord> promptsById) {
    Map<String, List<ScoreRecord>> groups = Grouping.allThenBySubset(scores);
    List<MetricRecord> out = new ArrayList<>();
    for (Map.Entry<String, List<ScoreRecord>> g : groups.entrySet()) {
      List<ScoreRecord> group = g.getValue();
      long correct = group.stream().filter(ScoreRecord::correct).count();
      long none = group.stream().filter(s -> s.extracted() == null).count();
      out.add(Metrics.proportion(BENCHMARK, g.getKey(), "accuracy", correct, group.size()));
      out.add(Metrics.proportion(BENCHMARK, g.getKey(), "no_answer_rate", none, group.size()));
    }
    return out;
  }
}
