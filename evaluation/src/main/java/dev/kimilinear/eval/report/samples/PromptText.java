package dev.kimilinear.eval.report.samples;

import dev.kimilinear.eval.records.ChatMessage;
import dev.kimilinear.eval.records.PromptRecord;
import java.util.Locale;

/**
 * A prompt as the pages show it: chat messages as "role:" blocks, and a long prompt (RULER's
 * haystacks, few-shot examples) cut to its beginning and its end, where the question is, so a
 * page of many samples stays small.
 */
public record PromptText(String head, String tail, long chars) {

  /** Characters kept from the start and from the end of a long prompt. */
  public static final int HEAD = 2_000;
  public static final int TAIL = 6_000;

  public static PromptText of(PromptRecord p) {
    return of(full(p));
  }

  public static PromptText of(String text) {
    if (text == null) {
      return new PromptText("", "", 0);
    }
    long n = text.codePointCount(0, text.length());
    if (n <= HEAD + TAIL) {
      return new PromptText(text, "", n);
    }
    int headEnd = text.offsetByCodePoints(0, HEAD);
    int tailStart = text.offsetByCodePoints(text.length(), -TAIL);
    return new PromptText(text.substring(0, headEnd), text.substring(tailStart), n);
  }

  /** The text shown: the whole prompt, or its two ends around a line that says what was left out. */
  public String shown() {
    long left = chars - head.codePointCount(0, head.length()) - tail.codePointCount(0, tail.length());
    if (left <= 0) {
      return head + tail;
    }
    return head + String.format(Locale.ROOT, "\n\n[... %,d characters not shown; the whole prompt is in prompts/ ...]\n\n",
        left) + tail;
  }

  public boolean shortened() {
    return chars > head.codePointCount(0, head.length()) + tail.codePointCount(0, tail.length());
  }

  /** The prompt's text: its raw text, or its messages one block per message. */
  public static String full(PromptRecord p) {
    if (!p.isChat()) {
      return p.prompt();
    }
    StringBuilder s = new StringBuilder();
    for (ChatMessage m : p.messages()) {
      if (!s.isEmpty()) {
        s.append("\n\n");
      }
      s.append(m.role()).append(":\n").append(m.content());
    }
    return s.toString();
  }
}
