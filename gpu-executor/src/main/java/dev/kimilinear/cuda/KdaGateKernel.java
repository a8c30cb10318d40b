package dev.kimilinear.cuda;

import jcuda.driver.CUdeviceptr;

/** Inputs of the delta rule from the projections (kda_gate.cu). */
public final class KdaGateKernel {
    private KdaGateKernel() {
    }

    /**
     * q, k L2-normalised (q scaled by 1/sqrt(D)), v copied, g = -exp(A_log) softplus(a + dt_bias),
     * beta = sigmoid(b). qkv [T, ldqkv] (q | k | v, H*D each), a [T, lda], b [T, ldb] (H columns);
     * outputs [T, H, D] and beta [T, H]: g and beta fp32, q, k and v fp32, or bf16 when
     * {@code bf16Qkv} (what {@link KdaChunkKernel.Form#TENSOR_CORE} takes).
     */
    public static void prepare(CudaContext ctx, CUdeviceptr qkv, long ldqkv, CUdeviceptr a, long lda, CUdeviceptr b,
                               long ldb, CUdeviceptr dtBias, CUdeviceptr aLog, CUdeviceptr q, CUdeviceptr k,
                               CUdeviceptr v, CUdeviceptr g, CUdeviceptr beta, int tokens, int heads, int dim,
                               boolean bf16Qkv) {
        prepare(ctx, qkv, ldqkv, a, lda, b, ldb, dtBias, aLog, q, k, v, g, beta, tokens, heads, dim, dim, bf16Qkv);
    }

    /**
     * As above with the outputs' heads {@code pitch} >= dim channels apart ([T, H, pitch]), the
     * channels past dim zero in q, k, v and g: a head of dim channels in the layout of the built
     * head size {@code pitch} ({@link KdaRecurrentKernel#headPitch}).
     */
    public static void prepare(CudaContext ctx, CUdeviceptr qkv, long ldqkv, CUdeviceptr a, long lda, CUdeviceptr b,
                               long ldb, CUdeviceptr dtBias, CUdeviceptr aLog, CUdeviceptr q, CUdeviceptr k,
                               CUdeviceptr v, CUdeviceptr g, CUdeviceptr beta, int tokens, int heads, int dim, int pitch,
                               boolean bf16Qkv) {
        String shapes = "T=" + tokens + " H=" + heads + " D=" + dim;
        int grid = Launch.ceilDiv((long) tokens * heads, 8);
        if (pitch == dim) {
            Launch.run(ctx, bf16Qkv ? "kda_prepare_bf16" : "kda_prepare", shapes, grid, 1, 1, 256, 0,
                    qkv, ldqkv, a, lda, b, ldb, dtBias, aLog, q, k, v, g, beta, tokens, heads, dim);
            return;
        }
        if (pitch < dim) {
            throw new CudaException("kda_prepare [" + shapes + "]: head pitch " + pitch + " below the head size");
        }
        Launch.run(ctx, bf16Qkv ? "kda_prepare_padded_bf16" : "kda_prepare_padded", shapes + " pitch=" + pitch, grid, 1,
                1, 256, 0, qkv, ldqkv, a, lda, b, ldb, dtBias, aLog, q, k, v, g, beta, tokens, heads, dim, pitch);
    }

    /** g [T, H*D] from a [T, H*D]. */
    public static void gate(CudaContext ctx, CUdeviceptr a, CUdeviceptr dtBias, CUdeviceptr aLog, CUdeviceptr g,
                            int tokens, int heads, int dim) {
        Launch.run(ctx, "kda_gate", "T=" + tokens + " H=" + heads + " D=" + dim,
                Launch.ceilDiv((long) tokens * heads * dim, 256), 1, 1, 256, 0, a, dtBias, aLog, g, tokens, heads, dim);
    }
}
