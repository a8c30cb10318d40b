package dev.kimilinear.eval.report.samples;

import dev.kimilinear.eval.records.GenerationRecord;
import dev.kimilinear.eval.records.PromptRecord;
import dev.kimilinear.eval.records.ScoreRecord;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** Samples joined in memory from prompt, generation and score records, in {@link SampleOrder}. */
public final class SampleViews {

  private SampleViews() {}

  public static Iterator<SampleView> inOrder(List<PromptRecord> prompts, List<GenerationRecord> generations,
      List<ScoreRecord> scores) {
    Map<String, PromptText> texts = new HashMap<>();
    Map<String, String> references = new HashMap<>();
    prompts.forEach(p -> {
      texts.putIfAbsent(p.id(), PromptText.of(p));
      references.putIfAbsent(p.id(), p.reference());
    });
    return inOrder(texts, references, generations, scores);
  }

  /** From prompt texts already cut to what the pages show, and the references, by prompt id. */
  public static Iterator<SampleView> inOrder(Map<String, PromptText> texts, Map<String, String> references,
      List<GenerationRecord> generations, List<ScoreRecord> scores) {
    Map<String, GenerationRecord> byKey = new HashMap<>();
    generations.forEach(g -> byKey.put(SampleOrder.key(g.id(), g.sample()), g));
    return scores.stream().sorted(SampleOrder.SCORES).map(s -> new SampleView(s,
        texts.getOrDefault(s.id(), PromptText.of((String) null)),
        ReferenceText.of(s.benchmark(), references.get(s.id())),
        byKey.get(SampleOrder.key(s.id(), s.sample())))).iterator();
  }
}
