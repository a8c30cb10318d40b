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
     * @param replica   which replica computes it
     * @param batch     its sequences, in the replica's ids
     * @param rowOrigin the step's logits row of each of its rows
     * @param split     the step's choices split among the parts (null when none were given)
     * @param index     this part's place in the split
     */
    public record Part(int replica, StepBatch batch, int[] rowOrigin, RowChoices.Split split, int index) {

        /** The choices reading its rows, or null when the step gave none. */
        public RowChoices choices() {
            return split == null ? null : split.tables()[index];
        }

        /** Copies this part's answers into the step's table (answers prepared there). */
        public void answer(RowChoices step) {
            split.answer(index, step);
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
        int rows = batch.logitRows().length;
        int[] partOf = new int[rows];
        int[] localRow = new int[rows];
        List<StepBatch> batches = new ArrayList<>();
        List<int[]> origins = new ArrayList<>();
        List<Integer> owners = new ArrayList<>();
        for (int g = 0; g < replicas; g++) {
            List<Integer> origin = new ArrayList<>();
            StepBatch b = part(batch, groupOf, g, slotsPer, pagesPer, batches.size(), partOf, localRow, origin);
            if (b != null) {
                batches.add(b);
                origins.add(origin.stream().mapToInt(Integer::intValue).toArray());
                owners.add(g);
            }
        }
        RowChoices.Split split = choices == null ? null : choices.split(partOf, localRow, batches.size());
        List<Part> parts = new ArrayList<>();
        for (int i = 0; i < batches.size(); i++) {
            parts.add(new Part(owners.get(i), batches.get(i), origins.get(i), split, i));
        }
        return parts;
    }

    private static int check(int id, int capacity, String what) {
        if (id < 0 || id >= capacity) {
            throw new IllegalArgumentException(what + " " + id + " outside the replicas' " + capacity);
        }
        return id;
    }

    /**
     * Replica g's sequences in its own ids, with the logits rows that fall in them: step row r
     * becomes its row localRow[r] (partOf[r] = index), and origin lists the step rows it took.
     * Null when it has no sequence.
     */
    private static StepBatch part(StepBatch batch, int[] groupOf, int g, int slotsPer, int pagesPer, int index,
                                  int[] partOf, int[] localRow, List<Integer> origin) {
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
        List<Integer> rows = new ArrayList<>();
        for (int r = 0; r < batch.logitRows().length; r++) {
            int local = localToken[batch.logitRows()[r]];
            if (local >= 0) {
                partOf[r] = index;
                localRow[r] = rows.size();
                rows.add(local);
                origin.add(r);
            }
        }
        return new StepBatch(tokens, cu, slots, context, tables, rows.stream().mapToInt(Integer::intValue).toArray());
    }
}
