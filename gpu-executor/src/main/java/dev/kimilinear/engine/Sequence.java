package dev.kimilinear.engine;

import dev.kimilinear.tokenizer.IncrementalDecoder;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One token stream the scheduler runs: a sample of a request (or, before its prompt is done,
 * the leader of all n samples), or a continuation being scored. Its tokens are the prompt
 * plus what it generated; {@code computed} of them are in its slot's state and its pages.
 * After preemption computed returns to 0 and everything is recomputed; the generated tokens,
 * text and timings are kept.
 */
final class Sequence {
    private static final int[] NO_PAGES = new int[0];

    final RequestState request;
    final ScoreTask score;
    final int promptLength;
    int[] tokens;
    int length;
    int computed;
    /** Before the prompt's first completion: the n samples still to be forked from this one. */
    boolean leader;
    int sample;

    int slot = -1;
    // the slot and page group it draws from (an elastic backend's replica), while admitted
    int group;
    int[] pages = NO_PAGES;
    long admitOrder;
    /** Index of this sequence's entry in the step being planned, or -1. */
    int planIndex = -1;

    // output of a sample
    IncrementalDecoder decoder;
    StringBuilder text;
    List<TokenLogprob> logprobs;
    FinishReason finish;

    long admitNanos;
    long firstTokenNanos;

    private Sequence(RequestState request, ScoreTask score, int[] tokens, int length, int promptLength) {
        this.request = request;
        this.score = score;
        this.tokens = tokens;
        this.length = length;
        this.promptLength = promptLength;
    }

    static Sequence generation(RequestState request, IncrementalDecoder decoder) {
        int[] prompt = request.promptIds;
        int capacity = prompt.length + Math.min(request.params.maxTokens(), 256);
        Sequence s = new Sequence(request, null, Arrays.copyOf(prompt, capacity), prompt.length, prompt.length);
        s.leader = request.params.n() > 1;
        s.decoder = decoder;
        s.text = decoder == null ? null : new StringBuilder();
        s.logprobs = request.params.logprobs() >= 0 ? new ArrayList<>() : List.of();
        return s;
    }

    static Sequence scoring(ScoreTask task) {
        return new Sequence(null, task, task.tokens, task.tokens.length, task.promptLength);
    }

    /** Sample {@code sample} of this leader's request, sharing its prompt, before any token of its own. */
    Sequence fork(int sampleIndex, IncrementalDecoder newDecoder) {
        Sequence s = new Sequence(request, null, Arrays.copyOf(tokens, tokens.length), promptLength,
                promptLength);
        s.sample = sampleIndex;
        s.decoder = newDecoder;
        s.text = newDecoder == null ? null : new StringBuilder();
        s.logprobs = request.params.logprobs() >= 0 ? new ArrayList<>() : List.of();
        s.admitNanos = admitNanos;
        s.firstTokenNanos = firstTokenNanos;
        return s;
    }

    /** Tokens whose state must be computed before the next logits row is useful. */
    int target() {
        return score != null ? length - 1 : length;
    }

    /** A sample whose only uncomputed token is the one it just generated. */
    boolean decoding() {
        return score == null && length > promptLength && computed == length - 1;
    }

    int outputCount() {
        return length - promptLength;
    }

    int[] outputIds() {
        return Arrays.copyOfRange(tokens, promptLength, length);
    }

    void append(int token) {
        if (length == tokens.length) {
            tokens = Arrays.copyOf(tokens, tokens.length + Math.max(16, tokens.length / 2));
        }
        tokens[length++] = token;
    }

    void addPage(int page) {
        pages = Arrays.copyOf(pages, pages.length + 1);
        pages[pages.length - 1] = page;
    }

    void clearPages() {
        pages = NO_PAGES;
    }

    /** The request's name for error messages. */
    String name() {
        return request != null ? "request " + request.id : "score";
    }
}
