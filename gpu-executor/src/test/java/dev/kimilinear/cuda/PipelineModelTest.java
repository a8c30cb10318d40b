package dev.kimilinear.cuda;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kimilinear.checkpoint.Checkpoint;
import dev.kimilinear.engine.Backend;
import dev.kimilinear.engine.Engine;
import dev.kimilinear.engine.EngineConfig;
import dev.kimilinear.engine.GenerationRequest;
import dev.kimilinear.engine.GenerationResult;
import dev.kimilinear.engine.LogitsRecorder;
import dev.kimilinear.engine.Prompt;
import dev.kimilinear.engine.SamplingParams;
import dev.kimilinear.model.KimiLinearConfig;
import dev.kimilinear.model.ModelWeights;
import dev.kimilinear.model.ParityFixture;
import dev.kimilinear.model.RandomCheckpoint;
import dev.kimilinear.model.WeightPrecision;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model split into pipeline stages on one GPU (its index repeated) computes what the one-GPU
 * model computes, bit for bit: each stage runs the same kernels on the same rows, and the copy
 * between stages moves the fp32 residual stream unchanged. Prompts in one forward and in
 * chunks, greedy decode steps, kernel by kernel (sync checks on) and replayed from decode
 * graphs (off); then the engine, batching several sequences and samples, through both.
 */
@Tag("gpu")
class PipelineModelTest {
    private static final int PAGE = 16;
    private static final int MAX_TOKENS = 256;
    private static final int MAX_SEQS = 16;
    private static final int DECODE_STEPS = 12;

    @ParameterizedTest(name = "{0} stages")
    @ValueSource(ints = {2, 3})
    void fixtureStagesEqualTheOneGpuModel(int stages) {
        CudaContext ctx = GpuTest.context();
        int[] devices = repeated(ctx, stages);
        int[] ids = ParityFixture.load().inputIds();
        for (ActivationPrecision p : ActivationPrecision.values()) {
            bothModes(ctx, () -> {
                try (CudaModel one = CudaModel.load(ParityFixture.DIR, devices[0], PAGE, MAX_TOKENS, MAX_SEQS, p);
                     PipelineModel many = PipelineModel.load(ParityFixture.DIR, devices, PAGE, MAX_TOKENS, MAX_SEQS, p,
                             WeightPrecision.BF16)) {
                    checkStages(many, stages);
                    sameRecordings(one, many, ids, p + ", " + stages + " stages");
                }
            });
        }
    }

    @ParameterizedTest(name = "{0} stages")
    @ValueSource(ints = {2, 3})
    void randomModelStagesEqualTheOneGpuModel(int stages) throws Exception {
        CudaContext ctx = GpuTest.context();
        int[] devices = repeated(ctx, stages);
        KimiLinearConfig cfg = randomConfig();
        int[] ids = new Random(5).ints(90, 3, cfg.vocabSize()).toArray();
        try (Checkpoint ckpt = RandomCheckpoint.open(cfg, 11)) {
            ModelWeights w = ModelWeights.bind(cfg, ckpt);
            for (WeightPrecision wp : new WeightPrecision[] {WeightPrecision.BF16, WeightPrecision.FP8}) {
                bothModes(ctx, () -> {
                    try (CudaModel one = new CudaModel(ctx, w, PAGE, MAX_TOKENS, MAX_SEQS, ActivationPrecision.BF16,
                            true, wp);
                         PipelineModel many = new PipelineModel(w, devices, PAGE, MAX_TOKENS, MAX_SEQS,
                                 ActivationPrecision.BF16, true, wp)) {
                        checkStages(many, stages);
                        sameRecordings(one, many, ids, wp + " weights, " + stages + " stages");
                    }
                });
            }
        }
    }

    @ParameterizedTest(name = "{0} stages")
    @ValueSource(ints = {2, 3})
    void theEngineGeneratesTheSameThroughStages(int stages) {
        CudaContext ctx = GpuTest.context();
        int[] devices = repeated(ctx, stages);
        int[] prompt = ParityFixture.load().inputIds();
        SamplingParams greedy = new SamplingParams(10, 0, 1, 0, 0, List.of(), List.of(), 1, 3);
        SamplingParams drawn = new SamplingParams(10, 0.8, 0.9, 50, 7, List.of(), List.of(), 3, 2);
        List<GenerationRequest> requests = List.of(
                new GenerationRequest("long", new Prompt.Tokens(prompt), greedy),
                new GenerationRequest("short", new Prompt.Tokens(Arrays.copyOf(prompt, 23)), greedy),
                new GenerationRequest("mid", new Prompt.Tokens(Arrays.copyOfRange(prompt, 30, 81)), greedy),
                new GenerationRequest("drawn", new Prompt.Tokens(Arrays.copyOf(prompt, 40)), drawn));
        // 64 MB of slots and pages: whole-model bytes, both backends planned alike
        EngineConfig config = new EngineConfig(MAX_TOKENS, 64, 8, 64L << 20, 256);
        bothModes(ctx, () -> {
            List<GenerationResult> one;
            List<GenerationResult> many;
            try (CudaModel m = CudaModel.load(ParityFixture.DIR, devices[0], PAGE, MAX_TOKENS, MAX_SEQS,
                    ActivationPrecision.BF16); Engine e = new Engine(m, null, config)) {
                one = generate(e, requests);
            }
            try (PipelineModel m = PipelineModel.load(ParityFixture.DIR, devices, PAGE, MAX_TOKENS, MAX_SEQS,
                    ActivationPrecision.BF16, WeightPrecision.BF16); Engine e = new Engine(m, null, config)) {
                many = generate(e, requests);
            }
            assertEquals(6, one.size());
            assertEquals(one.size(), many.size());
            for (int i = 0; i < one.size(); i++) {
                GenerationResult a = one.get(i);
                GenerationResult b = many.get(i);
                String what = a.requestId() + " sample " + a.sample();
                assertEquals(a.error(), b.error(), what);
                assertTrue(a.outputTokens() > 0, what);   // 10, or fewer where the end-of-text token comes
                assertEquals(a.outputTokens(), b.outputTokens(), what);
                assertArrayEquals(a.outputIds(), b.outputIds(), what);
                assertEquals(a.logprobs(), b.logprobs(), what + ": log-probabilities");
            }
        });
    }

    /**
     * Steps cut into micro-batches (parts of at least 16 tokens, cuts inside prompt chunks) run
     * through the stages as a wavefront, the residual stream handed over through the links'
     * two inboxes: the same bits as the one-GPU model running the same parts one after another,
     * greedy and drawn samples with their log-probabilities, through the engine; 2 and 3 parts,
     * kernel by kernel and from decode graphs, every combination reported before the verdict.
     */
    @ParameterizedTest(name = "{0} stages")
    @ValueSource(ints = {2, 3})
    void microBatchesThroughStagesEqualTheSamePartsOnOneGpu(int stages) {
        CudaContext ctx = GpuTest.context();
        int[] devices = repeated(ctx, stages);
        int[] prompt = ParityFixture.load().inputIds();
        SamplingParams greedy = new SamplingParams(8, 0, 1, 0, 0, List.of(), List.of(), 1, 3);
        SamplingParams drawn = new SamplingParams(8, 0.8, 0.9, 50, 7, List.of(), List.of(), 2, 2);
        List<GenerationRequest> requests = List.of(
                new GenerationRequest("long", new Prompt.Tokens(prompt), greedy),
                new GenerationRequest("mid", new Prompt.Tokens(Arrays.copyOfRange(prompt, 30, 111)), drawn),
                new GenerationRequest("short", new Prompt.Tokens(Arrays.copyOf(prompt, 19)), greedy));
        EngineConfig config = new EngineConfig(MAX_TOKENS, 100, 8, 64L << 20, 256);
        List<String> mismatches = new ArrayList<>();
        boolean sync = ctx.syncCheck();
        try {
            for (int parts : new int[] {2, 3}) {
                for (boolean on : new boolean[] {true, false}) {
                    ctx.setSyncCheck(on);
                    int before = mismatches.size();
                    List<GenerationResult> one;
                    List<GenerationResult> many;
                    try (CudaModel m = CudaModel.load(ParityFixture.DIR, devices[0], PAGE, MAX_TOKENS, MAX_SEQS,
                            ActivationPrecision.BF16); Engine e = new Engine(new InParts(m, parts, 16), null, config)) {
                        one = generate(e, requests);
                    }
                    try (PipelineModel m = PipelineModel.load(ParityFixture.DIR, devices, PAGE, MAX_TOKENS, MAX_SEQS,
                            ActivationPrecision.BF16, WeightPrecision.BF16); Engine e = new Engine(m, null, config)) {
                        m.setMicroBatches(parts, 16);
                        many = generate(e, requests);
                    }
                    String how = stages + " stages, " + parts + " parts, sync checks " + (on ? "on" : "off");
                    assertEquals(4, one.size(), how);
                    assertEquals(one.size(), many.size(), how);
                    for (int i = 0; i < one.size(); i++) {
                        GenerationResult a = one.get(i);
                        GenerationResult b = many.get(i);
                        assertTrue(a.outputTokens() > 0, how);
                        if (!Arrays.equals(a.outputIds(), b.outputIds()) || !a.logprobs().equals(b.logprobs())) {
                            mismatches.add(how + ": " + a.requestId() + " sample " + a.sample() + " "
                                    + Arrays.toString(a.outputIds()) + " on one GPU, " + Arrays.toString(b.outputIds())
                                    + " through the stages");
                        }
                    }
                    System.out.println("micro-batches, " + how + ": " + (mismatches.size() == before ? "same" : "differ"));
                }
            }
        } finally {
            ctx.setSyncCheck(sync);
        }
        assertTrue(mismatches.isEmpty(), String.join("\n", mismatches));
    }

    /** A one-GPU model that runs each step as the pipeline's micro-batches, one part after another. */
    private record InParts(CudaModel model, int parts, int minTokens) implements Backend {
        @Override
        public void forward(dev.kimilinear.engine.StepBatch batch, dev.kimilinear.engine.RowChoices choices) {
            MicroBatchPlan plan = MicroBatchPlan.of(batch, choices, parts, minTokens);
            if (plan.size() > 1) {
                choices.prepareAnswers();
            }
            for (int i = 0; i < plan.size(); i++) {
                model.forward(plan.batch(i), plan.choices(i));
                plan.answer(i, choices);
            }
        }

        @Override
        public void logits(dev.kimilinear.engine.StepBatch batch, float[] logits) {
            model.logits(batch, logits);
        }

        @Override
        public KimiLinearConfig config() {
            return model.config();
        }

        @Override
        public String name() {
            return model.name();
        }

        @Override
        public int pageSize() {
            return model.pageSize();
        }

        @Override
        public long bytesPerSlot() {
            return model.bytesPerSlot();
        }

        @Override
        public long bytesPerPage() {
            return model.bytesPerPage();
        }

        @Override
        public long freeBytes() {
            return model.freeBytes();
        }

        @Override
        public int maxBatchTokens() {
            return model.maxBatchTokens();
        }

        @Override
        public int maxLogitRows() {
            return model.maxLogitRows();
        }

        @Override
        public int maxSequences() {
            return model.maxSequences();
        }

        @Override
        public void reserve(int slots, int pages) {
            model.reserve(slots, pages);
        }

        @Override
        public void resetSlot(int slot) {
            model.resetSlot(slot);
        }

        @Override
        public void copySlot(int from, int to) {
            model.copySlot(from, to);
        }

        @Override
        public void copyPage(int from, int to) {
            model.copyPage(from, to);
        }

        @Override
        public void close() {
        }
    }

    /** The plan's ranges, one per device, and state split between them as the layers are. */
    private static void checkStages(PipelineModel many, int stages) {
        assertEquals(stages, many.stages().size());
        long slot = 0;
        long page = 0;
        for (CudaModel s : many.stages()) {
            slot += s.bytesPerSlot();
            page += s.bytesPerPage();
            assertTrue(s.range().layers() >= 1);
        }
        assertEquals(many.bytesPerSlot(), slot);
        assertEquals(many.bytesPerPage(), page);
    }

    /** Whole prompt in one forward and in chunks, then greedy decode steps: the same bits. */
    private static void sameRecordings(Backend one, Backend many, int[] ids, String what) {
        for (int chunk : new int[] {MAX_TOKENS, 37}) {
            LogitsRecorder.Recording a = LogitsRecorder.record(one, ids, DECODE_STEPS, chunk);
            LogitsRecorder.Recording b = LogitsRecorder.record(many, ids, DECODE_STEPS, chunk);
            String where = what + ", prefill chunk " + chunk;
            assertBits(a.prefillLogits(), b.prefillLogits(), "prefill logits, " + where);
            assertBits(a.decodeLogits(), b.decodeLogits(), "decode logits, " + where);
            assertArrayEquals(a.generatedIds(), b.generatedIds(), "greedy tokens, " + where);
        }
    }

    private static void assertBits(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                throw new AssertionError(what + ": value " + i + " is " + actual[i] + " through the stages, "
                        + expected[i] + " on one model");
            }
        }
    }

    /** Runs the body kernel by kernel (sync checks on, as tests run) and with decode graphs (off). */
    private static void bothModes(CudaContext ctx, Runnable body) {
        boolean sync = ctx.syncCheck();
        try {
            for (boolean on : new boolean[] {true, false}) {
                ctx.setSyncCheck(on);
                body.run();
            }
        } finally {
            ctx.setSyncCheck(sync);
        }
    }

    private static int[] repeated(CudaContext ctx, int stages) {
        int[] devices = new int[stages];
        Arrays.fill(devices, ctx.device().index());
        return devices;
    }

    private static List<GenerationResult> generate(Engine e, List<GenerationRequest> requests) {
        List<GenerationResult> out = new ArrayList<>();
        e.generate(requests).forEachRemaining(out::add);
        out.sort(Comparator.comparing(GenerationResult::requestId).thenComparingInt(GenerationResult::sample));
        return out;
    }

    /** Five layers, KDA and MLA both split across stages, a dense first layer, MoE after it. */
    private static KimiLinearConfig randomConfig() throws Exception {
        String json = """
                {"model_type": "kimi_linear", "hidden_size": 96, "vocab_size": 640, "intermediate_size": 128,
                 "num_hidden_layers": 5, "linear_num_heads": 2, "linear_head_dim": 32, "linear_conv_kernel_dim": 4,
                 "num_attention_heads": 2, "num_key_value_heads": 2, "q_lora_rank": null, "kv_lora_rank": 32,
                 "qk_nope_head_dim": 16, "qk_rope_head_dim": 8, "v_head_dim": 16, "num_experts": 4,
                 "num_experts_per_token": 2, "num_expert_group": 1, "topk_group": 1, "moe_intermediate_size": 32,
                 "num_shared_experts": 1, "moe_router_activation_func": "sigmoid", "routed_scaling_factor": 2.446,
                 "moe_renormalize": true, "layer_types": ["linear_attention", "full_attention", "linear_attention",
                 "full_attention", "linear_attention"], "mlp_layer_types": ["dense", "sparse", "sparse", "sparse",
                 "sparse"], "rms_norm_eps": 1e-5, "model_max_length": 4096, "bos_token_id": 1, "eos_token_id": 2,
                 "pad_token_id": 0}
                """;
        return KimiLinearConfig.parse(new ObjectMapper().readTree(json), "pipeline test model");
    }
}
