package dev.kimilinear.engine;

/**
 * Counters since the engine started, as of the last finished step.
 *
 * @param prompts          requests admitted for the first time
 * @param promptTokens     their prompt tokens (once per request, however often recomputed)
 * @param outputTokens     tokens generated, over all samples
 * @param prefillTokens    tokens computed in prefill chunks, recomputation after preemption included
 * @param decodeTokens     tokens computed one per sequence in decode
 * @param preemptions      sequences sent back to wait for lack of latent pages
 * @param steps            forward steps
 * @param prefillNanos     time of steps that computed only prefill chunks
 * @param decodeNanos      time of steps that computed only decode tokens
 * @param mixedNanos       time of steps that did both
 * @param results          results delivered
 * @param running          sequences holding a slot now
 * @param waiting          sequences waiting for a slot now
 * @param pagesInUse       latent pages held now
 * @param peakSequences    most sequences that held a slot at once
 * @param peakPages        most latent pages held at once
 * @param decodeSteps      steps that computed only decode tokens
 * @param decodeStepTokens the tokens of those steps (decodeTokens counts decode tokens of mixed
 *                         steps too)
 * @param reliefs          times an elastic backend pooled its memory instead of preempting
 * @param restores         times it went back to replicas
 * @param decodeForwardNanos the part of decodeNanos spent in the backend's forward (the device's
 *                         work and its launch and copies); the rest is the host's planning and
 *                         bookkeeping, during which the device waits
 */
public record EngineStats(long prompts, long promptTokens, long outputTokens, long prefillTokens, long decodeTokens,
                          long preemptions, long steps, long prefillNanos, long decodeNanos, long mixedNanos,
                          long results, int running, int waiting, int pagesInUse, int peakSequences, int peakPages,
                          long decodeSteps, long decodeStepTokens, long decodeForwardNanos, long reliefs,
                          long restores) {

    static final EngineStats EMPTY = new EngineStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
}
