// KDA's causal depthwise convolution + SiLU over sequences packed back to back, continuing
// from each sequence's state (the previous K-1 inputs per channel, oldest first); the state is
// rewritten by a second launch, after every read.
#include "common.cuh"

#define SHORT_CONV_MAX 9    // widest kernel (ShortConvKernel.MAX_KERNEL)
#define SHORT_CONV_RUN 16   // tokens a thread walks

// One output: the window's K-1 inputs, oldest first, then the token's own, through SiLU (the
// summation order every pass shares, so the one-pass decode equals the two-pass form).
__device__ __forceinline__ float short_conv_out(const float* w, const float* win, float xt, int hist) {
    float acc = 0.f;
#pragma unroll
    for (int j = 0; j < SHORT_CONV_MAX - 1; j++)
        if (j < hist) acc = fmaf(w[j], win[j], acc);
    return silu(fmaf(w[hist], xt, acc));
}

// seqOf [T]: the sequence of each token; x [T, ldx]; weight [C, K]; state [slots, C, K-1].
// A thread per channel and run of SHORT_CONV_RUN tokens keeps the last K-1 inputs in registers,
// so each input is read once (a thread per (token, channel) read it K times and divided 64-bit
// indices); a warp's channels are consecutive, its tokens the same, so loads coalesce and the
// sequence lookups are uniform. Sums in the same order as before: oldest input first.
extern "C" __global__ void short_conv_forward(const float* __restrict__ x, long ldx, const int* __restrict__ cuSeqlens,
                                              const int* __restrict__ seqOf, const int* __restrict__ slots,
                                              const float* __restrict__ weight, const float* __restrict__ state,
                                              float* __restrict__ out, int tokens, int channels, int kernel) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x;
    const int t0 = blockIdx.y * SHORT_CONV_RUN, t1 = min(t0 + SHORT_CONV_RUN, tokens);
    if (c >= channels) return;
    const int hist = kernel - 1;
    float w[SHORT_CONV_MAX], win[SHORT_CONV_MAX - 1];
#pragma unroll
    for (int j = 0; j < SHORT_CONV_MAX; j++) w[j] = j < kernel ? weight[(long)c * kernel + j] : 0.f;
    int seq = -1, start = 0;
    for (int t = t0; t < t1; t++) {
        const int s = seqOf[t];
        if (s != seq) {   // the run's first token, or a new sequence: the window from inputs and state
            seq = s;
            start = cuSeqlens[s];
            const int pos = t - start;
            const float* st = state + ((long)slots[s] * channels + c) * hist;
#pragma unroll
            for (int j = 0; j < SHORT_CONV_MAX - 1; j++) {
                if (j < hist) {
                    const int src = pos - hist + j;
                    win[j] = src >= 0 ? x[(long)(start + src) * ldx + c] : st[hist + src];
                }
            }
        }
        const float xt = x[(long)t * ldx + c];
        out[(long)t * channels + c] = short_conv_out(w, win, xt, hist);
#pragma unroll
        for (int j = 0; j < SHORT_CONV_MAX - 2; j++)
            if (j + 1 < hist) win[j] = win[j + 1];
        if (hist > 0) win[hist - 1] = xt;
    }
}

// After short_conv_forward: the new state is the last K-1 inputs (old state shifted in when
// a sequence brought fewer than K-1 tokens). A thread per (sequence, channel).
extern "C" __global__ void short_conv_update_state(const float* __restrict__ x, long ldx, const int* __restrict__ cuSeqlens,
                                                   const int* __restrict__ slots, float* __restrict__ state,
                                                   int seqs, int channels, int kernel) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long)seqs * channels) return;
    int s = (int)(i / channels), c = (int)(i % channels);
    int start = cuSeqlens[s], len = cuSeqlens[s + 1] - start, hist = kernel - 1;
    float* st = state + ((long)slots[s] * channels + c) * hist;
    float tmp[8];
    for (int j = 0; j < hist && j < 8; j++) {
        int src = len - hist + j;
        tmp[j] = src >= 0 ? x[(long)(start + src) * ldx + c] : st[j + len];
    }
    for (int j = 0; j < hist && j < 8; j++) st[j] = tmp[j];
}

// A decode step (one token per sequence): the output and the new state in one pass, a thread
// per (channel, sequence) reading its state once; the same sums as the two kernels above.
extern "C" __global__ void short_conv_decode(const float* __restrict__ x, long ldx, const int* __restrict__ slots,
                                             const float* __restrict__ weight, float* __restrict__ state,
                                             float* __restrict__ out, int channels, int kernel) {
    const int c = blockIdx.x * blockDim.x + threadIdx.x, s = blockIdx.y;
    if (c >= channels) return;
    const int hist = kernel - 1;
    float* st = state + ((long)slots[s] * channels + c) * hist;
    float win[SHORT_CONV_MAX - 1];
#pragma unroll
    for (int j = 0; j < SHORT_CONV_MAX - 1; j++) win[j] = j < hist ? st[j] : 0.f;
    const float xt = x[(long)s * ldx + c];
    out[(long)s * channels + c] = short_conv_out(weight + (long)c * kernel, win, xt, hist);
#pragma unroll
    for (int j = 0; j + 1 < SHORT_CONV_MAX - 1; j++)
        if (j + 1 < hist) st[j] = win[j + 1];
    if (hist > 0) st[hist - 1] = xt;
}
