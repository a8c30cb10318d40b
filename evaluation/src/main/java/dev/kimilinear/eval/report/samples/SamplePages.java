package dev.kimilinear.eval.report.samples;

import dev.kimilinear.eval.records.AtomicFiles;
import dev.kimilinear.eval.records.ScoreRecord;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Writes each benchmark's samples as pages of {@link #PER_PAGE} beside report.html
 * ({@code samples/<benchmark>-<page>.html}), so a run of many thousand samples opens as fast as a
 * small one. The plan (which sample goes on which page, and every page's counts per subset and
 * verdict, which each page carries for filtering across pages) comes from the scores; the heavy
 * part, prompts and generations, streams in page by page.
 */
public final class SamplePages {

  public static final int PER_PAGE = 50;

  private SamplePages() {}

  /**
   * {@code views} must arrive in {@link SampleOrder}, one per score; a view that is not the next
   * planned sample is an error, as a page would otherwise show the wrong text.
   */
  public static List<SampleIndex> write(Path reportDir, List<ScoreRecord> scores, Iterator<SampleView> views)
      throws IOException {
    Path folder = reportDir.resolve(SampleIndex.FOLDER);
    Map<String, List<ScoreRecord>> byBenchmark = byBenchmark(scores);
    clear(folder, byBenchmark.keySet());
    List<SampleIndex> indexes = new ArrayList<>();
    if (byBenchmark.isEmpty()) {
      return indexes;
    }
    Files.createDirectories(folder);
    for (Map.Entry<String, List<ScoreRecord>> e : byBenchmark.entrySet()) {
      PagePlan plan = PagePlan.of(e.getKey(), e.getValue());
      for (int page = 1; page <= plan.pages(); page++) {
        List<SampleView> onPage = new ArrayList<>(PER_PAGE);
        for (ScoreRecord planned : plan.samplesOf(page)) {
          if (!views.hasNext()) {
            throw new IllegalStateException("samples: no row for " + planned.id() + " sample " + planned.sample()
                + " of " + planned.benchmark() + " (fewer sample rows than scores)");
          }
          SampleView v = views.next();
          if (!v.key().equals(SampleOrder.key(planned.id(), planned.sample()))) {
            throw new IllegalStateException("samples: expected " + planned.id() + " sample " + planned.sample()
                + ", found " + v.score().id() + " sample " + v.score().sample() + " (rows out of order)");
          }
          onPage.add(v);
        }
        AtomicFiles.writeString(folder.resolve(SampleIndex.fileName(e.getKey(), page)),
            SamplePage.render(plan, page, onPage));
      }
      indexes.add(plan.index());
    }
    return indexes;
  }

  /** The index of pages written earlier from these scores (e.g. by another scoring of the same directory). */
  public static List<SampleIndex> indexOf(List<ScoreRecord> scores) {
    List<SampleIndex> out = new ArrayList<>();
    byBenchmark(scores).forEach((b, s) -> out.add(PagePlan.of(b, s).index()));
    return out;
  }

  private static Map<String, List<ScoreRecord>> byBenchmark(List<ScoreRecord> scores) {
    Map<String, List<ScoreRecord>> byBenchmark = new LinkedHashMap<>();
    scores.stream().sorted(SampleOrder.SCORES)
        .forEach(s -> byBenchmark.computeIfAbsent(s.benchmark(), k -> new ArrayList<>()).add(s));
    return byBenchmark;
  }

  /** A benchmark's pages of an earlier report would outlive a rerun with fewer samples. */
  private static void clear(Path folder, java.util.Set<String> benchmarks) throws IOException {
    if (!Files.isDirectory(folder)) {
      return;
    }
    try (Stream<Path> files = Files.list(folder)) {
      for (Path f : files.toList()) {
        String name = f.getFileName().toString();
        for (String b : benchmarks) {
          if (name.matches(java.util.regex.Pattern.quote(SampleIndex.slug(b)) + "-[0-9]+\\.html")) {
            Files.delete(f);
          }
        }
      }
    }
  }

  /** One benchmark's samples cut into pages, with every page's counts per subset and verdict. */
  record PagePlan(String benchmark, List<ScoreRecord> samples, List<Map<String, long[]>> counts,
      List<String> subsets) {

    static PagePlan of(String benchmark, List<ScoreRecord> samples) {
      List<Map<String, long[]>> counts = new ArrayList<>();
      List<String> subsets = new ArrayList<>();
      for (int i = 0; i < samples.size(); i++) {
        if (i % PER_PAGE == 0) {
          counts.add(new LinkedHashMap<>());
        }
        ScoreRecord s = samples.get(i);
        String subset = s.subset() == null ? "" : s.subset();
        if (subsets.isEmpty() || !subsets.get(subsets.size() - 1).equals(subset)) {
          subsets.add(subset);
        }
        counts.get(counts.size() - 1).computeIfAbsent(subset, k -> new long[SampleVerdict.values().length])
            [SampleVerdict.of(s).ordinal()]++;
      }
      return new PagePlan(benchmark, samples, counts, subsets);
    }

    int pages() {
      return counts.size();
    }

    List<ScoreRecord> samplesOf(int page) {
      return samples.subList((page - 1) * PER_PAGE, Math.min(samples.size(), page * PER_PAGE));
    }

    SampleIndex index() {
      Map<SampleVerdict, Long> verdicts = new EnumMap<>(SampleVerdict.class);
      Map<SampleVerdict, Integer> firstPage = new EnumMap<>(SampleVerdict.class);
      Map<String, long[]> perSubset = new LinkedHashMap<>();
      Map<String, Integer> subsetPage = new LinkedHashMap<>();
      for (int p = 0; p < counts.size(); p++) {
        for (Map.Entry<String, long[]> e : counts.get(p).entrySet()) {
          subsetPage.putIfAbsent(e.getKey(), p + 1);
          long[] total = perSubset.computeIfAbsent(e.getKey(), k -> new long[SampleVerdict.values().length]);
          for (SampleVerdict v : SampleVerdict.values()) {
            long n = e.getValue()[v.ordinal()];
            total[v.ordinal()] += n;
            verdicts.merge(v, n, Long::sum);
            if (n > 0) {
              firstPage.putIfAbsent(v, p + 1);
            }
          }
        }
      }
      List<SampleIndex.Subset> subsetRows = new ArrayList<>();
      for (Map.Entry<String, long[]> e : perSubset.entrySet()) {
        long n = java.util.Arrays.stream(e.getValue()).sum();
        subsetRows.add(new SampleIndex.Subset(e.getKey(), n, e.getValue()[SampleVerdict.CORRECT.ordinal()],
            subsetPage.get(e.getKey())));
      }
      return new SampleIndex(benchmark, samples.size(), pages(), verdicts, firstPage, subsetRows);
    }
  }
}
