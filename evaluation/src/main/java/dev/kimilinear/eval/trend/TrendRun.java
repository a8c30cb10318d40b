package dev.kimilinear.eval.trend;

import dev.kimilinear.eval.compare.RunMetrics;
import dev.kimilinear.eval.records.MetricRecord;
import dev.kimilinear.eval.run.RunFacts;
import dev.kimilinear.eval.run.RunFactsFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Optional;

/**
 * One run directory in a trend: its name, when it ran (the first invocation's start from run.json;
 * for runs without one, when config.yaml or the metrics were last written) and its metrics.
 */
public record TrendRun(String name, Path dir, String time, List<MetricRecord> metrics) {

  public static TrendRun load(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException(dir + " is not a run directory: " + (Files.exists(dir) ? "not a directory"
          : "it does not exist"));
    }
    Path metrics = RunMetrics.locate(dir);
    if (metrics.equals(dir)) {
      throw new IllegalArgumentException(dir + " is not a run directory: it holds no metrics/, metrics.parquet or "
          + "metrics.jsonl (a run that was scored has them)");
    }
    List<MetricRecord> rows;
    try {
      rows = RunMetrics.load(dir);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(dir + ": cannot read its metrics: " + e.getMessage(), e);
    }
    Optional<String> started = RunFactsFile.read(dir).map(RunFacts::started);
    String time = started.isPresent() && started.get() != null ? started.get() : modified(dir, metrics);
    Path name = dir.toAbsolutePath().normalize().getFileName();
    return new TrendRun(name == null ? dir.toString() : name.toString(), dir, time, rows);
  }

  private static String modified(Path dir, Path metrics) throws IOException {
    Path config = dir.resolve("config.yaml");
    FileTime t = Files.getLastModifiedTime(Files.isRegularFile(config) ? config : metrics);
    return DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(t.toInstant().atOffset(ZoneOffset.UTC).withNano(0));
  }
}
