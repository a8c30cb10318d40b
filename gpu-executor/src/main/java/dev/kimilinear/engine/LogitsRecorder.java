package dev.kimilinear.engine;

import dev.kimilinear.cpu.CpuOps;

/**
 * Runs one token sequence through a backend the way the parity fixtures were recorded: the
 * logits of every prompt position, then greedy decoding where row 0 comes from the prompt's
 * last position and each later row from one single-token decode step.
 */
public final class LogitsRecorder {
    private LogitsRecorder() {
    }

    /**
     * @param prefillLogits [rows, V]: the prompt positions {@link #prefillRows} lists
     * @param decodeLogits  [N, V]
     * @param generatedIds  [N] greedy tokens
     * @param prefillRows   prompt positions of the prefill rows, ascending (every position, or a stride's)
     */
    public record Recording(int vocab, float[] prefillLogits, float[] decodeLogits, int[] generatedIds,
                            int[] prefillRows) {
    }

    /** Every prompt position's logits. */
    public static Recording record(Backend backend, int[] inputIds, int decodeSteps, int prefillChunk) {
        return record(backend, inputIds, decodeSteps, prefillChunk, 1);
    }

    /** Positions 0, stride, 2 stride, ... and always the last: long prompts' logits without [T, V] of them. */
    public static int[] strideRows(int length, int stride) {
        if (stride < 1) {
            throw new IllegalArgumentException("row stride must be at least 1, got " + stride);
        }
        int n = (length - 1) / stride + 1;
        boolean last = (length - 1) % stride != 0;
        int[] rows = new int[n + (last ? 1 : 0)];
        for (int i = 0; i < n; i++) {
            rows[i] = i * stride;
        }
        if (last) {
            rows[n] = length - 1;
        }
        return rows;
    }

    /**
     * @param prefillChunk tokens per prefill step (the whole prompt when it fits the backend)
     * @param rowStride    the prefill logits of positions 0, stride, 2 stride, ... and the last
     */
    public static Recording record(Backend backend, int[] inputIds, int decodeSteps, int prefillChunk,
                                   int rowStride) {
        if (inputIds.length == 0) {
            throw new IllegalArgumentException("input ids are empty: at least one token is needed");
        }
        int vocab = backend.config().vocabSize();
        int total = inputIds.length + Math.max(0, decodeSteps - 1);
        int pages = (total + backend.pageSize() - 1) / backend.pageSize();
        backend.reserve(1, Math.max(1, pages));
        backend.resetSlot(0);
        int[] table = new int[Math.max(1, pages)];
        for (int i = 0; i < table.length; i++) {
            table[i] = i;
        }
        int chunk = Math.max(1, Math.min(prefillChunk, Math.min(backend.maxBatchTokens(), backend.maxLogitRows())));
        int[] kept = strideRows(inputIds.length, rowStride);
        float[] prefill = new float[Math.multiplyExact(kept.length, vocab)];
        int next = 0;
        for (int start = 0; start < inputIds.length; start += chunk) {
            int n = Math.min(chunk, inputIds.length - start);
            int[] tokens = java.util.Arrays.copyOfRange(inputIds, start, start + n);
            int first = next;
            while (next < kept.length && kept[next] < start + n) {
                next++;
            }
            int[] rows = new int[next - first];
            for (int i = 0; i < rows.length; i++) {
                rows[i] = kept[first + i] - start;
            }
            float[] logits = new float[rows.length * vocab];
            backend.logits(new StepBatch(tokens, new int[]{0, n}, new int[]{0}, new int[]{start},
                    new int[][]{table}, rows), logits);
            System.arraycopy(logits, 0, prefill, first * vocab, rows.length * vocab);
        }
        float[] decode = new float[Math.max(0, decodeSteps) * vocab];
        int[] generated = new int[Math.max(0, decodeSteps)];
        if (decodeSteps > 0) {
            System.arraycopy(prefill, (kept.length - 1) * vocab, decode, 0, vocab);
            generated[0] = CpuOps.argmax(decode, 0, vocab);
            float[] step = new float[vocab];
            int[] token = new int[1];
            int[] cu = {0, 1};
            int[] slot = {0};
            int[] ctx = new int[1];
            int[][] tables = {table};
            int[] rows = {0};
            for (int i = 1; i < decodeSteps; i++) {
                token[0] = generated[i - 1];
                ctx[0] = inputIds.length + i - 1;
                backend.logits(new StepBatch(token, cu, slot, ctx, tables, rows), step);
                System.arraycopy(step, 0, decode, i * vocab, vocab);
                generated[i] = CpuOps.argmax(step, 0, vocab);
            }
        }
        return new Recording(vocab, prefill, decode, generated, kept);
    }
}
