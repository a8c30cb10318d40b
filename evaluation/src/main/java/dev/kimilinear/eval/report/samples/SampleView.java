package dev.kimilinear.eval.report.samples;

import dev.kimilinear.eval.records.GenerationRecord;
import dev.kimilinear.eval.records.ScoreRecord;

/**
 * One sample as its page shows it: the verdict, the prompt (possibly shortened), the reference,
 * and the generation (null when the prompt has none).
 */
public record SampleView(ScoreRecord score, PromptText prompt, ReferenceText reference, GenerationRecord generation) {

  public SampleVerdict verdict() {
    return SampleVerdict.of(score);
  }

  String key() {
    return SampleOrder.key(score.id(), score.sample());
  }
}
