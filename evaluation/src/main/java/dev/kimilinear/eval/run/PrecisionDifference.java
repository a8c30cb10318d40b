package dev.kimilinear.eval.run;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Whether two runs compared ran in different numeric precisions (bf16 or fp8 weights, CPU or
 * GPU), from the precision each run's facts (run.json) record: the metric deltas then include
 * the effect of precision, and a comparison says so rather than passing it off as a change.
 */
public final class PrecisionDifference {
  private PrecisionDifference() {}

  /** A note when the baseline directory's run.json records another precision than {@code runPrecision}. */
  public static Optional<String> against(String runPrecision, Path baseline) throws IOException {
    Optional<RunFacts> base = facts(baseline);
    if (runPrecision == null || base.isEmpty() || base.get().precision() == null
        || base.get().precision().equals(runPrecision)) {
      return Optional.empty();
    }
    return Optional.of("precision differs from the baseline's, so the deltas include its effect: this run: "
        + runPrecision + "; baseline: " + base.get().precision());
  }

  /** As {@link #against}, with the run's precision read from its own run.json; empty when either has none. */
  public static Optional<String> between(Path run, Path baseline) throws IOException {
    Optional<RunFacts> facts = facts(run);
    return facts.isEmpty() ? Optional.empty() : against(facts.get().precision(), baseline);
  }

  private static Optional<RunFacts> facts(Path dir) throws IOException {
    return Files.isDirectory(dir) ? RunFactsFile.read(dir) : Optional.empty();
  }
}
