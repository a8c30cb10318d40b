package dev.kimilinear.eval.report.samples;

import dev.kimilinear.eval.records.ScoreRecord;
import java.util.Comparator;

/**
 * The order of samples on the pages: benchmark, subset, id, sample. Strings compare by code
 * point, as Spark sorts UTF-8 strings, so rows sorted by Spark arrive in this order too.
 */
public final class SampleOrder {

  public static final Comparator<String> CODE_POINTS = SampleOrder::compareCodePoints;

  public static final Comparator<ScoreRecord> SCORES = Comparator
      .comparing((ScoreRecord s) -> s.benchmark(), Comparator.nullsFirst(CODE_POINTS))
      .thenComparing(ScoreRecord::subset, Comparator.nullsFirst(CODE_POINTS))
      .thenComparing(ScoreRecord::id, Comparator.nullsFirst(CODE_POINTS))
      .thenComparingInt(ScoreRecord::sample);

  private SampleOrder() {}

  static int compareCodePoints(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i);
      int cb = b.codePointAt(j);
      if (ca != cb) {
        return Integer.compare(ca, cb);
      }
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return Boolean.compare(i < a.length(), j < b.length());
  }

  /** The key that ties a score to its generation: id and sample. */
  static String key(String id, int sample) {
    return id + "\u0000" + sample;
  }
}
