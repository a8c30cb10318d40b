package dev.kimilinear.eval.run;

import java.util.List;

/**
 * One invocation of the job on a run directory (a fresh run has one; each resume adds one): where
 * it ran, what it generated and how long each stage took. Seconds are wall time on the driver.
 *
 * @param resumedPrompts prompts whose generations an earlier invocation had already committed
 * @param devices        what generated, one entry per distinct executor device, e.g.
 *                       "NVIDIA H100 80GB HBM3 (cuda:0 on host-a)" or "cpu (host-a)"
 */
public record Invocation(
    String started,
    String sparkMaster,
    int executors,
    int slots,
    List<String> devices,
    long resumedPrompts,
    long promptsGenerated,
    long samplesGenerated,
    long promptTokens,
    long outputTokens,
    double promptsSeconds,
    double generationSeconds,
    double scoringSeconds,
    long quarantined) {

  public Invocation {
    devices = devices == null ? List.of() : List.copyOf(devices);
  }

  /** Output tokens per second of generation wall time; NaN when nothing was generated. */
  public double outputTokensPerSecond() {
    return generationSeconds > 0 && samplesGenerated > 0 ? outputTokens / generationSeconds : Double.NaN;
  }

  /** Prompt tokens per second of the same wall time (prefill shares it with decoding). */
  public double promptTokensPerSecond() {
    return generationSeconds > 0 && samplesGenerated > 0 ? promptTokens / generationSeconds : Double.NaN;
  }
}
