package dev.kimilinear.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kimilinear.checkpoint.Checkpoint;
import dev.kimilinear.checkpoint.CheckpointException;
import dev.kimilinear.checkpoint.DType;
import dev.kimilinear.checkpoint.Fp8Quantizer;
import dev.kimilinear.checkpoint.SafetensorsWriter;
import dev.kimilinear.checkpoint.Tensor;
import dev.kimilinear.checkpoint.TensorData;
import dev.kimilinear.cpu.CpuBackend;
import dev.kimilinear.engine.LogitsRecorder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code model quantize}'s converter, the binder reading its output, and the CPU forward on it. */
class Fp8CheckpointTest {
    /**
     * Bound on each linear weight's relative (Frobenius) error after e4m3 with per-row scales:
     * 3 mantissa bits round a value by at most 2^-4 of itself; measured 2.4e-2 to 2.6e-2 on the
     * fixture model's and the random model's weights.
     */
    static final double WEIGHT_RELATIVE_ERROR_BOUND = 3e-2;
    /**
     * Bounds on the relative (L2) error of the CPU backend's prefill logits from the FP8
     * checkpoint against the bf16 one, over every prompt position. Measured: 1.17e-1 on the
     * random small model (40 tokens), 4.29e-1 on the fixture model (100 tokens). Random-weight
     * models amplify a 2.5% weight error through every layer, and their near-even router scores
     * pick other experts for some tokens (a dense-only random model measures 4e-2 at the first
     * position, 1.1e-1 at the last), so these bounds hold the conversion and the reading to what
     * e4m3 gives, not what a trained model would show; a wrong scale or row gives errors of 1 and more.
     */
    static final double RANDOM_MODEL_LOGITS_BOUND = 0.15;
    static final double FIXTURE_MODEL_LOGITS_BOUND = 0.5;

    @TempDir
    Path dir;

    private Path randomModel() {
        Path bf16 = dir.resolve("bf16");
        RandomCheckpoint.write(KimiLinearConfigTest.small(), 5, bf16);
        return bf16;
    }

    private static byte[] bytes(Tensor t) {
        ByteBuffer b = t.buffer();
        byte[] out = new byte[b.remaining()];
        b.get(out);
        return out;
    }

    @Test
    void linearWeightsBecomeTheQuantizersCodesAndScalesAndTheRestIsCopied() throws IOException {
        Path bf16 = randomModel();
        Files.writeString(bf16.resolve("tokenizer_config.json"), "{}");
        Path fp8 = dir.resolve("fp8");
        Fp8CheckpointConverter.Result result = Fp8CheckpointConverter.convert(bf16, fp8, 5_000_000_000L);
        assertTrue(result.files().containsAll(List.of("model.safetensors", "generation_config.json",
                "tokenizer_config.json", "config.json")), result.files().toString());
        assertEquals(WeightPrecision.FP8, WeightPrecision.stored(fp8));
        assertEquals(WeightPrecision.BF16, WeightPrecision.stored(bf16));
        KimiLinearConfig config = KimiLinearConfig.load(fp8.resolve("config.json"));
        assertEquals(KimiLinearConfigTest.small(), config);
        assertEquals(Fp8QuantizationConfig.written(), Fp8QuantizationConfig.load(fp8.resolve("config.json")));
        try (Checkpoint before = Checkpoint.open(bf16); Checkpoint after = Checkpoint.open(fp8)) {
            ModelWeights original = ModelWeights.bind(config, before);
            ModelWeights quantized = ModelWeights.bind(config, after);
            List<Tensor> originalLinear = original.linearWeights();
            List<Tensor> quantizedLinear = quantized.linearWeights();
            assertEquals(originalLinear.size(), result.quantized());
            assertEquals(originalLinear.size(), quantizedLinear.size());
            for (int i = 0; i < originalLinear.size(); i++) {
                Tensor o = originalLinear.get(i);
                Tensor q = quantizedLinear.get(i);
                assertEquals(o.name(), q.name());
                assertEquals(DType.F8_E4M3, q.dtype());
                assertArrayEquals(o.shape(), q.shape());
                Fp8Quantizer.Quantized expected = Fp8Quantizer.quantize(o.toFloats(), (int) o.dim(0), (int) o.dim(1));
                assertArrayEquals(expected.codes(), bytes(q), q.name() + " codes");
                assertNotNull(q.scale(), q.name() + " carries its scale");
                assertEquals(DType.F32, q.scale().dtype());
                assertArrayEquals(new long[] {o.dim(0), 1}, q.scale().shape());
                assertArrayEquals(expected.scales(), q.scale().toFloats(), q.name() + " scales");
                float[] dequantised = q.toFloats();
                float[] values = o.toFloats();
                double diff = 0;
                double norm = 0;
                for (int k = 0; k < values.length; k++) {
                    diff += (dequantised[k] - values[k]) * (double) (dequantised[k] - values[k]);
                    norm += values[k] * (double) values[k];
                }
                assertTrue(Math.sqrt(diff / norm) < WEIGHT_RELATIVE_ERROR_BOUND, q.name() + " relative error "
                        + Math.sqrt(diff / norm));
                for (int r = 0; r < expected.rows(); r += 7) {
                    for (int c = 0; c < expected.cols(); c += 5) {
                        assertEquals(expected.value(r, c), dequantised[r * expected.cols() + c]);
                    }
                }
            }
            for (Tensor kept : List.of(quantized.embedTokens(), quantized.lmHead(), quantized.finalNorm(),
                    quantized.layers().get(1).moe().router(), quantized.layers().get(0).kda().qConv(),
                    quantized.layers().get(0).kda().aLog(), quantized.layers().get(0).kda().dtBias())) {
                Tensor o = before.tensor(kept.name());
                assertEquals(o.dtype(), kept.dtype(), kept.name());
                assertNull(kept.scale());
                assertArrayEquals(bytes(o), bytes(kept), kept.name() + " copied as it is");
            }
        }
        CheckpointException twice = assertThrows(CheckpointException.class,
                () -> Fp8CheckpointConverter.convert(bf16, fp8, 5_000_000_000L));
        assertTrue(twice.getMessage().contains("already holds"), twice.getMessage());
        ConfigException quantizedInput = assertThrows(ConfigException.class,
                () -> Fp8CheckpointConverter.convert(fp8, dir.resolve("again"), 5_000_000_000L));
        assertTrue(quantizedInput.getMessage().contains("quantization_config"), quantizedInput.getMessage());
    }

    @Test
    void cpuLogitsFromTheFp8CheckpointStayNearTheBf16Ones() {
        Path bf16 = randomModel();
        Path fp8 = dir.resolve("fp8");
        Fp8CheckpointConverter.convert(bf16, fp8, 5_000_000_000L);
        Random random = new Random(9);
        int[] prompt = new int[40];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = 3 + random.nextInt(KimiLinearConfigTest.small().vocabSize() - 3);
        }
        double error = relativeError(fp8, bf16, prompt);
        System.out.printf("FP8 vs BF16 prefill logits, random small model: relative L2 error %.3e%n", error);
        assertTrue(error > 0 && error < RANDOM_MODEL_LOGITS_BOUND, "relative error " + error);
    }

    @Test
    void fixtureModelLogitsFromItsFp8CheckpointStayNearTheBf16Ones() {
        ParityFixture fixture = ParityFixture.load();
        Path fp8 = dir.resolve("fixture-fp8");
        Fp8CheckpointConverter.convert(ParityFixture.DIR, fp8, 5_000_000_000L);
        assertTrue(Files.exists(fp8.resolve("generation_config.json")));
        double error = relativeError(fp8, ParityFixture.DIR, fixture.inputIds());
        System.out.printf("FP8 vs BF16 prefill logits, fixture model: relative L2 error %.3e%n", error);
        assertTrue(error > 0 && error < FIXTURE_MODEL_LOGITS_BOUND, "relative error " + error);
    }

    /** ||fp8 - bf16|| / ||bf16|| over every prompt position's logits. */
    private static double relativeError(Path fp8, Path bf16, int[] prompt) {
        float[] reference;
        try (CpuBackend b = CpuBackend.load(bf16)) {
            reference = LogitsRecorder.record(b, prompt, 0, 4096).prefillLogits();
        }
        float[] quantized;
        try (CpuBackend b = CpuBackend.load(fp8)) {
            quantized = LogitsRecorder.record(b, prompt, 0, 4096).prefillLogits();
        }
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < reference.length; i++) {
            assertTrue(Float.isFinite(quantized[i]));
            diff += (quantized[i] - reference[i]) * (double) (quantized[i] - reference[i]);
            norm += reference[i] * (double) reference[i];
        }
        return Math.sqrt(diff / norm);
    }

    @Test
    void aMissingScaleIsAnErrorNamingTheWeight() {
        Path fp8 = dir.resolve("fp8");
        Fp8CheckpointConverter.convert(randomModel(), fp8, 5_000_000_000L);
        String weight = "model.layers.0.self_attn.q_proj.weight";
        Path broken = rewrite(fp8, dir.resolve("no-scale"), name -> !name.equals(weight + "_scale"), Set.of());
        CheckpointException e = assertThrows(CheckpointException.class, () -> bind(broken));
        assertTrue(e.getMessage().contains("tensor " + weight + " is F8_E4M3 but its scale " + weight
                + "_scale is missing"), e.getMessage());
    }

    @Test
    void anFp8RouterIsRejected() {
        Path fp8 = dir.resolve("fp8");
        Fp8CheckpointConverter.convert(randomModel(), fp8, 5_000_000_000L);
        String router = "model.layers.1.block_sparse_moe.gate.weight";
        Path broken = rewrite(fp8, dir.resolve("fp8-router"), name -> true, Set.of(router));
        CheckpointException e = assertThrows(CheckpointException.class, () -> bind(broken));
        assertTrue(e.getMessage().contains(router + " has dtype F8_E4M3")
                && e.getMessage().contains("only the linear layers' weights are read as FP8"), e.getMessage());
    }

    private static void bind(Path modelDir) {
        KimiLinearConfig config = KimiLinearConfig.load(modelDir.resolve("config.json"));
        try (Checkpoint c = Checkpoint.open(modelDir)) {
            assertFalse(ModelWeights.bind(config, c).layers().isEmpty());
        }
    }

    /** A copy of a checkpoint keeping the tensors {@code keep} accepts, those in {@code toFp8} made e4m3. */
    private static Path rewrite(Path from, Path to, Predicate<String> keep, Set<String> toFp8) {
        Map<String, TensorData> tensors = new LinkedHashMap<>();
        try (Checkpoint c = Checkpoint.open(from)) {
            for (String name : c.names()) {
                if (!keep.test(name)) {
                    continue;
                }
                Tensor t = c.tensor(name);
                long[] shape = t.shape();
                TensorData data;
                if (toFp8.contains(name)) {
                    data = new TensorData(DType.F8_E4M3, shape, t.toFloats(), null, null, null);
                } else {
                    data = switch (t.dtype()) {
                        case BF16 -> TensorData.bf16Bits(t.toRawShorts(), shape);
                        case F8_E4M3 -> TensorData.f8e4m3Codes(bytes(t), shape);
                        default -> TensorData.f32(t.toFloats(), shape);
                    };
                }
                tensors.put(name, data);
            }
        }
        try {
            Files.createDirectories(to);
            Files.copy(from.resolve("config.json"), to.resolve("config.json"));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        SafetensorsWriter.write(to.resolve("model.safetensors"), tensors);
        return to;
    }
}
