package dev.kimilinear.model;

import dev.kimilinear.checkpoint.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Which decoder layers each stage of a pipeline holds: contiguous ranges, in order, at least one
 * layer each, chosen so that the largest stage's weight bytes are as small as they can be (the
 * embedding counts toward the first stage, the head toward the last). Balancing bytes, not layer
 * counts, matters because layers differ: a dense first layer is a fraction of an MoE one.
 *
 * @param stages     the ranges, stage 0 first
 * @param stageBytes weight bytes of each stage, embedding and head included
 */
public record StagePlan(List<LayerRange> stages, List<Long> stageBytes) {

    public StagePlan {
        stages = List.copyOf(stages);
        stageBytes = List.copyOf(stageBytes);
    }

    /** The plan for {@code w}'s tensors at the bytes the checkpoint stores them in. */
    public static StagePlan of(ModelWeights w, int stages) {
        long[] layers = new long[w.layers().size()];
        for (int l = 0; l < layers.length; l++) {
            layers[l] = layerBytes(w.layers().get(l));
        }
        return balance(layers, w.embedTokens().byteSize(), w.finalNorm().byteSize() + w.lmHead().byteSize(), stages);
    }

    /**
     * Splits layers of {@code layerBytes} into {@code count} contiguous stages minimising the
     * largest stage (an exact dynamic programme over the cut points: O(count * layers^2)).
     */
    public static StagePlan balance(long[] layerBytes, long embeddingBytes, long headBytes, int count) {
        int n = layerBytes.length;
        if (count < 1 || count > n) {
            throw new IllegalArgumentException("pipeline of " + count + " stages over " + n
                    + " layers: expected 1 to " + n + " stages (each holds at least one layer)");
        }
        long[] prefix = new long[n + 1];
        for (int l = 0; l < n; l++) {
            if (layerBytes[l] < 0) {
                throw new IllegalArgumentException("layer " + l + " of " + layerBytes[l] + " bytes");
            }
            prefix[l + 1] = prefix[l] + layerBytes[l];
        }
        // best[k][i]: the smallest largest stage over stages 0..k holding layers [0, i); cut[k][i]
        // where stage k then starts
        long[][] best = new long[count][n + 1];
        int[][] cut = new int[count][n + 1];
        for (int k = 0; k < count; k++) {
            java.util.Arrays.fill(best[k], Long.MAX_VALUE);
            long extra = (k == 0 ? embeddingBytes : 0) + (k == count - 1 ? headBytes : 0);
            int last = n - (count - 1 - k);   // later stages each keep a layer
            for (int i = k + 1; i <= last; i++) {
                if (k == 0) {
                    best[0][i] = prefix[i] + extra;
                    continue;
                }
                for (int j = k; j < i; j++) {
                    long load = Math.max(best[k - 1][j], prefix[i] - prefix[j] + extra);
                    if (load < best[k][i]) {
                        best[k][i] = load;
                        cut[k][i] = j;
                    }
                }
            }
        }
        LayerRange[] ranges = new LayerRange[count];
        Long[] bytes = new Long[count];
        int end = n;
        for (int k = count - 1; k >= 0; k--) {
            int start = k == 0 ? 0 : cut[k][end];
            ranges[k] = new LayerRange(start, end, k == 0, k == count - 1);
            bytes[k] = prefix[end] - prefix[start] + (k == 0 ? embeddingBytes : 0) + (k == count - 1 ? headBytes : 0);
            end = start;
        }
        return new StagePlan(List.of(ranges), List.of(bytes));
    }

    public long largestStage() {
        return stageBytes.stream().mapToLong(Long::longValue).max().orElse(0);
    }

    /** Bytes of every tensor of one decoder layer. */
    public static long layerBytes(ModelWeights.Layer l) {
        List<Tensor> ts = new ArrayList<>(List.of(l.inputNorm(), l.postAttentionNorm()));
        if (l.kda() != null) {
            ModelWeights.Kda k = l.kda();
            ts.addAll(List.of(k.qProj(), k.kProj(), k.vProj(), k.qConv(), k.kConv(), k.vConv(), k.fAProj(), k.fBProj(),
                    k.dtBias(), k.aLog(), k.bProj(), k.gAProj(), k.gBProj(), k.oNorm(), k.oProj()));
        } else {
            ModelWeights.Mla m = l.mla();
            ts.addAll(java.util.Arrays.asList(m.qProj(), m.qAProj(), m.qANorm(), m.qBProj(), m.kvAProj(), m.kvANorm(),
                    m.kvBProj(), m.oProj()));
        }
        if (l.dense() != null) {
            addMlp(ts, l.dense());
        } else {
            ts.add(l.moe().router());
            ts.add(l.moe().correctionBias());
            l.moe().experts().forEach(e -> addMlp(ts, e));
            if (l.moe().shared() != null) {
                addMlp(ts, l.moe().shared());
            }
        }
        long bytes = 0;
        for (Tensor t : ts) {
            if (t != null) {   // the MLA query path not taken, a router without bias
                bytes += t.byteSize();
            }
        }
        return bytes;
    }

    private static void addMlp(List<Tensor> ts, ModelWeights.Mlp m) {
        ts.addAll(List.of(m.gate(), m.up(), m.down()));
    }
}
