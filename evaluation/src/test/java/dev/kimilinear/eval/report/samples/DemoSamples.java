package dev.kimilinear.eval.report.samples;

import dev.kimilinear.eval.records.GenerationRecord;
import dev.kimilinear.eval.records.PromptRecord;
import java.util.ArrayList;
import java.util.List;

/** Demo-like records for the per-sample pages' tests, with markup and scripts in their text. */
public final class DemoSamples {

  private DemoSamples() {}

  /** A run's records, demo-like: MMLU-Pro questions in 3 categories, a quarter without an answer. */
  public record Run(List<PromptRecord> prompts, List<GenerationRecord> generations) {}

  public static Run mmluPro(int questions) {
    List<PromptRecord> prompts = new ArrayList<>();
    List<GenerationRecord> gens = new ArrayList<>();
    String[] categories = {"law", "math", "history"};
    for (int q = 0; q < questions; q++) {
      String category = categories[q % 3];
      String id = String.format("mmlu-pro/%s/%04d", category, q);
      // a long few-shot prompt whose question sits at the end
      String prompt = (q == 3 ? "x".repeat(20_000) : "") + "Question " + q + " <b>&amp;</b>?";
      prompts.add(new PromptRecord(id, "mmlu-pro", category, List.of(), prompt,
          "{\"answer\":\"C\",\"answer_index\":2,\"options\":[\"a\",\"b\",\"c </script>\",\"d\"]}", null));
      String text = switch (q % 4) {
        case 0 -> "so the answer is (C).";
        case 1 -> "</script><script>alert(1)</script> the answer is (B)";
        case 2 -> "no idea <!-- -->";
        default -> "I pick (C) here";
      };
      gens.add(new GenerationRecord(id, "mmlu-pro", category, 0, text, q == 5 ? "length" : "stop", 900, 300, null));
    }
    return new Run(prompts, gens);
  }
}
