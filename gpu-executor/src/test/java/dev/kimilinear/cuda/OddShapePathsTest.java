package dev.kimilinear.cuda;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kimilinear.model.KimiLinearConfig;
import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which kernels a shape takes, decided on the host: the 16-byte paths only where their alignment
 * holds (every Kimi Linear shape), the element-wise forms otherwise; KDA heads at the built sizes;
 * the few fixed limits named before anything is uploaded. No device needed.
 */
class OddShapePathsTest {

    @Test
    void deviceAddressesAddUpTheirOffsets() {
        CUdeviceptr base = new CUdeviceptr();
        CUdeviceptr p = base.withByteOffset(6).withByteOffset(10);
        assertEquals(16, DeviceAddress.of(p) - DeviceAddress.of(base));
        assertTrue(DeviceAddress.aligned(base.withByteOffset(32), 16));
        assertFalse(DeviceAddress.aligned(base.withByteOffset(8), 16));
        assertTrue(DeviceAddress.aligned(base.withByteOffset(8), 8));
    }

    @Test
    void kimiLinearProductsKeepTheFastKernels() {
        // hidden 2304, KDA 32 x 128 (fg pitch 256, the gate half at 128 elements), MLA nope 128, rank 512,
        // query pitch 192 per head, W_uv at 128 * 512 elements into kv_b_proj, experts 1024 wide
        assertTrue(GemmKernel.aligned(0, 2304, 0, 0, 2304, 0, 2304));
        assertTrue(GemmKernel.aligned(2 * 128, 256, 0, 0, 128, 0, 128));
        assertTrue(GemmKernel.aligned(0, 32 * 192, 192, 0, 128, 512L * 128, 128));
        assertTrue(GemmKernel.aligned(0, 32 * 512, 512, 2L * 128 * 512, 512, 256L * 512, 512));
        assertTrue(GemmKernel.aligned(0, 1024, 0, 0, 1024, 2048L * 1024, 1024));
    }

    @Test
    void anyMisalignmentTakesTheElementWiseProduct() {
        assertFalse(GemmKernel.aligned(0, 100, 0, 0, 100, 0, 100), "hidden 100");
        assertFalse(GemmKernel.aligned(0, 104, 0, 0, 104, 0, 100), "K 100 in padded rows");
        assertFalse(GemmKernel.aligned(0, 3 * 48, 48, 0, 36, 44L * 36, 36), "nope 36");
        assertFalse(GemmKernel.aligned(0, 4 * 27, 27, 0, 16, 64L * 16, 16), "query stride 27 (rope 11)");
        assertFalse(GemmKernel.aligned(0, 64, 0, 0, 64, 64L * 64 + 4, 64), "weight stride");
        assertFalse(GemmKernel.aligned(2 * 20, 40, 0, 0, 20, 0, 24), "activation at 20 elements (a KDA gate half)");
        assertFalse(GemmKernel.aligned(0, 64, 0, 2 * 4, 64, 0, 64), "weight at 4 elements");
        CUdeviceptr base = new CUdeviceptr();
        assertTrue(GemmKernel.aligned(base.withByteOffset(64), 8, 0, base, 8, 0, 8));
        assertFalse(GemmKernel.aligned(base.withByteOffset(40), 8, 0, base, 8, 0, 8));
    }

    @Test
    void dispatchCopiesWholeRowsOnlyWhereEveryPlaneIsAligned() {
        CUdeviceptr base = new CUdeviceptr();
        CUdeviceptr lo = base.withByteOffset(1 << 20);
        assertTrue(MoeKernel.wholeRows(base, null, 2304, base, null, 2304));
        assertTrue(MoeKernel.wholeRows(base, lo, 2304, base, lo, 2304));
        assertFalse(MoeKernel.wholeRows(base, null, 100, base, null, 100), "hidden 100");
        assertFalse(MoeKernel.wholeRows(base, null, 104, base, null, 100), "width 100 in rows of 104");
        assertFalse(MoeKernel.wholeRows(base, lo.withByteOffset(2), 64, base, lo, 64), "remainder plane off 16 bytes");
    }

    @Test
    void kdaHeadsRunAtTheSmallestBuiltSizeHoldingThem() {
        int[][] cases = {{1, 32}, {20, 32}, {32, 32}, {33, 64}, {36, 64}, {64, 64}, {100, 128}, {128, 128}};
        for (int[] c : cases) {
            assertEquals(c[1], KdaRecurrentKernel.headPitch(c[0]), "head dim " + c[0]);
        }
        CudaException e = assertThrows(CudaException.class, () -> KdaRecurrentKernel.headPitch(129));
        assertTrue(e.getMessage().contains("129"), e.getMessage());
    }

    @Test
    void recurrentStateIsHeldAtTheBuiltHeadSize() {
        assertEquals(32L * 128 * 128, CudaModel.recurrentStateFloats(new KimiLinearConfig.KdaConfig(32, 128, 4)),
                "Kimi Linear's heads: the state as before");
        assertEquals(3L * 32 * 32, CudaModel.recurrentStateFloats(new KimiLinearConfig.KdaConfig(3, 20, 4)));
        assertEquals(2L * 64 * 64, CudaModel.recurrentStateFloats(new KimiLinearConfig.KdaConfig(2, 36, 3)));
    }

    @Test
    void oddShapesPassTheLimitsAndTheLimitsAreNamedUpFront() throws Exception {
        CudaModel.checkLimits(config(100, 20, 4, 44, 5, 3));
        CudaModel.checkLimits(config(101, 128, 9, 512, 512, 32));
        assertLimit(config(100, 130, 4, 44, 5, 3), "130");
        assertLimit(config(100, 20, 10, 44, 5, 3), "linear_conv_kernel_dim");
        assertLimit(config(100, 20, 4, 520, 5, 3), "kv_lora_rank");
        assertLimit(config(100, 20, 4, 44, 513, 3), "513 experts");
    }

    private static void assertLimit(KimiLinearConfig cfg, String named) {
        CudaException e = assertThrows(CudaException.class, () -> CudaModel.checkLimits(cfg));
        assertTrue(e.getMessage().contains(named), e.getMessage());
    }

    /** A KDA + MLA model with MoE of the given sizes (the rest small and odd). */
    private static KimiLinearConfig config(int hidden, int kdaDim, int conv, int rank, int experts, int topK)
            throws Exception {
        String json = """
                {"model_type": "kimi_linear", "hidden_size": %d, "intermediate_size": 70, "vocab_size": 1001,
                 "num_hidden_layers": 2, "num_attention_heads": 3, "num_key_value_heads": 3,
                 "kv_lora_rank": %d, "qk_nope_head_dim": 36, "qk_rope_head_dim": 12, "v_head_dim": 20,
                 "linear_num_heads": 3, "linear_head_dim": %d, "linear_conv_kernel_dim": %d,
                 "num_experts": %d, "num_experts_per_token": %d, "moe_intermediate_size": 50,
                 "num_shared_experts": 1, "routed_scaling_factor": 1.0, "moe_renormalize": true,
                 "layer_types": ["linear_attention", "full_attention"], "mlp_layer_types": ["dense", "sparse"],
                 "rms_norm_eps": 1e-5, "model_max_length": 4096, "bos_token_id": 1, "eos_token_id": 2,
                 "pad_token_id": 0}
                """.formatted(hidden, rank, kdaDim, conv, experts, topK);
        return KimiLinearConfig.parse(new ObjectMapper().readTree(json), "test config");
    }
}
