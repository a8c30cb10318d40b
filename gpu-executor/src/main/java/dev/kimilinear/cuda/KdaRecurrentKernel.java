package dev.kimilinear.cuda;

import jcuda.driver.CUdeviceptr;

/** KDA recurrence token by token (kda_recurrent.cu): decode, and short prompts. */
public final class KdaRecurrentKernel {
    private KdaRecurrentKernel() {
    }

    /** q, k, v, g [T, H, D], beta [T, H], cuSeqlens [N + 1], slots [N], state [slots, H, D, D], out [T, H, D]. */
    public static void run(CudaContext ctx, CUdeviceptr q, CUdeviceptr k, CUdeviceptr v, CUdeviceptr g, CUdeviceptr beta,
                           CUdeviceptr cuSeqlens, CUdeviceptr slots, CUdeviceptr state, CUdeviceptr out, int seqs,
                           int heads, int dim) {
        checkDim(dim, "kda_recurrent");
        Launch.run(ctx, "kda_recurrent_d" + dim, "N=" + seqs + " H=" + heads + " D=" + dim, dim / 32, heads, seqs, 256, 0,
                q, k, v, g, beta, cuSeqlens, slots, state, out, heads);
    }

    /** The head sizes the recurrence and chunk kernels are built for. */
    static final int[] BUILT_DIMS = {32, 64, 128};

    /**
     * The built head size a head of {@code dim} channels runs at: the smallest one that holds it,
     * the channels past dim kept zero ({@link KdaGateKernel#prepare} with a pitch).
     */
    public static int headPitch(int dim) {
        for (int built : BUILT_DIMS) {
            if (dim <= built) {
                return built;
            }
        }
        throw new CudaException("KDA head dim " + dim + " is larger than the kernels' largest ("
                + BUILT_DIMS[BUILT_DIMS.length - 1] + ")");
    }

    static void checkDim(int dim, String kernel) {
        if (dim != 32 && dim != 64 && dim != 128) {
            throw new CudaException(kernel + ": head dim " + dim + " is not built (32, 64 or 128)");
        }
    }
}
