package dev.kimilinear.cuda;

import dev.kimilinear.engine.RowChoices;
import dev.kimilinear.engine.StepBatch;

/**
 * A step cut into micro-batches of consecutive tokens for a pipeline: stage s works on part i
 * while stage s + 1 works on part i - 1. Cuts fall anywhere, also inside a sequence's chunk
 * (its tokens then run as two steps in order: each stage has finished the first part, state and
 * cache included, before it starts the second). Each part carries the choices that read its
 * logits rows, renumbered, and hands their answers back to the step's table.
 */
final class MicroBatchPlan {
    private final StepBatch[] parts;
    private final RowChoices[] choices;
    private final int[][] origin;   // per part: the step's index of each of its choices

    private MicroBatchPlan(StepBatch[] parts, RowChoices[] choices, int[][] origin) {
        this.parts = parts;
        this.choices = choices;
        this.origin = origin;
    }

    /**
     * At most {@code parts} parts of at least {@code minTokens} tokens each, as even as whole
     * tokens allow; one part (the step itself) where it has fewer than 2 x minTokens.
     *
     * @param choices the step's choices, or null where the step computes logits only
     */
    static MicroBatchPlan of(StepBatch batch, RowChoices choices, int parts, int minTokens) {
        if (parts < 1 || minTokens < 1) {
            throw new IllegalArgumentException("micro-batches: " + parts + " parts of at least " + minTokens
                    + " tokens; both must be at least 1");
        }
        int t = batch.totalTokens();
        int p = Math.max(1, Math.min(parts, t / minTokens));
        StepBatch[] out = new StepBatch[p];
        int[] from = new int[p + 1];
        for (int i = 0; i <= p; i++) {
            from[i] = (int) ((long) t * i / p);
        }
        for (int i = 0; i < p; i++) {
            out[i] = p == 1 ? batch : batch.tokens(from[i], from[i + 1]);
        }
        if (choices == null) {
            return new MicroBatchPlan(out, null, null);
        }
        if (p == 1) {
            return new MicroBatchPlan(out, new RowChoices[] {choices}, null);
        }
        // logits row j of the step: its part and its row there
        int[] logitRows = batch.logitRows();
        int[] partOf = new int[logitRows.length];
        int[] localRow = new int[logitRows.length];
        int[] rowsIn = new int[p];
        for (int j = 0; j < logitRows.length; j++) {
            int part = 0;
            while (logitRows[j] >= from[part + 1]) {
                part++;
            }
            partOf[j] = part;
            localRow[j] = rowsIn[part]++;
        }
        RowChoices[] sub = new RowChoices[p];
        int[] counts = new int[p];
        for (int c = 0; c < choices.count(); c++) {
            counts[partOf[checkRow(choices, c, logitRows.length)]]++;
        }
        int[][] origin = new int[p][];
        for (int i = 0; i < p; i++) {
            sub[i] = new RowChoices(choices.sampleVocab());
            origin[i] = new int[counts[i]];
        }
        for (int c = 0; c < choices.count(); c++) {
            int j = choices.row(c);
            int part = partOf[j];
            origin[part][sub[part].addLike(choices, c, localRow[j])] = c;
        }
        return new MicroBatchPlan(out, sub, origin);
    }

    private static int checkRow(RowChoices choices, int c, int rows) {
        int j = choices.row(c);
        if (j >= rows) {
            throw new IllegalArgumentException("choice " + c + " reads logits row " + j + " of a step that computes "
                    + rows);
        }
        return j;
    }

    int size() {
        return parts.length;
    }

    StepBatch batch(int i) {
        return parts[i];
    }

    /** Part i's choices (the step's own table where there is one part), or null for logits only. */
    RowChoices choices(int i) {
        return choices == null ? null : choices[i];
    }

    /** Copies part i's answers into the step's table (nothing to do where the part's table is the step's). */
    void answer(int i, RowChoices step) {
        if (origin == null) {
            return;
        }
        RowChoices sub = choices[i];
        for (int k = 0; k < sub.count(); k++) {
            step.copyAnswer(origin[i][k], sub, k);
        }
    }
}
