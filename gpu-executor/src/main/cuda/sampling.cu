// Token choice on the GPU from a block of logits rows: greedy argmax, and top-p (nucleus)
// sampling with temperature. Top-p finds the probability threshold of the nucleus by
// bisection (no sort of the vocabulary), then walks the kept tokens in index order to the
// drawn point, so the draw is deterministic for a given uniform number.
#include "common.cuh"

#define SAMPLE_THREADS 1024

__device__ __forceinline__ void argmax_merge(float& v, int& i, float ov, int oi) {
    if (oi >= 0 && (i < 0 || ov > v || (ov == v && oi < i))) { v = ov; i = oi; }
}

// logits [rows, ldl]; out [rows]; the lowest index wins ties; NaN never wins.
extern "C" __global__ void __launch_bounds__(SAMPLE_THREADS) argmax_rows(const float* __restrict__ logits, long ldl,
                                                                         int vocab, int* __restrict__ out) {
    __shared__ float sv[32];
    __shared__ int si[32];
    const float* row = logits + (long)blockIdx.x * ldl;
    float best = 0.f; int arg = -1;
    int tail = 0;
    if ((reinterpret_cast<uintptr_t>(row) & 15) == 0) {
        // 16-byte loads, four per thread in flight: one row (a decode step of one sequence) is
        // read by one block, so its latency is the step's (41 -> ~10 us at 163840 on the H100)
        const int n4 = vocab >> 2;
        const float4* r4 = reinterpret_cast<const float4*>(row);
        for (int i = threadIdx.x; i < n4; i += 4 * blockDim.x) {
            float4 v[4];
#pragma unroll
            for (int u = 0; u < 4; u++) {
                const int j = i + u * blockDim.x;
                v[u] = j < n4 ? r4[j] : make_float4(NAN, NAN, NAN, NAN);
            }
#pragma unroll
            for (int u = 0; u < 4; u++) {
                const int j = (i + u * blockDim.x) * 4;
                if (!isnan(v[u].x)) argmax_merge(best, arg, v[u].x, j);
                if (!isnan(v[u].y)) argmax_merge(best, arg, v[u].y, j + 1);
                if (!isnan(v[u].z)) argmax_merge(best, arg, v[u].z, j + 2);
                if (!isnan(v[u].w)) argmax_merge(best, arg, v[u].w, j + 3);
            }
        }
        tail = n4 * 4;
    }
    for (int i = tail + threadIdx.x; i < vocab; i += blockDim.x) {
        float v = row[i];
        if (!isnan(v)) argmax_merge(best, arg, v, i);
    }
    for (int o = 16; o > 0; o >>= 1)
        argmax_merge(best, arg, __shfl_xor_sync(0xffffffffu, best, o), __shfl_xor_sync(0xffffffffu, arg, o));
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) { sv[warp] = best; si[warp] = arg; }
    __syncthreads();
    if (warp == 0) {
        int nw = blockDim.x >> 5;
        best = lane < nw ? sv[lane] : 0.f;
        arg = lane < nw ? si[lane] : -1;
        for (int o = 16; o > 0; o >>= 1)
            argmax_merge(best, arg, __shfl_xor_sync(0xffffffffu, best, o), __shfl_xor_sync(0xffffffffu, arg, o));
        if (lane == 0) out[blockIdx.x] = arg;
    }
}

__device__ float block_max(float v, float* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    float t = lane < warps ? scratch[lane] : -INFINITY;
    return warp_max(t);
}

// One block per row: p_i = exp((l_i - max) / temperature); keep the smallest set of the most
// likely tokens whose mass reaches topP; draw with uniforms[row] in [0, 1).
extern "C" __global__ void __launch_bounds__(SAMPLE_THREADS) sample_top_p(
        const float* __restrict__ logits, long ldl, int vocab, float temperature, float topP,
        const float* __restrict__ uniforms, int* __restrict__ out) {
    __shared__ float scratch[32];
    __shared__ float prefix[SAMPLE_THREADS];
    const float* row = logits + (long)blockIdx.x * ldl;
    float mx = -INFINITY;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) mx = fmaxf(mx, row[i]);
    mx = block_max(mx, scratch);
    const float invT = 1.f / temperature;
    float z = 0.f;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) z += __expf((row[i] - mx) * invT);
    z = block_sum(z, scratch);
    // the largest threshold whose kept mass still reaches topP * z (p of the best token is 1)
    float lo = 0.f, hi = 1.f;
    for (int it = 0; it < 32; it++) {
        float mid = 0.5f * (lo + hi), kept = 0.f;
        for (int i = threadIdx.x; i < vocab; i += blockDim.x) {
            float p = __expf((row[i] - mx) * invT);
            if (p >= mid) kept += p;
        }
        kept = block_sum(kept, scratch);
        if (kept >= topP * z) lo = mid; else hi = mid;
    }
    const float tau = lo;
    // contiguous ranges per thread, so a prefix over threads orders tokens by index
    const int per = (vocab + blockDim.x - 1) / blockDim.x;
    const int b = threadIdx.x * per, e = min(vocab, b + per);
    float mine = 0.f;
    for (int i = b; i < e; i++) { float p = __expf((row[i] - mx) * invT); if (p >= tau) mine += p; }
    prefix[threadIdx.x] = mine;
    __syncthreads();
    __shared__ float total;
    __shared__ int chosen;
    if (threadIdx.x == 0) {
        float acc = 0.f;
        for (int i = 0; i < blockDim.x; i++) { float v = prefix[i]; prefix[i] = acc; acc += v; }
        total = acc;
        chosen = -1;
    }
    __syncthreads();
    const float target = uniforms[blockIdx.x] * total;
    if (target >= prefix[threadIdx.x] && target < prefix[threadIdx.x] + mine) {
        float acc = prefix[threadIdx.x];
        int last = -1;
        for (int i = b; i < e; i++) {
            float p = __expf((row[i] - mx) * invT);
            if (p >= tau) { last = i; acc += p; if (target < acc) break; }
        }
        chosen = last;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        int c = chosen;
        if (c < 0) {   // rounding put the draw past the end: take the last kept token
            for (int i = vocab - 1; i >= 0; i--) if (__expf((row[i] - mx) * invT) >= tau) { c = i; break; }
        }
        out[blockIdx.x] = c;
    }
}
