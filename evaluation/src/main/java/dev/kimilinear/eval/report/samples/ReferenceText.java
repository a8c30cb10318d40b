package dev.kimilinear.eval.report.samples;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A prompt's reference as a person compares it with the extracted answer: the answer letter and
 * its option for multiple choice, the expected strings for RULER, the tests for HumanEval
 * ({@code detail}, shown collapsed). Unknown shapes show their JSON, shortened.
 */
public record ReferenceText(String answer, String detail) {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int RAW_LIMIT = 400;

  public static ReferenceText of(String benchmark, String referenceJson) {
    if (referenceJson == null || referenceJson.isBlank()) {
      return new ReferenceText("", null);
    }
    JsonNode ref;
    try {
      ref = JSON.readTree(referenceJson);
    } catch (IOException e) {
      return raw(referenceJson);
    }
    if (ref == null || !ref.isObject()) {
      return raw(referenceJson);
    }
    JsonNode outputs = ref.get("outputs");
    if (outputs != null && outputs.isArray()) {
      List<String> expected = new ArrayList<>();
      outputs.forEach(o -> expected.add(o.asText()));
      return new ReferenceText(String.join(" | ", expected), null);
    }
    JsonNode test = ref.get("test");
    if (test != null && test.isTextual()) {
      String entry = ref.path("entry_point").asText("");
      return new ReferenceText(entry.isEmpty() ? "the tests" : "the tests of " + entry + "()", test.asText());
    }
    JsonNode answer = ref.get("answer");
    if (answer != null && answer.isValueNode()) {
      return new ReferenceText(answer.asText() + optionText(ref, answer.asText()), null);
    }
    return raw(referenceJson);
  }

  /** ": option text" for a multiple-choice answer letter whose options the reference lists. */
  private static String optionText(JsonNode ref, String letter) {
    JsonNode options = ref.get("options");
    if (options == null || !options.isArray() || letter.length() != 1) {
      return "";
    }
    int index = letter.charAt(0) - 'A';
    JsonNode idx = ref.get("answer_index");
    if (idx != null && idx.canConvertToInt()) {
      index = idx.asInt();
    }
    if (index < 0 || index >= options.size()) {
      return "";
    }
    String option = options.get(index).asText();
    return ": " + (option.length() > RAW_LIMIT ? option.substring(0, RAW_LIMIT) + "..." : option);
  }

  private static ReferenceText raw(String text) {
    return new ReferenceText(text.length() > RAW_LIMIT ? text.substring(0, RAW_LIMIT) + "..." : text, null);
  }
}
