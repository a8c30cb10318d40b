package dev.kimilinear.eval.records;

/**
 * One aggregate: {@code value} and its 95% confidence interval are fractions in [0, 1] for every
 * metric; reports show them as percentage points. {@code subset} is {@code all} for the overall
 * row of a benchmark.
 *
 * @param status null for a metric that was computed; {@link #NOT_RUN} for a subset that was
 *               configured but not run (value and interval NaN, written as null; n 0)
 * @param note   why a subset was not run, or what an average covers; null when there is nothing to say
 */
public record MetricRecord(
    String benchmark, String subset, String metric, double value, long n, double ciLow, double ciHigh,
    String status, String note) {

  public static final String ALL = "all";
  public static final String NOT_RUN = "not run";

  public MetricRecord(String benchmark, String subset, String metric, double value, long n, double ciLow,
      double ciHigh) {
    this(benchmark, subset, metric, value, n, ciLow, ciHigh, null, null);
  }

  /** A subset the run was asked for but could not run, e.g. a RULER task whose input file is absent. */
  public static MetricRecord notRun(String benchmark, String subset, String metric, String reason) {
    return new MetricRecord(benchmark, subset, metric, Double.NaN, 0, Double.NaN, Double.NaN, NOT_RUN, reason);
  }

  public boolean ran() {
    return !NOT_RUN.equals(status);
  }

  /** "not run (reason)", as tables and the report show a subset that did not run. */
  public String notRunText() {
    return NOT_RUN + (note == null ? "" : " (" + note + ")");
  }

  public MetricRecord withNote(String text) {
    return new MetricRecord(benchmark, subset, metric, value, n, ciLow, ciHigh, status, text);
  }

  public String key() {
    return benchmark + "|" + subset + "|" + metric;
  }
}
