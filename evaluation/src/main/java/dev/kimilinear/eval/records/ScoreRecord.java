package dev.kimilinear.eval.records;

/**
 * The verdict on one sample. {@code score} is in [0, 1] (1 or 0 for exact-answer benchmarks, the
 * fraction of expected strings found for RULER); {@code reason} says why a sample failed.
 * {@code stdout} and {@code stderr} are the last bytes a failed HumanEval program wrote (null
 * elsewhere), so a person can see why it failed without running it again.
 */
public record ScoreRecord(
    String id,
    String benchmark,
    String subset,
    int sample,
    String extracted,
    boolean correct,
    double score,
    String reason,
    String stdout,
    String stderr) {

  public ScoreRecord(String id, String benchmark, String subset, int sample, String extracted, boolean correct,
      double score, String reason) {
    this(id, benchmark, subset, sample, extracted, correct, score, reason, null, null);
  }
}
