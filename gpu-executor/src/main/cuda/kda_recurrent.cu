// KDA recurrence, one token at a time: S <- diag(exp g) S; u = beta (v - S^T k);
// S <- S + k u^T; o = S^T q. The value columns of S evolve independently, so a block
// owns 32 columns of one (sequence, head): 8 warps x D/8 key rows per thread, the state
// slice in registers, read and written once per call. The column slices are the fastest grid
// index, so the blocks in flight read whole rows of one state together (sequence fastest read
// 128-byte pieces of many states: 82% -> 91% of copy at N=256 on the H100), and L2 is asked for
// 256-byte runs. Decode is one token per sequence; longer sequences loop (the reference form,
// also used for short prompts).
#include "common.cuh"

__device__ __forceinline__ float kda_state_load(const float* p) {
    float v;
    asm volatile("ld.global.L2::256B.f32 %0, [%1];" : "=f"(v) : "l"(p));
    return v;
}

template <int D>
__device__ __forceinline__ void kda_recurrent_body(const float* __restrict__ q, const float* __restrict__ k,
                                                   const float* __restrict__ v, const float* __restrict__ g,
                                                   const float* __restrict__ beta, const int* __restrict__ cuSeqlens,
                                                   const int* __restrict__ slots, float* __restrict__ state,
                                                   float* __restrict__ out, int heads) {
    constexpr int R = D / 8;
    __shared__ float sk[D], sq[D], sg[D];
    __shared__ float red[8][33];
    const int seq = blockIdx.z, h = blockIdx.y, lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int col = blockIdx.x * 32 + lane;
    float* S = state + (((long)slots[seq] * heads + h) * D) * D;
    float s[R];
#pragma unroll
    for (int r = 0; r < R; r++) s[r] = kda_state_load(S + (long)(warp + 8 * r) * D + col);
    const int t0 = cuSeqlens[seq], t1 = cuSeqlens[seq + 1];
    for (int t = t0; t < t1; t++) {
        const long row = ((long)t * heads + h) * D;
        __syncthreads();
        for (int i = threadIdx.x; i < D; i += blockDim.x) {
            sk[i] = k[row + i]; sq[i] = q[row + i]; sg[i] = __expf(g[row + i]);
        }
        __syncthreads();
        float part = 0.f;
#pragma unroll
        for (int r = 0; r < R; r++) {
            int i = warp + 8 * r;
            s[r] *= sg[i];
            part = fmaf(s[r], sk[i], part);
        }
        red[warp][lane] = part;
        __syncthreads();
        float kv = 0.f;
#pragma unroll
        for (int w = 0; w < 8; w++) kv += red[w][lane];
        float u = beta[(long)t * heads + h] * (v[row + col] - kv);
        float po = 0.f;
#pragma unroll
        for (int r = 0; r < R; r++) {
            int i = warp + 8 * r;
            s[r] = fmaf(sk[i], u, s[r]);
            po = fmaf(s[r], sq[i], po);
        }
        __syncthreads();
        red[warp][lane] = po;
        __syncthreads();
        if (warp == 0) {
            float o = 0.f;
#pragma unroll
            for (int w = 0; w < 8; w++) o += red[w][lane];
            out[row + col] = o;
        }
    }
#pragma unroll
    for (int r = 0; r < R; r++) S[(long)(warp + 8 * r) * D + col] = s[r];
}

#define KDA_RECURRENT_ENTRY(D)                                                                            \
    extern "C" __global__ void __launch_bounds__(256) kda_recurrent_d##D(                                 \
        const float* q, const float* k, const float* v, const float* g, const float* beta,                \
        const int* cuSeqlens, const int* slots, float* state, float* out, int heads) {                    \
        kda_recurrent_body<D>(q, k, v, g, beta, cuSeqlens, slots, state, out, heads);                     \
    }
KDA_RECURRENT_ENTRY(32)
KDA_RECURRENT_ENTRY(64)
KDA_RECURRENT_ENTRY(128)
