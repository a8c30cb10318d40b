package dev.kimilinear.eval.run;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What a person asks of a run before its scores: the model (directory, fingerprint, precision),
 * the backend, the run's size, and every invocation of the job on it, latest last. Kept in the run
 * directory ({@link RunFactsFile}) so a resumed run shows what earlier invocations did.
 */
public record RunFacts(String modelDir, String modelFingerprint, String precision, String backend, long prompts,
    long samples, List<Invocation> invocations) {

  public RunFacts {
    invocations = invocations == null ? List.of() : List.copyOf(invocations);
  }

  public RunFacts with(Invocation next) {
    List<Invocation> all = new ArrayList<>(invocations);
    all.add(next);
    return new RunFacts(modelDir, modelFingerprint, precision, backend, prompts, samples, all);
  }

  public Invocation latest() {
    return invocations.isEmpty() ? null : invocations.get(invocations.size() - 1);
  }

  /** When the run was first started: the first invocation's start (ISO-8601), or null. */
  public String started() {
    return invocations.isEmpty() ? null : invocations.get(0).started();
  }

  /** Every device any invocation generated on, in order of first use. */
  public List<String> devices() {
    Set<String> all = new LinkedHashSet<>();
    invocations.forEach(i -> all.addAll(i.devices()));
    return List.copyOf(all);
  }

  public long outputTokens() {
    return invocations.stream().mapToLong(Invocation::outputTokens).sum();
  }

  public long promptTokens() {
    return invocations.stream().mapToLong(Invocation::promptTokens).sum();
  }

  public double generationSeconds() {
    return invocations.stream().mapToDouble(Invocation::generationSeconds).sum();
  }

  /** Output tokens per second over every invocation's generation time. */
  public double outputTokensPerSecond() {
    double s = generationSeconds();
    return s > 0 && outputTokens() > 0 ? outputTokens() / s : Double.NaN;
  }

  public double promptTokensPerSecond() {
    double s = generationSeconds();
    return s > 0 && promptTokens() > 0 ? promptTokens() / s : Double.NaN;
  }

  /** Label and value pairs, in the order the console and report.html show them. */
  public List<String[]> rows() {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"model", modelDir});
    rows.add(new String[] {"model fingerprint", modelFingerprint});
    rows.add(new String[] {"precision", precision});
    rows.add(new String[] {"backend", backend + (devices().isEmpty() ? "" : ": " + String.join("; ", devices()))});
    Invocation last = latest();
    if (last != null) {
      rows.add(new String[] {"Spark", last.sparkMaster() + ", " + executorsText(last)});
    }
    rows.add(new String[] {"prompts and samples", String.format(Locale.ROOT, "%,d prompts, %,d samples", prompts, samples)});
    for (int i = 0; i < invocations.size(); i++) {
      Invocation inv = invocations.get(i);
      String which = invocations.size() == 1 ? "run" : (i == 0 ? "first run" : "resume " + i);
      rows.add(new String[] {which, invocationText(inv)});
    }
    if (invocations.size() > 1) {
      rows.add(new String[] {"generation, all invocations", String.format(Locale.ROOT,
          "%,d prompt tokens, %,d output tokens in %s: %s output tokens/s, %s prompt tokens/s", promptTokens(),
          outputTokens(), duration(generationSeconds()), rate(outputTokensPerSecond()), rate(promptTokensPerSecond()))});
    }
    return rows;
  }

  /** The facts as aligned "label: value" lines, for the console. */
  public String format() {
    StringBuilder out = new StringBuilder();
    int width = rows().stream().mapToInt(r -> r[0].length()).max().orElse(0);
    for (String[] r : rows()) {
      out.append(String.format(Locale.ROOT, "%-" + width + "s  %s%n", r[0] + ":", r[1]));
    }
    return out.toString();
  }

  static String invocationText(Invocation inv) {
    StringBuilder s = new StringBuilder();
    s.append("started ").append(inv.started()).append("; ");
    if (inv.resumedPrompts() > 0) {
      s.append(String.format(Locale.ROOT, "resumed: %,d prompts already generated; ", inv.resumedPrompts()));
    }
    s.append(String.format(Locale.ROOT, "generated %,d prompts (%,d samples); ", inv.promptsGenerated(),
        inv.samplesGenerated()));
    if (inv.quarantined() > 0) {
      s.append(String.format(Locale.ROOT, "%,d input rows quarantined in errors/; ", inv.quarantined()));
    }
    s.append("wall time: prompts ").append(duration(inv.promptsSeconds())).append(", generation ")
        .append(duration(inv.generationSeconds())).append(", scoring ").append(duration(inv.scoringSeconds()));
    if (inv.samplesGenerated() > 0) {
      s.append(String.format(Locale.ROOT, "; %s output tokens/s, %s prompt tokens/s (%,d and %,d tokens)",
          rate(inv.outputTokensPerSecond()), rate(inv.promptTokensPerSecond()), inv.outputTokens(), inv.promptTokens()));
    }
    return s.toString();
  }

  static String executorsText(Invocation inv) {
    return inv.executors() == 0 ? "driver only (local mode), " + inv.slots() + " task slots"
        : inv.executors() + " executors, " + inv.slots() + " task slots";
  }

  static String duration(double seconds) {
    if (Double.isNaN(seconds)) {
      return "n/a";
    }
    if (seconds < 60) {
      return String.format(Locale.ROOT, "%.1f s", seconds);
    }
    long s = Math.round(seconds);
    return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
        : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
  }

  static String rate(double perSecond) {
    return Double.isNaN(perSecond) ? "n/a" : String.format(Locale.ROOT, "%,.1f", perSecond);
  }
}
