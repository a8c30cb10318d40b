package dev.kimilinear.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A step cut by replica, for an {@link ElasticBackend} in its replicated layout: replica g's
 * sequences (slots [g S, (g+1) S), pages [g P, (g+1) P)) as a step of its own, in the replica's
 * own ids, with the logits rows and the choices that belong to them.
 */
public final class ReplicaParts {
    private ReplicaParts() {
    }

    /**
     * @param replica      which replica computes it
     * @param batch        its sequences, in the replica's ids
     * @param choices      the choices reading its rows (null when none were given)
     * @param choiceOrigin the step's choice of each of its choices
     * @param rowOrigin    the step's logits row of each of its rows
     */
    public record Part(int replica, StepBatch batch, RowChoices choices, int[] choiceOrigin, int[] rowOrigin) {

        /** Copies this part's answers into the step's table (answers prepared there). */
        public void answer(RowChoices step) {
            for (int k = 0; k < choices.count(); k++) {
                step.copyAnswer(choiceOrigin[k], choices, k);
            }
        }

        /** Copies this part's logits rows [rows, vocab] into the step's. */
        public void placeRows(float[] partLogits, float[] stepLogits, int vocab) {
            for (int r = 0; r < rowOrigin.length; r++) {
                System.arraycopy(partLogits, r * vocab, stepLogits, rowOrigin[r] * vocab, vocab);
            }
        }
    }

    /**
     * The parts of a step, replicas with no sequence left out; a sequence whose slot and pages
     * are not all one replica's is refused.
     */
    public static List<Part> of(StepBatch batch, RowChoices choices, int replicas, int slotsPer, int pagesPer) {
        int n = batch.sequences();
        int[] groupOf = new int[n];
        for (int i = 0; i < n; i++) {
            groupOf[i] = check(batch.slots()[i], replicas * slotsPer, "slot") / slotsPer;
            for (int p : batch.blockTables()[i]) {
                if (check(p, replicas * pagesPer, "page") / pagesPer != groupOf[i]) {
                    throw new IllegalArgumentException("sequence " + i + " of the step: slot " + batch.slots()[i]
                            + " and page " + p + " belong to different replicas");
                }
            }
        }
        List<Part> parts = new ArrayList<>();
        for (int g = 0; g < replicas; g++) {
            Part p = part(batch, choices, groupOf, g, slotsPer, pagesPer);
            if (p != null) {
                parts.add(p);
            }
        }
        return parts;
    }

    private static int check(int id, int capacity, String what) {
        if (id < 0 || id >= capacity) {
            throw new IllegalArgumentException(what + " " + id + " outside the replicas' " + capacity);
        }
        return id;
    }

    private static Part part(StepBatch batch, RowChoices choices, int[] groupOf, int g, int slotsPer, int pagesPer) {
        List<Integer> seqs = new ArrayList<>();
        for (int i = 0; i < groupOf.length; i++) {
            if (groupOf[i] == g) {
                seqs.add(i);
            }
        }
        if (seqs.isEmpty()) {
            return null;
        }
        int m = seqs.size();
        int[] cu = new int[m + 1];
        int[] slots = new int[m];
        int[] context = new int[m];
        int[][] tables = new int[m][];
        int[] localToken = new int[batch.totalTokens()];
        Arrays.fill(localToken, -1);
        int at = 0;
        for (int k = 0; k < m; k++) {
            int i = seqs.get(k);
            cu[k] = at;
            slots[k] = batch.slots()[i] % slotsPer;
            context[k] = batch.contextLengths()[i];
            tables[k] = Arrays.stream(batch.blockTables()[i]).map(p -> p % pagesPer).toArray();
            for (int tk = batch.cuSeqlens()[i]; tk < batch.cuSeqlens()[i + 1]; tk++) {
                localToken[tk] = at++;
            }
        }
        cu[m] = at;
        int[] tokens = new int[at];
        for (int tk = 0; tk < localToken.length; tk++) {
            if (localToken[tk] >= 0) {
                tokens[localToken[tk]] = batch.tokens()[tk];
            }
        }
        int[] rowIndex = new int[batch.logitRows().length];
        List<Integer> rows = new ArrayList<>();
        List<Integer> rowOrigin = new ArrayList<>();
        for (int r = 0; r < rowIndex.length; r++) {
            int local = localToken[batch.logitRows()[r]];
            rowIndex[r] = local >= 0 ? rows.size() : -1;
            if (local >= 0) {
                rows.add(local);
                rowOrigin.add(r);
            }
        }
        RowChoices sub = null;
        int[] origin = null;
        if (choices != null) {
            sub = new RowChoices(choices.sampleVocab());
            origin = new int[choices.count()];
            for (int c = 0; c < choices.count(); c++) {
                int local = rowIndex[choices.row(c)];
                if (local >= 0) {
                    origin[sub.addLike(choices, c, local)] = c;
                }
            }
            origin = Arrays.copyOf(origin, sub.count());
        }
        StepBatch part = new StepBatch(tokens, cu, slots, context, tables,
                rows.stream().mapToInt(Integer::intValue).toArray());
        return new Part(g, part, sub, origin, rowOrigin.stream().mapToInt(Integer::intValue).toArray());
    }
}
