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
    private final RowChoices step;        // the step's own table, where the parts share it (one part)
    private final RowChoices.Split split;  // else each part's table, or null for logits only

    private MicroBatchPlan(StepBatch[] parts, RowChoices step, RowChoices.Split split) {
        this.parts = parts;
        this.step = step;
        this.split = split;
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
        if (choices == null || p == 1) {
            return new MicroBatchPlan(out, choices, null);
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
        return new MicroBatchPlan(out, null, choices.split(partOf, localRow, p));
    }

    int size() {
        return parts.length;
    }

    StepBatch batch(int i) {
        return parts[i];
    }

    /** Part i's choices (the step's own table where there is one part), or null for logits only. */
    RowChoices choices(int i) {
        return split != null ? split.tables()[i] : step;
    }

    /** Copies part i's answers into the step's table (nothing to do where the part's table is the step's). */
    void answer(int i, RowChoices stepTable) {
        if (split != null) {
            split.answer(i, stepTable);
        }
    }
}
