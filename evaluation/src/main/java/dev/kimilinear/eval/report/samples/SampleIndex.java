package dev.kimilinear.eval.report.samples;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where one benchmark's per-sample pages are and what they hold: counts per verdict, each
 * subset's size and first page, and the first page holding each verdict, for report.html's links.
 */
public record SampleIndex(String benchmark, long total, int pages, Map<SampleVerdict, Long> verdicts,
    Map<SampleVerdict, Integer> firstPageOf, List<Subset> subsets) {

  /** The folder beside report.html that holds the pages. */
  public static final String FOLDER = "samples";

  public record Subset(String name, long samples, long correct, int firstPage) {}

  public long count(SampleVerdict v) {
    return verdicts.getOrDefault(v, 0L);
  }

  /** The page's file name inside {@link #FOLDER}, pages counted from 1. */
  public static String fileName(String benchmark, int page) {
    return slug(benchmark) + "-" + page + ".html";
  }

  /** A page's link relative to report.html, with the filter a person picked, e.g. {@code #verdict=wrong}. */
  public String href(int page, String fragment) {
    return FOLDER + "/" + fileName(benchmark, page) + (fragment == null ? "" : "#" + fragment);
  }

  static String slug(String s) {
    String out = s.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_.-]+", "_");
    return out.isEmpty() || out.startsWith(".") ? "b" + out : out;
  }
}
