package dev.kimilinear.eval.records;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.util.HadoopOutputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.MessageTypeParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecordIoTest {

  static final List<PromptRecord> PROMPTS = List.of(
      new PromptRecord("gpqa/Physics/r1", "gpqa", "Physics",
          List.of(new ChatMessage("system", "be brief"), new ChatMessage("user", "Answer: ∑ \"quoted\"\nnext")),
          null, "{\"answer\":\"B\"}", new SamplingOverrides(128, List.of("\nclass", "\ndef"), 4, 0.8)),
      new PromptRecord("humaneval/default/0", "humaneval", "default", List.of(), "def f():\n", "{}", null));

  @Test
  void promptsRoundTripInBothFormats(@TempDir Path dir) throws Exception {
    for (RecordFormat format : RecordFormat.values()) {
      Path file = dir.resolve("prompts" + format.extension());
      RecordIo.writePrompts(file, format, PROMPTS);
      assertEquals(format, RecordFormat.detect(file));
      assertEquals(PROMPTS, RecordIo.readPrompts(file));
      List<PromptRecord> slim = RecordIo.readPrompts(file, RecordIo.PROMPT_COLUMNS_WITHOUT_TEXT);
      assertEquals(List.of(), slim.get(0).messages());
      assertEquals(PROMPTS.get(0).sampling(), slim.get(0).sampling());
      assertEquals(null, slim.get(1).prompt());
    }
    try (Stream<Path> files = Files.list(dir)) {
      assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".crc")
          || p.getFileName().toString().endsWith(".tmp")), "no side files");
    }
  }

  @Test
  void scoresMetricsAndGenerationsRoundTrip(@TempDir Path dir) throws Exception {
    List<ScoreRecord> scores = List.of(new ScoreRecord("a", "ruler", "vt@4096", 1, null, false, 0.25, "missing"),
        new ScoreRecord("b", "mmlu-pro", "law", 0, "C", true, 1.0, null));
    List<MetricRecord> metrics = List.of(new MetricRecord("ruler", "all", "average", 0.5, 10, 0.2, 0.8));
    List<GenerationRecord> gens = List.of(new GenerationRecord("a", "ruler", "vt@4096", 3, "text", "length", 100, 30, null));
    for (RecordFormat format : RecordFormat.values()) {
      RecordIo.writeScores(dir.resolve("s" + format.extension()), format, scores);
      RecordIo.writeMetrics(dir.resolve("m" + format.extension()), format, metrics);
      RecordIo.writeGenerations(dir.resolve("g" + format.extension()), format, gens);
      assertEquals(scores, RecordIo.readScores(dir.resolve("s" + format.extension())));
      assertEquals(metrics, RecordIo.readMetrics(dir.resolve("m" + format.extension())));
      assertEquals(gens, RecordIo.readGenerations(dir.resolve("g" + format.extension())));
    }
  }

  @Test
  void aSubsetThatDidNotRunIsWrittenWithNoValueAndItsReason(@TempDir Path dir) throws Exception {
    List<MetricRecord> metrics = List.of(
        new MetricRecord("ruler", "all@4096", "average", 0.5, 10, 0.2, 0.8).withNote("mean over 12 of 13 tasks"),
        MetricRecord.notRun("ruler", "qa_1@4096", "string_match_part", "squad file /x not found"));
    for (RecordFormat format : RecordFormat.values()) {
      Path file = dir.resolve("m" + format.extension());
      RecordIo.writeMetrics(file, format, metrics);
      assertEquals(metrics, RecordIo.readMetrics(file));
      List<java.util.Map<String, Object>> raw = new java.util.ArrayList<>();
      java.util.function.Consumer<FieldRow> sink = row -> raw.add(java.util.Map.of(
          "value", String.valueOf(row.float64("value")), "status", String.valueOf(row.string("status")),
          "note", String.valueOf(row.string("note"))));
      if (format == RecordFormat.PARQUET) {
        ParquetTables.read(file, null, sink);
      } else {
        JsonlTables.read(file, null, sink);
      }
      // a reader that knows nothing of status sees no score, not a NaN it might average
      assertEquals(java.util.Map.of("value", "null", "status", "not run", "note", "squad file /x not found"), raw.get(1));
      assertEquals("null", raw.get(0).get("status"));
    }
  }

  @Test
  void metricsWrittenBeforeStatusAndNoteExistedStillRead(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("old.jsonl");
    Files.writeString(file, "{\"benchmark\":\"ruler\",\"subset\":\"all\",\"metric\":\"average\",\"value\":0.5,"
        + "\"n\":10,\"ci_low\":0.2,\"ci_high\":0.8}\n");
    assertEquals(List.of(new MetricRecord("ruler", "all", "average", 0.5, 10, 0.2, 0.8)), RecordIo.readMetrics(file));
    Files.writeString(file, "{\"benchmark\":\"ruler\",\"subset\":\"all\",\"metric\":\"average\",\"value\":0.5,"
        + "\"n\":10,\"ci_low\":0.2,\"ci_high\":0.8,\"status\":\"skipped\"}\n");
    RecordFileException e = assertThrows(RecordFileException.class, () -> RecordIo.readMetrics(file));
    assertTrue(e.getMessage().contains("status") && e.getMessage().contains("skipped"), e.getMessage());
  }

  @Test
  void readsSparkStyleDirectoriesOfParts(@TempDir Path dir) throws Exception {
    Path table = Files.createDirectories(dir.resolve("prompts"));
    RecordIo.writePrompts(table.resolve("part-00000-abc.snappy.parquet"), RecordFormat.PARQUET, PROMPTS.subList(0, 1));
    RecordIo.writePrompts(table.resolve("part-00001-abc.snappy.parquet"), RecordFormat.PARQUET, PROMPTS.subList(1, 2));
    Files.writeString(table.resolve("_SUCCESS"), "");
    Files.writeString(table.resolve(".part-00000-abc.snappy.parquet.crc"), "x");
    assertEquals(RecordFormat.PARQUET, RecordFormat.detect(table));
    assertEquals(PROMPTS, RecordIo.readPrompts(table));
  }

  @Test
  void readsLegacyTwoLevelLists(@TempDir Path dir) throws Exception {
    MessageType schema = MessageTypeParser.parseMessageType("""
        message spark_schema {
          required binary id (STRING);
          optional group messages (LIST) {
            repeated group array {
              optional binary role (STRING);
              optional binary content (STRING);
            }
          }
          optional binary reference (STRING);
        }
        """);
    Path file = dir.resolve("legacy.parquet");
    var conf = new org.apache.hadoop.conf.Configuration(false);
    conf.set("fs.file.impl", RawLocalFileSystem.class.getName());
    try (ParquetWriter<Group> w = ExampleParquetWriter.builder(HadoopOutputFile.fromPath(
        new org.apache.hadoop.fs.Path(file.toUri()), conf)).withConf(conf).withType(schema).build()) {
      Group g = new SimpleGroupFactory(schema).newGroup().append("id", "x/y/1").append("reference", "{}");
      Group list = g.addGroup("messages");
      list.addGroup("array").append("role", "user").append("content", "hi");
      list.addGroup("array").append("role", "assistant").append("content", "ok");
      w.write(g);
    }
    PromptRecord p = RecordIo.readPrompts(file).get(0);
    assertEquals(List.of(new ChatMessage("user", "hi"), new ChatMessage("assistant", "ok")), p.messages());
  }

  @Test
  void badRowsNameFileRowAndField(@TempDir Path dir) throws Exception {
    Path gens = dir.resolve("g.jsonl");
    Files.writeString(gens, "{\"id\":\"a\",\"sample\":0,\"text\":\"x\"}\n{\"id\":\"b\",\"sample\":\"one\",\"text\":\"y\"}\n");
    var e = assertThrows(RecordFileException.class, () -> RecordIo.readGenerations(gens));
    assertTrue(e.getMessage().contains("g.jsonl") && e.getMessage().contains("row 1")
        && e.getMessage().contains("'sample'") && e.getMessage().contains("32-bit integer"), e.getMessage());
    Path prompts = dir.resolve("p.jsonl");
    Files.writeString(prompts, "{\"benchmark\":\"gpqa\"}\n");
    e = assertThrows(RecordFileException.class, () -> RecordIo.readPrompts(prompts));
    assertTrue(e.getMessage().contains("row 0") && e.getMessage().contains("'id'"), e.getMessage());
    Path broken = dir.resolve("b.jsonl");
    Files.writeString(broken, "{\"id\": \n");
    e = assertThrows(RecordFileException.class, () -> RecordIo.readPrompts(broken));
    assertTrue(e.getMessage().contains("b.jsonl") && e.getMessage().contains("JSON"), e.getMessage());
    Path notParquet = dir.resolve("x.parquet");
    Files.writeString(notParquet, "hello");
    e = assertThrows(RecordFileException.class, () -> RecordIo.readPrompts(notParquet));
    assertTrue(e.getMessage().contains("x.parquet"), e.getMessage());
    e = assertThrows(RecordFileException.class, () -> RecordIo.readPrompts(dir.resolve("missing.parquet")));
    assertTrue(e.getMessage().contains("missing.parquet"), e.getMessage());
  }
}
