package dev.kimilinear.engine;

import java.util.concurrent.CompletableFuture;

/** A continuation to score: every continuation token's log-probability given what precedes it. */
final class ScoreTask {
    final int promptLength;
    final int[] tokens;
    final double[] tokenLogprobs;
    final boolean[] greedy;
    final CompletableFuture<Engine.ScoreResult> result = new CompletableFuture<>();

    ScoreTask(int[] prompt, int[] continuation) {
        this.promptLength = prompt.length;
        this.tokens = new int[prompt.length + continuation.length];
        System.arraycopy(prompt, 0, tokens, 0, prompt.length);
        System.arraycopy(continuation, 0, tokens, prompt.length, continuation.length);
        this.tokenLogprobs = new double[continuation.length];
        this.greedy = new boolean[continuation.length];
    }

    /** Completes the result, or fails it for {@code failure} when that is not null. */
    void finish(String failure) {
        if (failure != null) {
            result.completeExceptionally(new IllegalStateException(failure));
            return;
        }
        double total = 0;
        boolean all = true;
        for (int i = 0; i < tokenLogprobs.length; i++) {
            total += tokenLogprobs[i];
            all &= greedy[i];
        }
        result.complete(new Engine.ScoreResult(total, all, tokenLogprobs.clone()));
    }
}
