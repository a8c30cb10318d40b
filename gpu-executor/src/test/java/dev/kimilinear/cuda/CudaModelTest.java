package dev.kimilinear.cuda;

import dev.kimilinear.engine.LogitsRecorder;
import dev.kimilinear.model.ParityFixture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole model on the GPU against logits recorded with the fp32 reference implementation.
 * The fixture's second greedy step is a near-tie (top-two margin 2.4e-4 of logits whose spread
 * is ~0.9) and some prompt tokens sit near an MoE expert-choice tie, so only the fp32-faithful
 * precision can reproduce the greedy tokens; the bf16 serving mode is held to the error that
 * bf16 rounding at its product inputs gives on this model (6.3e-2, row 0 8.6e-3, measured by
 * rounding the CPU forward at the same points).
 */
@Tag("gpu")
class CudaModelTest {
    static final Path FIXTURE = ParityFixture.DIR;
    static final int VOCAB = 512;

    static int[] inputIds;
    static float[] prefill;
    static float[] decode;
    static int[] generated;

    @BeforeAll
    static void load() {
        ParityFixture f = ParityFixture.load();
        inputIds = f.inputIds();
        prefill = f.prefill();
        decode = f.decode();
        generated = f.generated();
    }

    private static String perRow(float[] logits) {
        StringBuilder rows = new StringBuilder();
        for (int i = 0; i < inputIds.length; i += 9) {
            rows.append(String.format(" %d:%.1e", i, GpuTest.relError(GpuTest.slice(logits, i * VOCAB, VOCAB),
                    GpuTest.slice(prefill, i * VOCAB, VOCAB), "row " + i)));
        }
        return rows.toString();
    }

    @Test
    void splitPrecisionReproducesPrefillAndGreedyDecode() {
        CudaContext ctx = GpuTest.context();
        try (CudaModel model = CudaModel.load(FIXTURE, ctx.device().index(), 16, 256, 16, ActivationPrecision.SPLIT)) {
            // whole prompt in one forward, then in chunks (continuing state and cache)
            for (int chunk : new int[] {256, 37}) {
                LogitsRecorder.Recording rec = LogitsRecorder.record(model, inputIds, generated.length, chunk);
                double pe = GpuTest.relError(rec.prefillLogits(), prefill, "prefill logits");
                double de = GpuTest.relError(rec.decodeLogits(), decode, "decode logits");
                System.out.printf("cuda split (prefill chunk %d): prefill rel err %.2e, decode rel err %.2e; per row%s%n",
                        chunk, pe, de, perRow(rec.prefillLogits()));
                assertTrue(pe < 2e-3, "prefill logits relative error " + pe + " (chunk " + chunk + ")");
                assertTrue(de < 2e-3, "decode logits relative error " + de + " (chunk " + chunk + ")");
                assertArrayEquals(generated, rec.generatedIds(), "greedy tokens (chunk " + chunk + ")");
            }
        }
    }

    @Test
    void bf16PrecisionStaysWithinItsRoundingError() {
        CudaContext ctx = GpuTest.context();
        try (CudaModel model = CudaModel.load(FIXTURE, ctx.device().index(), 16, 256, 16, ActivationPrecision.BF16)) {
            for (int chunk : new int[] {256, 37}) {
                LogitsRecorder.Recording rec = LogitsRecorder.record(model, inputIds, 1, chunk);
                double pe = GpuTest.relError(rec.prefillLogits(), prefill, "prefill logits");
                double row0 = GpuTest.relError(GpuTest.slice(rec.prefillLogits(), 0, VOCAB), GpuTest.slice(prefill, 0, VOCAB),
                        "row 0");
                System.out.printf("cuda bf16 (prefill chunk %d): prefill rel err %.2e; per row%s%n", chunk, pe,
                        perRow(rec.prefillLogits()));
                assertTrue(row0 < 1.5e-2, "row 0 relative error " + row0 + " (chunk " + chunk + ")");
                assertTrue(pe < 1e-1, "prefill logits relative error " + pe + " (chunk " + chunk + ")");
            }
        }
    }
}
