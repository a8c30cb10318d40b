package dev.kimilinear.engine;

import java.util.List;

/**
 * How one request is decoded. Validated by the engine, which answers a bad value with an ERROR
 * result naming the field rather than an exception.
 *
 * @param maxTokens    most tokens to generate per sample (at least 1)
 * @param temperature  0 for greedy (argmax); otherwise logits are divided by it before sampling
 * @param topP         nucleus mass in (0, 1]; 1 keeps every token
 * @param topK         tokens kept by rank; 0 keeps every token
 * @param seed         the same seed gives the same samples whatever else is in the batch
 * @param stop         strings that end a sample; the text is cut before the first one found
 * @param stopTokenIds token ids that end a sample, besides the model's end-of-sequence ids
 * @param n            samples of the same prompt (the prompt is computed once)
 * @param logprobs     -1 none; 0 the chosen token's log-probability; k &gt; 0 (at most 20) also the top k
 *                     alternatives
 */
public record SamplingParams(int maxTokens, double temperature, double topP, int topK, long seed,
                             List<String> stop, List<Integer> stopTokenIds, int n, int logprobs) {

    public SamplingParams {
        stop = stop == null ? List.of() : List.copyOf(stop);
        stopTokenIds = stopTokenIds == null ? List.of() : List.copyOf(stopTokenIds);
    }

    /** Argmax decoding of one sample, no stop strings, no log-probabilities. */
    public static SamplingParams greedy(int maxTokens) {
        return new SamplingParams(maxTokens, 0.0, 1.0, 0, 0L, List.of(), List.of(), 1, -1);
    }

    /** The first thing wrong with these parameters, or null when they are usable. */
    public String problem() {
        if (maxTokens < 1) {
            return "max_tokens must be at least 1, got " + maxTokens;
        }
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            return "temperature must be a finite number >= 0, got " + temperature;
        }
        if (!(topP > 0 && topP <= 1)) {
            return "top_p must be in (0, 1], got " + topP;
        }
        if (topK < 0) {
            return "top_k must be >= 0 (0 keeps every token), got " + topK;
        }
        if (n < 1) {
            return "n must be at least 1, got " + n;
        }
        if (logprobs < -1 || logprobs > RowChoices.MAX_TOP) {
            return "logprobs must be -1 (none), 0 (chosen token) or the number of alternatives up to "
                    + RowChoices.MAX_TOP + ", got " + logprobs;
        }
        for (int i = 0; i < stop.size(); i++) {
            if (stop.get(i) == null || stop.get(i).isEmpty()) {
                return "stop[" + i + "] is empty; stop strings must have at least one character";
            }
        }
        for (int i = 0; i < stopTokenIds.size(); i++) {
            if (stopTokenIds.get(i) == null) {
                return "stop_token_ids[" + i + "] is null";
            }
        }
        return null;
    }

    /** This with another number of samples. */
    public SamplingParams withN(int samples) {
        return new SamplingParams(maxTokens, temperature, topP, topK, seed, stop, stopTokenIds, samples, logprobs);
    }

    /** This with another seed. */
    public SamplingParams withSeed(long newSeed) {
        return new SamplingParams(maxTokens, temperature, topP, topK, newSeed, stop, stopTokenIds, n, logprobs);
    }
}
