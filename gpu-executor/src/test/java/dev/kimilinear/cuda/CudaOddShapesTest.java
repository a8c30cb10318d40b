package dev.kimilinear.cuda;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kimilinear.checkpoint.Checkpoint;
import dev.kimilinear.cpu.CpuBackend;
import dev.kimilinear.engine.Backend;
import dev.kimilinear.engine.StepBatch;
import dev.kimilinear.model.Fp8CheckpointConverter;
import dev.kimilinear.model.KimiLinearConfig;
import dev.kimilinear.model.ModelWeights;
import dev.kimilinear.model.RandomCheckpoint;
import dev.kimilinear.model.WeightPrecision;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random models whose widths are off every multiple of 8 (hidden sizes, KDA and MLA head sizes,
 * ranks, expert widths and counts, vocabularies) on the GPU against the CPU reference on the same
 * weights, with the bounds of the fixture's model tests: bf16 weights in the fp32-faithful split
 * precision (2e-3) and in bf16 activations (1e-1, first row 1.5e-2), fp8 weights against the CPU
 * on the FP8 checkpoint's e4m3 values (5e-2). Every backend runs the same steps: a whole prompt
 * beside another's first chunk; a decode token, that prompt's second chunk and a fresh prompt;
 * then decode steps of the three sequences (teacher-forced, so the steps do not depend on either
 * backend's choices).
 */
@Tag("gpu")
class CudaOddShapesTest {
    private static final int PAGE = 16;
    private static final int MAX_TOKENS = 256;
    private static final int MAX_SEQS = 8;
    private static final int DECODE_STEPS = 6;
    private static final int PREFILL_STEPS = 2;

    /** A model shape; layers and mlps are the config's layer_types and mlp_layer_types. */
    record Shape(String name, int hidden, int vocab, int intermediate, int kdaHeads, int kdaDim, int conv,
                 int mlaHeads, int qLoraRank, int kvLoraRank, int nope, int rope, int value, int experts, int topK,
                 int groups, int topkGroup, int expertWidth, int sharedExperts, String router, List<String> layers,
                 List<String> mlps, long seed) {

        KimiLinearConfig config() throws Exception {
            String json = """
                    {"model_type": "kimi_linear", "hidden_size": %d, "vocab_size": %d, "intermediate_size": %d,
                     "num_hidden_layers": %d, "linear_num_heads": %d, "linear_head_dim": %d,
                     "linear_conv_kernel_dim": %d, "num_attention_heads": %d, "num_key_value_heads": %d,
                     "q_lora_rank": %s, "kv_lora_rank": %d, "qk_nope_head_dim": %d, "qk_rope_head_dim": %d,
                     "v_head_dim": %d, "num_experts": %d, "num_experts_per_token": %d, "num_expert_group": %d,
                     "topk_group": %d, "moe_intermediate_size": %d, "num_shared_experts": %d,
                     "moe_router_activation_func": "%s", "routed_scaling_factor": 2.446, "moe_renormalize": true,
                     "layer_types": %s, "mlp_layer_types": %s, "rms_norm_eps": 1e-5, "model_max_length": 4096,
                     "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0}
                    """.formatted(hidden, vocab, intermediate, layers.size(), kdaHeads, kdaDim, conv, mlaHeads,
                    mlaHeads, qLoraRank == 0 ? "null" : Integer.toString(qLoraRank), kvLoraRank, nope, rope, value,
                    experts, topK, groups, topkGroup, expertWidth, sharedExperts, router, quoted(layers),
                    quoted(mlps));
            return KimiLinearConfig.parse(new ObjectMapper().readTree(json), name);
        }

        @Override
        public String toString() {
            return name;
        }

        private static String quoted(List<String> xs) {
            return xs.stream().map(x -> "\"" + x + "\"").toList().toString();
        }
    }

    static List<Shape> shapes() {
        return List.of(
                // the shapes: hidden 100, KDA heads of 20 (run at 32), MLA heads 3 x (36 + 12) with values
                // of 20 and a rank of 44, no q LoRA; 5 experts of width 50, top-3, a shared one; vocabulary 1001
                new Shape("hidden 100, heads 20/36/20, rank 44", 100, 1001, 70, 3, 20, 4, 3, 0, 44, 36, 12, 20, 5, 3,
                        1, 1, 50, 1, "sigmoid", List.of("linear_attention", "full_attention", "linear_attention"),
                        List.of("dense", "sparse", "sparse"), 101),
                // odd ranks and rope width (the absorbed attention one value at a time), a q LoRA of 27, KDA heads
                // of 36 (run at 64), grouped softmax routing; expert width 24 (bf16 aligned, e4m3 not)
                new Shape("hidden 72, q rank 27, kv rank 45, rope 7", 72, 777, 40, 2, 36, 3, 4, 27, 45, 20, 7, 13, 6,
                        2, 2, 1, 24, 0, "softmax", List.of("full_attention", "linear_attention"),
                        List.of("sparse", "dense"), 202),
                // an odd hidden size with aligned MLA widths (the split decode where it runs), one KDA head of 100
                // (run at 128), 3 experts of width 8, top-1, two shared
                new Shape("hidden 101, KDA head 100, 3 experts", 101, 1001, 36, 1, 100, 2, 5, 16, 64, 16, 8, 33, 3, 1,
                        1, 1, 8, 2, "sigmoid", List.of("linear_attention", "full_attention"),
                        List.of("sparse", "sparse"), 303));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void bf16WeightsFollowTheCpuReference(Shape shape) throws Exception {
        CudaContext ctx = GpuTest.context();
        KimiLinearConfig cfg = shape.config();
        List<StepBatch> steps = steps(cfg.vocabSize(), shape.seed());
        float[][] ref;
        float[][] split;
        float[][] bf16;
        try (Checkpoint ckpt = RandomCheckpoint.open(cfg, shape.seed())) {
            try (CpuBackend cpu = CpuBackend.of(cfg, ckpt, 0, PAGE, MAX_TOKENS)) {
                ref = run(cpu, steps);
            }
            ModelWeights w = ModelWeights.bind(cfg, ckpt);
            try (CudaModel m = new CudaModel(ctx, w, PAGE, MAX_TOKENS, MAX_SEQS, ActivationPrecision.SPLIT, true,
                    WeightPrecision.BF16)) {
                split = run(m, steps);
            }
            try (CudaModel m = new CudaModel(ctx, w, PAGE, MAX_TOKENS, MAX_SEQS, ActivationPrecision.BF16, true,
                    WeightPrecision.BF16)) {
                bf16 = run(m, steps);
            }
        }
        Errors s = Errors.of(split, ref, cfg.vocabSize());
        Errors b = Errors.of(bf16, ref, cfg.vocabSize());
        System.out.printf("%s: split prefill %.2e decode %.2e; bf16 prefill %.2e (row 0 %.2e) decode %.2e%n", shape,
                s.prefill(), s.decode(), b.prefill(), b.firstRow(), b.decode());
        assertTrue(s.prefill() < 2e-3, shape + ": split prefill logits relative error " + s.prefill());
        assertTrue(s.decode() < 2e-3, shape + ": split decode logits relative error " + s.decode());
        assertTrue(b.firstRow() < 1.5e-2, shape + ": bf16 row 0 relative error " + b.firstRow());
        assertTrue(b.prefill() < 1e-1, shape + ": bf16 prefill logits relative error " + b.prefill());
        assertTrue(b.decode() < 1e-1, shape + ": bf16 decode logits relative error " + b.decode());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void fp8WeightsFollowTheCpuReferenceOfTheSameValues(Shape shape, @TempDir Path dir) throws Exception {
        CudaContext ctx = GpuTest.context();
        KimiLinearConfig cfg = shape.config();
        Path bf16Dir = dir.resolve("bf16");
        Path fp8Dir = dir.resolve("fp8");
        RandomCheckpoint.write(cfg, shape.seed(), bf16Dir);
        Fp8CheckpointConverter.convert(bf16Dir, fp8Dir, 1L << 30);
        List<StepBatch> steps = steps(cfg.vocabSize(), shape.seed());
        float[][] ref;
        try (CpuBackend cpu = CpuBackend.load(fp8Dir, 0, PAGE, MAX_TOKENS)) {
            ref = run(cpu, steps);
        }
        float[][] fp8;
        KimiLinearConfig fp8Cfg = KimiLinearConfig.load(fp8Dir.resolve("config.json"));
        try (Checkpoint ckpt = Checkpoint.open(fp8Dir);
             CudaModel m = new CudaModel(ctx, ModelWeights.bind(fp8Cfg, ckpt), PAGE, MAX_TOKENS, MAX_SEQS,
                     ActivationPrecision.BF16, true, WeightPrecision.FP8)) {
            fp8 = run(m, steps);
        }
        Errors e = Errors.of(fp8, ref, cfg.vocabSize());
        System.out.printf("%s: fp8 weights against the cpu on the same e4m3 values: prefill %.2e decode %.2e%n", shape,
                e.prefill(), e.decode());
        assertTrue(e.prefill() < 5e-2, shape + ": fp8 prefill logits relative error " + e.prefill());
        assertTrue(e.decode() < 5e-2, shape + ": fp8 decode logits relative error " + e.decode());
    }

    /** Relative errors of the prefill steps' rows, their first row alone, and the decode steps' rows. */
    private record Errors(double prefill, double firstRow, double decode) {
        static Errors of(float[][] out, float[][] ref, int vocab) {
            return new Errors(GpuTest.relError(concat(out, 0, PREFILL_STEPS), concat(ref, 0, PREFILL_STEPS), "prefill"),
                    GpuTest.relError(Arrays.copyOf(out[0], vocab), Arrays.copyOf(ref[0], vocab), "row 0"),
                    GpuTest.relError(concat(out, PREFILL_STEPS, out.length), concat(ref, PREFILL_STEPS, ref.length),
                            "decode"));
        }

        private static float[] concat(float[][] x, int from, int to) {
            int n = 0;
            for (int i = from; i < to; i++) {
                n += x[i].length;
            }
            float[] y = new float[n];
            int o = 0;
            for (int i = from; i < to; i++) {
                System.arraycopy(x[i], 0, y, o, x[i].length);
                o += x[i].length;
            }
            return y;
        }
    }

    /**
     * Three sequences in slots 0..2 with interleaved pages: A (45 tokens) whole beside B's first 37;
     * then A's first decode token, B's last 33 and C (9 tokens) fresh; then decode steps of all three.
     * Every new token's logits.
     */
    static List<StepBatch> steps(int vocab, long seed) {
        Random rnd = new Random(seed);
        int[] a = rnd.ints(45, 3, vocab).toArray();
        int[] b = rnd.ints(70, 3, vocab).toArray();
        int[] c = rnd.ints(9, 3, vocab).toArray();
        int[][] tables = new int[3][8];
        for (int s = 0; s < 3; s++) {
            for (int p = 0; p < 8; p++) {
                tables[s][p] = 3 * p + (2 - s);
            }
        }
        List<StepBatch> steps = new ArrayList<>();
        steps.add(step(concat(a, Arrays.copyOf(b, 37)), new int[] {0, 45, 82}, new int[] {0, 1}, new int[] {0, 0},
                new int[][] {tables[0], tables[1]}));
        steps.add(step(concat(new int[] {rnd.nextInt(3, vocab)}, Arrays.copyOfRange(b, 37, 70), c),
                new int[] {0, 1, 34, 43}, new int[] {0, 1, 2}, new int[] {45, 37, 0}, tables));
        for (int i = 0; i < DECODE_STEPS; i++) {
            steps.add(step(rnd.ints(3, 3, vocab).toArray(), new int[] {0, 1, 2, 3}, new int[] {0, 1, 2},
                    new int[] {46 + i, 70 + i, 9 + i}, tables));
        }
        return steps;
    }

    private static StepBatch step(int[] tokens, int[] cu, int[] slots, int[] context, int[][] tables) {
        int[] rows = new int[tokens.length];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = i;
        }
        return new StepBatch(tokens, cu, slots, context, tables, rows);
    }

    private static int[] concat(int[]... parts) {
        return Arrays.stream(parts).flatMapToInt(Arrays::stream).toArray();
    }

    /** The steps' logits [rows, vocab] each, from fresh slots. */
    private static float[][] run(Backend backend, List<StepBatch> steps) {
        backend.reserve(3, 24);
        for (int s = 0; s < 3; s++) {
            backend.resetSlot(s);
        }
        int vocab = backend.config().vocabSize();
        float[][] out = new float[steps.size()][];
        for (int i = 0; i < steps.size(); i++) {
            out[i] = new float[steps.get(i).logitRows().length * vocab];
            backend.logits(steps.get(i), out[i]);
        }
        return out;
    }
}
