package dev.kimilinear.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * Causal depthwise conv + SiLU over packed sequences with per-slot state (short_conv.cu):
 * the output pass, then the state pass (ordered after it on the stream); a decode step (one
 * token per sequence, as the engine never sends an empty sequence) in one pass.
 */
public final class ShortConvKernel {
    /** Widest kernel: the state pass holds a channel's K - 1 inputs in registers (short_conv.cu). */
    static final int MAX_KERNEL = 9;
    /** Tokens a thread of short_conv_forward walks (SHORT_CONV_RUN). */
    private static final int RUN = 16;

    private ShortConvKernel() {
    }

    /**
     * @param x         [T, ldx] inputs (the first {@code channels} columns)
     * @param cuSeqlens [N + 1], seqOf [T] the sequence of each token, slots [N]
     * @param weight    fp32 [C, K]; state fp32 [slots, C, K-1], oldest first; out fp32 [T, C]
     */
    /** Diagnostic switch: {@code -Dkimi.cuda.noShortConvDecode=true} runs decode steps through both passes. */
    private static final boolean NO_DECODE_PASS = Boolean.getBoolean("kimi.cuda.noShortConvDecode");

    public static void forward(CudaContext ctx, CUdeviceptr x, long ldx, CUdeviceptr cuSeqlens, CUdeviceptr seqOf,
                               CUdeviceptr slots, CUdeviceptr weight, CUdeviceptr state, CUdeviceptr out, int tokens,
                               int seqs, int channels, int kernel) {
        if (kernel < 1 || kernel > MAX_KERNEL) {
            throw new CudaException("short_conv: kernel width " + kernel + " not in 1.." + MAX_KERNEL);
        }
        String shapes = "T=" + tokens + " N=" + seqs + " C=" + channels + " K=" + kernel;
        if (tokens == seqs && !NO_DECODE_PASS) {
            // a decode step, one token per sequence: output and state in one pass
            Launch.run(ctx, "short_conv_decode", shapes, Launch.ceilDiv(channels, 128), seqs, 1, 128, 0, x, ldx, slots,
                    weight, state, out, channels, kernel);
            return;
        }
        Launch.run(ctx, "short_conv_forward", shapes, Launch.ceilDiv(channels, 128), Launch.ceilDiv(tokens, RUN), 1,
                128, 0, x, ldx, cuSeqlens, seqOf, slots, weight, state, out, tokens, channels, kernel);
        Launch.run(ctx, "short_conv_update_state", shapes, Launch.ceilDiv((long) seqs * channels, 256), 1, 1, 256, 0,
                x, ldx, cuSeqlens, slots, state, seqs, channels, kernel);
    }
}
