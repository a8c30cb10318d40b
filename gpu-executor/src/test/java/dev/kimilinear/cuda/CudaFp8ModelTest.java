package dev.kimilinear.cuda;

import dev.kimilinear.engine.LogitsRecorder;
import dev.kimilinear.model.ParityFixture;
import dev.kimilinear.model.WeightPrecision;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.kimilinear.model.Fp8CheckpointConverter;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fixture model with e4m3 weights against the fp32 reference and against the same model in
 * bf16, prefilled whole (rows past the decode-sized product: the widened weights) and in chunks
 * of 37 (the e4m3 products themselves, dense and per expert), then decoded greedily.
 */
@Tag("gpu")
class CudaFp8ModelTest {

    @Test
    void fp8WeightsStayWithinTheirQuantisationError() {
        ParityFixture f = ParityFixture.load();
        CudaContext ctx = GpuTest.context();
        try (CudaModel bf16 = CudaModel.load(ParityFixture.DIR, ctx.device().index(), 16, 256, 16,
                ActivationPrecision.BF16, WeightPrecision.BF16);
             CudaModel fp8 = CudaModel.load(ParityFixture.DIR, ctx.device().index(), 16, 256, 16,
                     ActivationPrecision.BF16, WeightPrecision.FP8)) {
            for (int chunk : new int[] {256, 37}) {
                LogitsRecorder.Recording ref = LogitsRecorder.record(bf16, f.inputIds(), 4, chunk);
                LogitsRecorder.Recording rec = LogitsRecorder.record(fp8, f.inputIds(), 4, chunk);
                double toFp32 = GpuTest.relError(rec.prefillLogits(), f.prefill(), "fp8 prefill vs fp32");
                double toBf16 = GpuTest.relError(rec.prefillLogits(), ref.prefillLogits(), "fp8 prefill vs bf16");
                double decode = GpuTest.relError(rec.decodeLogits(), ref.decodeLogits(), "fp8 decode vs bf16");
                double bf16Err = GpuTest.relError(ref.prefillLogits(), f.prefill(), "bf16 prefill vs fp32");
                System.out.printf("cuda fp8 weights (prefill chunk %d): prefill rel err %.2e against fp32 (bf16 weights:"
                        + " %.2e), %.2e against bf16 weights; decode %.2e against bf16 weights%n", chunk, toFp32, bf16Err,
                        toBf16, decode);
                assertTrue(toFp32 < 2.5e-1, "fp8 prefill logits against fp32: " + toFp32 + " (chunk " + chunk + ")");
                assertTrue(toBf16 < 2.5e-1, "fp8 prefill logits against bf16: " + toBf16 + " (chunk " + chunk + ")");
                assertTrue(decode < 2.5e-1, "fp8 decode logits against bf16: " + decode + " (chunk " + chunk + ")");
            }
        }
    }

    /**
     * An FP8 checkpoint (model quantize) is uploaded as it is stored; quantising the bf16
     * checkpoint on the device gives the same codes and scales, so the two models agree exactly.
     */
    @Test
    void anFp8CheckpointRunsAsTheModelQuantisedOnTheDevice(@TempDir Path dir) {
        ParityFixture f = ParityFixture.load();
        CudaContext ctx = GpuTest.context();
        Path fp8Dir = dir.resolve("fp8");
        Fp8CheckpointConverter.convert(ParityFixture.DIR, fp8Dir, 1L << 30);
        try (CudaModel onDevice = CudaModel.load(ParityFixture.DIR, ctx.device().index(), 16, 256, 16,
                ActivationPrecision.BF16, WeightPrecision.FP8);
             CudaModel stored = CudaModel.load(fp8Dir, ctx.device().index(), 16, 256, 16,
                     ActivationPrecision.BF16, WeightPrecision.FP8)) {
            LogitsRecorder.Recording a = LogitsRecorder.record(onDevice, f.inputIds(), 4, 37);
            LogitsRecorder.Recording b = LogitsRecorder.record(stored, f.inputIds(), 4, 37);
            assertArrayEquals(a.prefillLogits(), b.prefillLogits(), "prefill logits");
            assertArrayEquals(a.generatedIds(), b.generatedIds(), "greedy tokens");
        }
    }
}
