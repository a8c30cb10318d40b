package dev.kimilinear.eval.report.samples;

import dev.kimilinear.eval.gpqa.GpqaScorer;
import dev.kimilinear.eval.mmlupro.MmluProScorer;
import dev.kimilinear.eval.records.ScoreRecord;
import java.util.Set;

/** What became of one sample, as the per-sample pages filter it. */
public enum SampleVerdict {
  CORRECT("correct"),
  /** Scored and wrong (an answer was given, or the benchmark extracts none). */
  WRONG("wrong"),
  /** A multiple-choice benchmark found no answer letter in the generation. */
  NO_ANSWER("no answer"),
  /** The generation failed, or the prompt has none. */
  FAILED("generation failed");

  /** Benchmarks that extract an answer from the text; elsewhere "no answer" has no meaning. */
  static final Set<String> EXTRACTING = Set.of(MmluProScorer.BENCHMARK, GpqaScorer.BENCHMARK);

  private final String label;

  SampleVerdict(String label) {
    this.label = label;
  }

  public String label() {
    return label;
  }

  /** The short name used in page data and links (#verdict=...). */
  public String key() {
    return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
  }

  public static SampleVerdict of(ScoreRecord s) {
    if (s.correct()) {
      return CORRECT;
    }
    String reason = s.reason() == null ? "" : s.reason();
    if (reason.startsWith("generation failed") || reason.equals("no generation")) {
      return FAILED;
    }
    if (EXTRACTING.contains(s.benchmark()) && s.extracted() == null) {
      return NO_ANSWER;
    }
    return WRONG;
  }
}
