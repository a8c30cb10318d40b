package dev.kimilinear.eval.mmlupro;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kimilinear.eval.cli.ScoreCommand;
import dev.kimilinear.eval.records.RecordIo;
import dev.kimilinear.eval.records.MetricRecord;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Response files as the official scripts write them: {@code model_outputs} (evaluate_from_api.py)
 * or {@code generated_text}, mixed in one list with entries that are not records at all.
 */
class MmluProResponsesTest {

  private static String record(int id, String category, String answer, String field, String text) {
    return "{\"question_id\": " + id + ", \"question\": \"q" + id + "\", \"options\": [\"a\", \"b\", \"c\", \"d\"],"
        + " \"answer\": \"" + answer + "\", \"answer_index\": " + (answer.charAt(0) - 'A') + ", \"category\": \""
        + category + "\"" + (field == null ? "" : ", \"" + field + "\": \"" + text + "\"") + "}";
  }

  private static Path mixedFile(Path dir) throws Exception {
    String list = "[\n"
        + record(1, "math", "B", "model_outputs", "The answer is (B)") + ",\n"
        + "\"a bare string between the records\",\n"
        + record(2, "law", "C", "generated_text", "The answer is (A)") + ",\n"
        + "42,\n"
        // both fields: model_outputs wins, as in the official compute_accuracy.py
        + record(3, "math", "D", "model_outputs", "The answer is (D)").replace("}",
            ", \"generated_text\": \"The answer is (A)\"}") + ",\n"
        + record(4, "law", "A", null, null) + ",\n"
        + "{\"category\": \"math\", \"answer\": \"A\", \"model_outputs\": \"The answer is (A)\"},\n"
        + record(5, "math", "A", "model_outputs", "x").replace("\"x\"", "[1, 2]") + ",\n"
        + "[\"not\", \"a\", \"record\"]\n"
        + "]";
    Path file = dir.resolve("responses.json");
    Files.writeString(file, list);
    return file;
  }

  @Test
  void readsEitherResponseFieldAndSetsAsideWhatIsNotARecord(@TempDir Path dir) throws Exception {
    MmluProResponses.Responses r = MmluProResponses.read(mixedFile(dir));
    assertEquals(3, r.generations().size());
    assertEquals(List.of("mmlu-pro/math/1", "mmlu-pro/law/2", "mmlu-pro/math/3"),
        r.prompts().stream().map(p -> p.id()).toList());
    assertEquals(List.of("The answer is (B)", "The answer is (A)", "The answer is (D)"),
        r.generations().stream().map(g -> g.text()).toList());
    assertEquals(List.of(2, 4, 6, 7, 8, 9), r.rejected().stream().map(MmluProResponses.Rejected::row).toList());
    List<String> reasons = r.rejected().stream().map(MmluProResponses.Rejected::reason).toList();
    assertTrue(reasons.get(0).startsWith("expected a question object, found string \"a bare string"), reasons.get(0));
    assertTrue(reasons.get(1).startsWith("expected a question object, found number 42"), reasons.get(1));
    assertEquals("no response: expected field 'model_outputs' or 'generated_text' (question_id 4)", reasons.get(2));
    assertEquals("field 'question_id': expected a value", reasons.get(3));
    assertEquals("response field: expected text, found array (question_id 5)", reasons.get(4));
    assertTrue(reasons.get(5).startsWith("expected a question object, found array"), reasons.get(5));
  }

  @Test
  void aFileWithNoRecordSaysWhy(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("junk.json");
    Files.writeString(file, "[\"only\", \"strings\"]");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MmluProResponses.read(file));
    assertTrue(e.getMessage().contains("no question record with a response (2 entries set aside; row 1:"),
        e.getMessage());
  }

  @Test
  void scoreCommandScoresTheRecordsAndWritesTheRestToErrors(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("out");
    StringWriter stdout = new StringWriter();
    StringWriter stderr = new StringWriter();
    CommandLine cli = new CommandLine(new ScoreCommand());
    cli.setOut(new PrintWriter(stdout));
    cli.setErr(new PrintWriter(stderr));
    int exit = cli.execute("mmlu-pro", "--responses", mixedFile(dir).toString(), "--out", out.toString(),
        "--format", "jsonl");
    assertEquals(0, exit, stderr.toString());
    MetricRecord all = RecordIo.readMetrics(out.resolve("metrics/mmlu-pro.jsonl")).stream()
        .filter(m -> m.subset().equals("all") && m.metric().equals("accuracy")).findFirst().orElseThrow();
    assertEquals(3, all.n());
    assertEquals(2.0 / 3, all.value(), 1e-9);
    List<String> errors = Files.readAllLines(out.resolve("errors/mmlu-pro.jsonl"));
    assertEquals(6, errors.size());
    assertTrue(errors.get(0).contains("\"row\":2") && errors.get(0).contains("a bare string"), errors.get(0));
    assertTrue(stdout.toString().contains("6 entries of"), stdout.toString());
  }
}
