package dev.kimilinear.eval.mmlupro;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kimilinear.eval.records.GenerationRecord;
import dev.kimilinear.eval.records.PromptRecord;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * The MMLU-Pro repository's published model outputs: a JSON list of test questions (question_id,
 * options, answer, answer_index, category, ...) each with the model's response, as a .json file or
 * a .zip holding one. Read as prompt records plus one generation each.
 *
 * <p>The response is {@code model_outputs} (what the official {@code evaluate_from_api.py} writes
 * and its {@code compute_accuracy.py} reads) or {@code generated_text} (the published files of
 * the local script); where an entry holds both, {@code model_outputs} wins, as in the official
 * scoring. Entries that are not question records (bare strings or numbers between the records,
 * objects without an id, category, answer or response) are set aside with their row and why;
 * the rest are scored.
 */
public final class MmluProResponses {

  /** The response fields, in the order they are looked for. */
  public static final List<String> RESPONSE_FIELDS = List.of("model_outputs", "generated_text");

  /** An entry of the list that is not a scorable record: its row (1-based, as the data command counts) and why. */
  public record Rejected(String source, int row, String reason) {}

  public record Responses(List<PromptRecord> prompts, List<GenerationRecord> generations, List<Rejected> rejected) {}

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int PREVIEW = 60;

  private MmluProResponses() {}

  public static Responses read(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(file + ": expected an MMLU-Pro responses file (.json or .zip)");
    }
    if (file.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".zip")) {
      try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(file))) {
        ZipEntry entry;
        while ((entry = zip.getNextEntry()) != null) {
          if (!entry.isDirectory() && entry.getName().endsWith(".json")) {
            return parse(file + "!" + entry.getName(), zip);
          }
        }
      }
      throw new IllegalArgumentException(file + ": expected a .json entry inside the zip");
    }
    try (InputStream in = Files.newInputStream(file)) {
      return parse(file.toString(), in);
    }
  }

  private static Responses parse(String source, InputStream in) throws IOException {
    List<PromptRecord> prompts = new ArrayList<>();
    List<GenerationRecord> generations = new ArrayList<>();
    List<Rejected> rejected = new ArrayList<>();
    try (JsonParser parser = JSON.getFactory().createParser(in)) {
      if (parser.nextToken() != JsonToken.START_ARRAY) {
        throw new IllegalArgumentException(source + ": expected a JSON list of questions");
      }
      int index = 0;
      for (JsonToken token = parser.nextToken(); token != JsonToken.END_ARRAY; token = parser.nextToken(), index++) {
        if (token == null) {
          throw new IllegalArgumentException(source + ": the JSON list ends early, after row " + index);
        }
        JsonNode q = JSON.readTree(parser);
        String why = problem(q);
        if (why != null) {
          rejected.add(new Rejected(source, index + 1, why));
          continue;
        }
        String questionId = q.get("question_id").asText();
        String category = q.get("category").asText();
        ObjectNode reference = JSON.createObjectNode();
        reference.put("answer", q.get("answer").asText());
        if (q.hasNonNull("answer_index")) {
          reference.set("answer_index", q.get("answer_index"));
        }
        if (q.has("options")) {
          reference.set("options", q.get("options"));
        }
        String id = MmluProScorer.BENCHMARK + "/" + category + "/" + questionId;
        prompts.add(new PromptRecord(id, MmluProScorer.BENCHMARK, category, List.of(), null,
            reference.toString(), null));
        generations.add(new GenerationRecord(id, MmluProScorer.BENCHMARK, category, 0,
            response(q).asText(), "stop", 0, 0, null));
      }
    }
    if (prompts.isEmpty()) {
      throw new IllegalArgumentException(source + ": no question record with a response"
          + (rejected.isEmpty() ? " (the list is empty)"
              : " (" + rejected.size() + " entries set aside; row " + rejected.get(0).row() + ": "
                  + rejected.get(0).reason() + ")"));
    }
    return new Responses(prompts, generations, rejected);
  }

  /** Why an entry cannot be scored, or null when it can. */
  private static String problem(JsonNode q) {
    if (!q.isObject()) {
      String text = q.toString();
      return "expected a question object, found " + q.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)
          + " " + (text.length() > PREVIEW ? text.substring(0, PREVIEW) + "..." : text);
    }
    for (String name : List.of("question_id", "category", "answer")) {
      JsonNode v = q.get(name);
      if (v == null || v.isNull() || !v.isValueNode()) {
        return "field '" + name + "': expected a value" + id(q);
      }
    }
    JsonNode r = response(q);
    if (r == null) {
      return "no response: expected field 'model_outputs' or 'generated_text'" + id(q);
    }
    if (!r.isTextual()) {
      return "response field: expected text, found " + r.getNodeType().toString().toLowerCase(java.util.Locale.ROOT)
          + id(q);
    }
    return null;
  }

  private static JsonNode response(JsonNode q) {
    for (String name : RESPONSE_FIELDS) {
      if (q.hasNonNull(name)) {
        return q.get(name);
      }
    }
    return null;
  }

  private static String id(JsonNode q) {
    JsonNode v = q.get("question_id");
    return v == null || v.isNull() ? "" : " (question_id " + v.asText() + ")";
  }
}
