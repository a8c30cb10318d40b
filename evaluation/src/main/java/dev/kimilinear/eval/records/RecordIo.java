package dev.kimilinear.eval.records;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.parquet.schema.MessageType;

/**
 * Reading and writing the shared record kinds in Parquet (a file or a directory of parts) or
 * JSONL, the format detected from the path on reading.
 */
public final class RecordIo {

  /** Prompt columns needed to score without the (possibly very long) prompt text. */
  public static final Set<String> PROMPT_COLUMNS_WITHOUT_TEXT =
      Set.of("id", "benchmark", "subset", "reference", "sampling");

  private RecordIo() {}

  public static List<PromptRecord> readPrompts(Path path) throws IOException {
    return read(path, null, RecordCodecs::prompt);
  }

  /** Prompts restricted to {@code columns} (e.g. {@link #PROMPT_COLUMNS_WITHOUT_TEXT}). */
  public static List<PromptRecord> readPrompts(Path path, Set<String> columns) throws IOException {
    return read(path, columns, RecordCodecs::prompt);
  }

  /** Streams prompt records one at a time, for readers that keep only a little of each (long prompts). */
  public static void forEachPrompt(Path path, Consumer<PromptRecord> sink) throws IOException {
    Consumer<FieldRow> rows = row -> sink.accept(RecordCodecs.prompt(row));
    if (RecordFormat.detect(path) == RecordFormat.PARQUET) {
      ParquetTables.read(path, null, rows);
    } else {
      JsonlTables.read(path, null, rows);
    }
  }

  public static List<GenerationRecord> readGenerations(Path path) throws IOException {
    return read(path, null, RecordCodecs::generation);
  }

  public static List<ScoreRecord> readScores(Path path) throws IOException {
    return read(path, null, RecordCodecs::score);
  }

  public static List<MetricRecord> readMetrics(Path path) throws IOException {
    return read(path, null, RecordCodecs::metric);
  }

  public static void writePrompts(Path target, RecordFormat format, List<PromptRecord> rows)
      throws IOException {
    write(target, format, RecordSchemas.PROMPTS, rows, RecordCodecs::prompt);
  }

  public static void writeGenerations(Path target, RecordFormat format, List<GenerationRecord> rows)
      throws IOException {
    write(target, format, RecordSchemas.GENERATIONS, rows, RecordCodecs::generation);
  }

  public static void writeScores(Path target, RecordFormat format, List<ScoreRecord> rows)
      throws IOException {
    write(target, format, RecordSchemas.SCORES, rows, RecordCodecs::score);
  }

  public static List<TrendRecord> readTrends(Path path) throws IOException {
    return read(path, null, RecordCodecs::trend);
  }

  public static void writeTrends(Path target, RecordFormat format, List<TrendRecord> rows) throws IOException {
    write(target, format, RecordSchemas.TRENDS, rows, RecordCodecs::trend);
  }

  public static void writeMetrics(Path target, RecordFormat format, List<MetricRecord> rows)
      throws IOException {
    write(target, format, RecordSchemas.METRICS, rows, RecordCodecs::metric);
  }

  private static <T> List<T> read(Path path, Set<String> columns, Function<FieldRow, T> codec)
      throws IOException {
    List<T> out = new ArrayList<>();
    Consumer<FieldRow> sink = row -> out.add(codec.apply(row));
    if (RecordFormat.detect(path) == RecordFormat.PARQUET) {
      ParquetTables.read(path, columns, sink);
    } else {
      JsonlTables.read(path, columns, sink);
    }
    return out;
  }

  private static <T> void write(Path target, RecordFormat format, MessageType schema, List<T> rows,
      Function<T, Map<String, Object>> codec) throws IOException {
    List<Map<String, Object>> maps = rows.stream().map(codec).toList();
    if (format == RecordFormat.PARQUET) {
      ParquetTables.write(target, schema, maps);
    } else {
      JsonlTables.write(target, maps);
    }
  }
}
