package dev.kimilinear.engine;

/**
 * The new tokens of several sequences for one forward step, packed back to back.
 *
 * @param tokens         [T] new token ids of every sequence, packed
 * @param cuSeqlens      [N + 1] sequence n's new tokens are tokens[cuSeqlens[n] .. cuSeqlens[n+1])
 * @param slots          [N] state slot of each sequence
 * @param contextLengths [N] tokens of each sequence already in its state and cache
 * @param blockTables    [N][] pages of each sequence's latent cache, in order; they must
 *                       cover contextLengths[n] + its new tokens
 * @param logitRows      indices into tokens whose logits are wanted (usually each sequence's last)
 */
public record StepBatch(int[] tokens, int[] cuSeqlens, int[] slots, int[] contextLengths, int[][] blockTables,
                        int[] logitRows) {

    public int sequences() {
        return slots.length;
    }

    public int totalTokens() {
        return tokens.length;
    }

    public int newTokens(int seq) {
        return cuSeqlens[seq + 1] - cuSeqlens[seq];
    }

    /** True when every sequence brings exactly one token (a pure decode step). */
    public boolean isDecode() {
        return tokens.length == slots.length;
    }

    /**
     * The step's tokens [from, to) as a step of their own: the sequences they belong to, a
     * sequence cut by {@code from} continuing from the context its earlier tokens leave (its
     * chunk runs in two steps, in order), and the logit rows that fall inside, in their order
     * and counted from {@code from}.
     */
    public StepBatch tokens(int from, int to) {
        if (from < 0 || to > tokens.length || from >= to) {
            throw new IllegalArgumentException("tokens [" + from + ", " + to + ") of a step of " + tokens.length);
        }
        int first = 0;
        while (cuSeqlens[first + 1] <= from) {
            first++;
        }
        int last = first;
        while (cuSeqlens[last + 1] < to) {
            last++;
        }
        int n = last - first + 1;
        int[] cu = new int[n + 1];
        int[] sl = new int[n];
        int[] ctx = new int[n];
        int[][] tables = new int[n][];
        for (int k = 0; k < n; k++) {
            int s = first + k;
            int start = Math.max(cuSeqlens[s], from);
            cu[k + 1] = Math.min(cuSeqlens[s + 1], to) - from;
            sl[k] = slots[s];
            ctx[k] = contextLengths[s] + (start - cuSeqlens[s]);
            tables[k] = blockTables[s];
        }
        int rows = 0;
        for (int r : logitRows) {
            if (r >= from && r < to) {
                rows++;
            }
        }
        int[] lr = new int[rows];
        int j = 0;
        for (int r : logitRows) {
            if (r >= from && r < to) {
                lr[j++] = r - from;
            }
        }
        return new StepBatch(java.util.Arrays.copyOfRange(tokens, from, to), cu, sl, ctx, tables, lr);
    }

    /** The index in tokens of each sequence's last new token. */
    public static int[] lastRows(int[] cuSeqlens) {
        int[] rows = new int[cuSeqlens.length - 1];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = cuSeqlens[i + 1] - 1;
        }
        return rows;
    }
}
