package dev.kimilinear.eval.records;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Record <-> field-map conversions, with the field names of the shared schemas. */
final class RecordCodecs {

  private RecordCodecs() {}

  static PromptRecord prompt(FieldRow row) {
    List<ChatMessage> messages = new ArrayList<>();
    List<FieldRow> rawMessages = row.structList("messages");
    if (rawMessages != null) {
      for (FieldRow m : rawMessages) {
        messages.add(new ChatMessage(m.string("role"), m.string("content")));
      }
    }
    SamplingOverrides sampling = null;
    FieldRow s = row.struct("sampling");
    if (s != null) {
      sampling = new SamplingOverrides(s.int32("max_tokens"), s.stringList("stop"), s.int32("n"),
          s.float64("temperature"));
    }
    return new PromptRecord(row.requiredString("id"), row.string("benchmark"), row.string("subset"),
        messages, row.string("prompt"), row.string("reference"), sampling);
  }

  static Map<String, Object> prompt(PromptRecord p) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", p.id());
    m.put("benchmark", p.benchmark());
    m.put("subset", p.subset());
    List<Object> messages = new ArrayList<>();
    for (ChatMessage c : p.messages()) {
      Map<String, Object> cm = new LinkedHashMap<>();
      cm.put("role", c.role());
      cm.put("content", c.content());
      messages.add(cm);
    }
    m.put("messages", messages);
    m.put("prompt", p.prompt());
    m.put("reference", p.reference());
    if (p.sampling() != null) {
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("max_tokens", p.sampling().maxTokens());
      s.put("stop", p.sampling().stop());
      s.put("n", p.sampling().n());
      s.put("temperature", p.sampling().temperature());
      m.put("sampling", s);
    } else {
      m.put("sampling", null);
    }
    return m;
  }

  static GenerationRecord generation(FieldRow row) {
    Integer sample = row.int32("sample");
    Integer promptTokens = row.int32("prompt_tokens");
    Integer outputTokens = row.int32("output_tokens");
    return new GenerationRecord(row.requiredString("id"), row.string("benchmark"), row.string("subset"),
        sample == null ? 0 : sample, row.string("text"), row.string("finish_reason"),
        promptTokens == null ? 0 : promptTokens, outputTokens == null ? 0 : outputTokens,
        row.string("error"));
  }

  static Map<String, Object> generation(GenerationRecord g) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", g.id());
    m.put("benchmark", g.benchmark());
    m.put("subset", g.subset());
    m.put("sample", g.sample());
    m.put("text", g.text());
    m.put("finish_reason", g.finishReason());
    m.put("prompt_tokens", g.promptTokens());
    m.put("output_tokens", g.outputTokens());
    m.put("error", g.error());
    return m;
  }

  static ScoreRecord score(FieldRow row) {
    Boolean correct = row.bool("correct");
    if (correct == null) {
      throw row.error("correct", "true or false, found nothing");
    }
    return new ScoreRecord(row.requiredString("id"), row.requiredString("benchmark"), row.string("subset"),
        row.requiredInt32("sample"), row.string("extracted"), correct, row.requiredFloat64("score"),
        row.string("reason"), row.string("stdout"), row.string("stderr"));
  }

  static Map<String, Object> score(ScoreRecord s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", s.id());
    m.put("benchmark", s.benchmark());
    m.put("subset", s.subset());
    m.put("sample", s.sample());
    m.put("extracted", s.extracted());
    m.put("correct", s.correct());
    m.put("score", s.score());
    m.put("reason", s.reason());
    m.put("stdout", s.stdout());
    m.put("stderr", s.stderr());
    return m;
  }

  static MetricRecord metric(FieldRow row) {
    Long n = row.int64("n");
    if (n == null) {
      throw row.error("n", "an integer, found nothing");
    }
    // status and note are absent from files written before they existed: such rows all ran
    String status = row.string("status");
    if (status != null && !status.equals(MetricRecord.NOT_RUN)) {
      throw row.error("status", "nothing or \"" + MetricRecord.NOT_RUN + "\", found \"" + status + "\"");
    }
    if (MetricRecord.NOT_RUN.equals(status)) {
      return new MetricRecord(row.requiredString("benchmark"), row.requiredString("subset"),
          row.requiredString("metric"), orNaN(row.float64("value")), n, orNaN(row.float64("ci_low")),
          orNaN(row.float64("ci_high")), status, row.string("note"));
    }
    return new MetricRecord(row.requiredString("benchmark"), row.requiredString("subset"),
        row.requiredString("metric"), row.requiredFloat64("value"), n,
        row.requiredFloat64("ci_low"), row.requiredFloat64("ci_high"), null, row.string("note"));
  }

  private static double orNaN(Double v) {
    return v == null ? Double.NaN : v;
  }

  static Map<String, Object> metric(MetricRecord r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("benchmark", r.benchmark());
    m.put("subset", r.subset());
    m.put("metric", r.metric());
    // a subset that did not run has no value: null, not NaN, so readers cannot take it for a score
    m.put("value", r.ran() ? r.value() : null);
    m.put("n", r.n());
    m.put("ci_low", r.ran() ? r.ciLow() : null);
    m.put("ci_high", r.ran() ? r.ciHigh() : null);
    m.put("status", r.status());
    m.put("note", r.note());
    return m;
  }

  static TrendRecord trend(FieldRow row) {
    Long n = row.int64("n");
    return new TrendRecord(row.requiredString("run"), row.string("run_time"), row.requiredString("benchmark"),
        row.requiredString("subset"), row.requiredString("metric"), row.requiredFloat64("value"),
        row.requiredFloat64("ci_low"), row.requiredFloat64("ci_high"), n == null ? 0 : n, row.string("verdict"));
  }

  static Map<String, Object> trend(TrendRecord t) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("run", t.run());
    m.put("run_time", t.runTime());
    m.put("benchmark", t.benchmark());
    m.put("subset", t.subset());
    m.put("metric", t.metric());
    m.put("value", t.value());
    m.put("ci_low", t.ciLow());
    m.put("ci_high", t.ciHigh());
    m.put("n", t.n());
    m.put("verdict", t.verdict());
    return m;
  }
}
