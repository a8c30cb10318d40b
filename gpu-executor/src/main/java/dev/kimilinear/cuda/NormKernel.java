package dev.kimilinear.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * RMSNorm rows (fp32 in, bf16 or fp32 out) and KDA's sigmoid-gated head norm (norm.cu). The
 * bf16 outputs optionally write a second plane with each value's bf16 remainder, so that
 * hi + lo carries the fp32 result into split products (see {@link ActivationPrecision}).
 */
public final class NormKernel {
    private static final CUdeviceptr NONE = new CUdeviceptr();

    private NormKernel() {
    }

    /** out[r] = x[r] / sqrt(mean(x[r]^2) + eps) * w; w fp32 [dim]. */
    public static void rmsNorm(CudaContext ctx, CUdeviceptr x, long ldx, CUdeviceptr w, float eps, CUdeviceptr out,
                               long ldo, int rows, int dim, boolean bf16Out) {
        if (bf16Out) {
            rmsNormSplit(ctx, x, ldx, w, eps, out, null, ldo, rows, dim);
        } else {
            Launch.run(ctx, "rms_norm_f32out", "rows=" + rows + " dim=" + dim, rows, 1, 1, 256, 0,
                    x, ldx, w, eps, out, ldo, rows, dim);
        }
    }

    /** As {@link #rmsNorm} with bf16 out; outLo (or null) receives the remainders. */
    public static void rmsNormSplit(CudaContext ctx, CUdeviceptr x, long ldx, CUdeviceptr w, float eps, CUdeviceptr out,
                                    CUdeviceptr outLo, long ldo, int rows, int dim) {
        Launch.run(ctx, "rms_norm_bf16out", "rows=" + rows + " dim=" + dim, rows, 1, 1, 256, 0,
                x, ldx, w, eps, out, orNone(outLo), ldo, rows, dim);
    }

    /**
     * Per (token, head): out = RMSNorm_D(o) * w * sigmoid(z); o [T, H*D] fp32, z [T, ldz] fp32,
     * w fp32 [D], out [T, H*D] bf16.
     */
    public static void gatedRmsNorm(CudaContext ctx, CUdeviceptr o, CUdeviceptr z, long ldz, CUdeviceptr w, float eps,
                                    CUdeviceptr out, int tokens, int heads, int dim) {
        gatedRmsNorm(ctx, o, z, ldz, w, eps, out, null, tokens, heads, dim);
    }

    /** As above; outLo (or null) receives the remainders. */
    public static void gatedRmsNorm(CudaContext ctx, CUdeviceptr o, CUdeviceptr z, long ldz, CUdeviceptr w, float eps,
                                    CUdeviceptr out, CUdeviceptr outLo, int tokens, int heads, int dim) {
        gatedRmsNorm(ctx, o, z, ldz, w, eps, out, outLo, tokens, heads, dim, dim);
    }

    /** As above over o [T, H*pitch], heads of pitch >= dim channels of which the first dim are read. */
    public static void gatedRmsNorm(CudaContext ctx, CUdeviceptr o, CUdeviceptr z, long ldz, CUdeviceptr w, float eps,
                                    CUdeviceptr out, CUdeviceptr outLo, int tokens, int heads, int dim, int pitch) {
        String shapes = "T=" + tokens + " H=" + heads + " D=" + dim;
        int grid = Launch.ceilDiv((long) tokens * heads, 8);
        if (pitch == dim) {
            Launch.run(ctx, "gated_rms_norm_bf16out", shapes, grid, 1, 1, 256, 0, o, z, ldz, w, eps, out, orNone(outLo),
                    tokens, heads, dim);
        } else {
            Launch.run(ctx, "gated_rms_norm_padded_bf16out", shapes + " pitch=" + pitch, grid, 1, 1, 256, 0, o, z, ldz,
                    w, eps, out, orNone(outLo), tokens, heads, dim, pitch);
        }
    }

    /** rmsNorm of the listed rows only: out[i] = norm(x[rowIdx[i]]), bf16; outLo (or null) the remainders. */
    public static void rmsNormRows(CudaContext ctx, CUdeviceptr x, long ldx, CUdeviceptr rowIdx, int rows, CUdeviceptr w,
                                   float eps, CUdeviceptr out, CUdeviceptr outLo, long ldo, int dim) {
        Launch.run(ctx, "rms_norm_rows_bf16out", "rows=" + rows + " dim=" + dim, rows, 1, 1, 256, 0,
                x, ldx, rowIdx, w, eps, out, orNone(outLo), ldo, dim);
    }

    static CUdeviceptr orNone(CUdeviceptr p) {
        return p == null ? NONE : p;
    }
}
