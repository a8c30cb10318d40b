package dev.kimilinear.engine;

import java.util.Arrays;

/**
 * The choices of a {@link RowChoices} table from logits on the host: the definition every
 * backend follows (sampling.cu is the device's). Greedy is the first index of the largest
 * logit. A draw ranks tokens by logit (ties: lower id first), keeps the top k, then the
 * smallest prefix of them whose weight exp((logit - max) / temperature) reaches top_p of the
 * kept weight, and takes the argmax of logit / temperature + {@link RandomStream#gumbel} over
 * what is kept. Weights are counted in whole units of 2^-32 ({@link #massUnits}), so the cut is
 * exact on any backend. Log-probabilities are the raw logits' log-softmax over the whole
 * vocabulary, in double. NaN logits are never chosen.
 *
 * <p>Scratch arrays are sized once; one instance per thread.
 */
public final class TokenChooser {
    /** Weight thresholds in mass units (the best token weighs 2^32), tried before sorting a whole row. */
    private static final long[] THRESHOLDS = {1L << 24, 1L << 16, 1, 0};

    private final long[] units;
    private final long[] keys;

    /** @param vocab the widest row this chooser will read */
    public TokenChooser(int vocab) {
        this.units = new long[vocab];
        this.keys = new long[vocab];
    }

    /** Answers every choice of {@code choices} from rows of {@code vocab} logits packed back to back. */
    public void chooseAll(float[] logits, int vocab, RowChoices choices) {
        choices.prepareAnswers();
        for (int i = 0; i < choices.count(); i++) {
            choose(logits, choices.row(i) * vocab, vocab, choices, i);
        }
    }

    /** Answers choice {@code i} from the row [off, off + vocab). */
    public void choose(float[] logits, int off, int vocab, RowChoices c, int i) {
        int n = Math.min(c.sampleVocab(), vocab);
        int best = argmax(logits, off, n);
        if (best < 0) {
            // a row of NaN (activations that overflowed): no token, as the CUDA chooser answers
            c.setToken(i, -1);
            c.setLogprob(i, Double.NaN);
            return;
        }
        int token = c.temperature(i) == 0 || c.topK(i) == 1 ? best : draw(logits, off, n, best, c, i);
        c.setToken(i, token);
        if (!c.wantsLogprob(i)) {
            c.setLogprob(i, Double.NaN);
            return;
        }
        double logZ = logSumExp(logits, off, vocab);
        int of = c.target(i) >= 0 ? c.target(i) : token;
        c.setLogprob(i, logits[off + of] - logZ);
        int[] ids = top(logits, off, n, c.topCount(i));
        for (int r = 0; r < ids.length; r++) {
            c.setTop(i, r, ids[r], logits[off + ids[r]] - logZ);
        }
    }

    private int draw(float[] x, int off, int n, int best, RowChoices c, int i) {
        double temperature = c.temperature(i);
        int k = c.topK(i) <= 0 || c.topK(i) >= n ? n : c.topK(i);
        double p = c.topP(i);
        long key = c.streamKey(i);
        float max = x[off + best];
        if (k == n && p >= 1) {
            int chosen = -1;
            double bestScore = Double.NEGATIVE_INFINITY;
            for (int t = 0; t < n; t++) {
                float l = x[off + t];
                double s = (double) l / temperature + RandomStream.gumbel(key, t);
                if (l == l && (chosen < 0 || s > bestScore)) {
                    chosen = t;
                    bestScore = s;
                }
            }
            return Math.max(chosen, 0);
        }
        long total = 0;
        for (int t = 0; t < n; t++) {
            float l = x[off + t];
            long w = l == l ? massUnits(l, max, temperature) : 0;
            units[t] = w;
            total += w;
        }
        // tokens at or above a weight form a prefix of the ranking: once they hold k tokens, or
        // the nucleus of the whole row, the kept set lies among them
        int count = 0;
        for (long threshold : THRESHOLDS) {
            count = 0;
            long mass = 0;
            for (int t = 0; t < n; t++) {
                if (units[t] >= threshold && x[off + t] == x[off + t]) {
                    count++;
                    mass += units[t];
                }
            }
            if (threshold == 0 || (k < n && count >= k) || (k == n && mass >= nucleusTarget(p, total))) {
                count = 0;
                for (int t = 0; t < n; t++) {
                    if (units[t] >= threshold && x[off + t] == x[off + t]) {
                        keys[count++] = rankKey(x[off + t], t);
                    }
                }
                break;
            }
        }
        Arrays.sort(keys, 0, count);
        // keys ascend, so the ranking reads from the end
        int kept = Math.min(k, count);
        long keptMass = total;
        if (k < n) {
            keptMass = 0;
            for (int r = 0; r < kept; r++) {
                keptMass += units[idOf(keys[count - 1 - r])];
            }
        }
        if (p < 1) {
            long target = nucleusTarget(p, keptMass);
            long before = 0;
            int r = 0;
            while (r < kept && before < target) {
                before += units[idOf(keys[count - 1 - r])];
                r++;
            }
            kept = Math.max(1, r);
        }
        // the kept tokens in rank order; among equal scores the lower id wins
        int chosen = -1;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (int r = 0; r < kept; r++) {
            int t = idOf(keys[count - 1 - r]);
            double s = (double) x[off + t] / temperature + RandomStream.gumbel(key, t);
            if (chosen < 0 || s > bestScore || (s == bestScore && t < chosen)) {
                chosen = t;
                bestScore = s;
            }
        }
        return chosen;
    }

    /**
     * A token's weight exp((logit - max) / temperature), at most 1, in whole units of 2^-32: sums
     * of them are exact whatever their order, so the nucleus is the same on every backend.
     */
    public static long massUnits(float logit, float max, double temperature) {
        return (long) (Math.exp(((double) logit - max) / temperature) * 0x1p32);
    }

    /** The units the nucleus must reach: top_p of the kept mass, rounded up. */
    public static long nucleusTarget(double topP, long keptMass) {
        return (long) Math.ceil(topP * (double) keptMass);
    }

    /** Ascending order of the key is ascending logit, then descending id. */
    private static long rankKey(float logit, int id) {
        return ((long) (orderedBits(logit) ^ 0x80000000) << 32) | (0xFFFFFFFFL - id);
    }

    /** The float's bits mapped so that unsigned order is numeric order. */
    static int orderedBits(float v) {
        int b = Float.floatToRawIntBits(v);
        return b < 0 ? ~b : b | 0x80000000;
    }

    private static int idOf(long key) {
        return (int) (0xFFFFFFFFL - (key & 0xFFFFFFFFL));
    }

    /** The first index of the largest value; NaN never wins; -1 when every value is NaN. */
    public static int argmax(float[] x, int off, int n) {
        int best = 0;
        float bestValue = Float.NEGATIVE_INFINITY;
        boolean any = false;
        for (int i = 0; i < n; i++) {
            float v = x[off + i];
            if (v > bestValue || (!any && v == v)) {
                bestValue = v;
                best = i;
                any = true;
            }
        }
        return any ? best : -1;
    }

    /** log Σ exp over a row of n logits, in double. */
    public static double logSumExp(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp((double) x[off + i] - max);
        }
        return max + Math.log(sum);
    }

    /** The ids of the k largest logits among the first n, largest first (ties: lower id first). */
    public static int[] top(float[] x, int off, int n, int k) {
        k = Math.min(k, n);
        if (k <= 0) {
            return new int[0];
        }
        int[] ids = new int[k];
        int filled = 0;
        for (int i = 0; i < n; i++) {
            float v = x[off + i];
            if (v != v || (filled == k && !(v > x[off + ids[k - 1]]))) {
                continue;
            }
            int at = filled < k ? filled++ : k - 1;
            while (at > 0 && v > x[off + ids[at - 1]]) {
                ids[at] = ids[at - 1];
                at--;
            }
            ids[at] = i;
        }
        return filled == k ? ids : Arrays.copyOf(ids, filled);
    }
}
