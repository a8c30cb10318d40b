// Mixture of experts: the router (sigmoid or softmax scores, correction bias for the
// choice only, grouped top-k, renormalise, scale), the dispatch that permutes token rows
// per expert (so each expert's rows are one contiguous block for a grouped matrix
// product), and the weighted combine back into the residual stream.
#include "common.cuh"

#define MOE_MAX_EXPERTS 512
#define MOE_WARPS 4

// logits [T, E]; ids, weights [T, k]. A warp per token, its scores in shared memory.
extern "C" __global__ void __launch_bounds__(32 * MOE_WARPS) moe_route(
        const float* __restrict__ logits, const float* __restrict__ bias, int tokens, int E, int k,
        int groups, int topkGroup, int renormalize, float scaling, int softmax,
        int* __restrict__ ids, float* __restrict__ weights) {
    __shared__ float sScore[MOE_WARPS][MOE_MAX_EXPERTS], sChoice[MOE_WARPS][MOE_MAX_EXPERTS];
    __shared__ float sGroup[MOE_WARPS][64];
    __shared__ int sKept[MOE_WARPS][64];
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int t = blockIdx.x * MOE_WARPS + warp;
    if (t >= tokens) return;
    float* score = sScore[warp]; float* choice = sChoice[warp];
    const float* lg = logits + (long)t * E;
    if (softmax) {
        float mx = -INFINITY;
        for (int i = lane; i < E; i += 32) mx = fmaxf(mx, lg[i]);
        mx = warp_max(mx);
        float sum = 0.f;
        for (int i = lane; i < E; i += 32) { float e = expf(lg[i] - mx); score[i] = e; sum += e; }
        sum = warp_sum(sum);
        for (int i = lane; i < E; i += 32) score[i] /= sum;
    } else {
        for (int i = lane; i < E; i += 32) score[i] = 1.f / (1.f + expf(-lg[i]));
    }
    for (int i = lane; i < E; i += 32) choice[i] = score[i] + bias[i];
    __syncwarp();
    if (groups > 1 && groups > topkGroup) {
        const int per = E / groups;
        for (int gi = lane; gi < groups; gi += 32) {
            float best = -INFINITY, second = -INFINITY;
            for (int i = gi * per; i < (gi + 1) * per; i++) {
                float c = choice[i];
                if (c > best) { second = best; best = c; } else if (c > second) second = c;
            }
            sGroup[warp][gi] = per >= 2 ? best + second : best;
            sKept[warp][gi] = 0;
        }
        __syncwarp();
        if (lane == 0) {
            for (int n = 0; n < topkGroup; n++) {
                int arg = -1;
                for (int gi = 0; gi < groups; gi++)
                    if (!sKept[warp][gi] && (arg < 0 || sGroup[warp][gi] > sGroup[warp][arg])) arg = gi;
                sKept[warp][arg] = 1;
            }
        }
        __syncwarp();
        for (int i = lane; i < E; i += 32) if (!sKept[warp][i / per]) choice[i] = -INFINITY;
        __syncwarp();
    }
    float sum = 0.f;
    for (int n = 0; n < k; n++) {
        float best = 0.f; int arg = -1;
        for (int i = lane; i < E; i += 32) {
            float c = choice[i];
            if (!isnan(c) && (arg < 0 || c > best)) { best = c; arg = i; }
        }
        for (int o = 16; o > 0; o >>= 1) {
            float ob = __shfl_xor_sync(0xffffffffu, best, o);
            int oa = __shfl_xor_sync(0xffffffffu, arg, o);
            if (oa >= 0 && (arg < 0 || ob > best || (ob == best && oa < arg))) { best = ob; arg = oa; }
        }
        // a token whose every choice is NaN (non-finite activations) still names an expert that
        // exists, with no weight: an index of -1 would count and copy rows outside the plan
        float w = 0.f;
        if (arg < 0) {
            arg = n;
        } else {
            w = score[arg];
        }
        sum += w;
        if (lane == 0) { ids[t * k + n] = arg; weights[t * k + n] = w; choice[arg] = NAN; }
        __syncwarp();
    }
    float norm = (k > 1 && renormalize) ? 1.f / (sum + 1e-20f) : 1.f;
    if (lane < k) weights[t * k + lane] *= norm * scaling;
}

// counts [E] must be zero before; counts the rows of each expert.
extern "C" __global__ void moe_histogram(const int* __restrict__ ids, int n, int* __restrict__ counts) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) atomicAdd(&counts[ids[i]], 1);
}

// One block: offsets [E + 1] (exclusive scan of counts), the tile list of the grouped
// product ((expert, first row) per tileRows rows, experts in order) and its length, cursors
// zeroed. A thread per expert, experts in chunks of the block with a running carry: both scans
// (rows and tiles) by warp shuffles, then across warps (one thread walking 256 experts serially
// took about 30 us a layer, a decode step's MoE layers each paying it).
extern "C" __global__ void __launch_bounds__(1024) moe_plan(const int* __restrict__ counts, int E, int tileRows,
                                                           int* __restrict__ offsets, int* __restrict__ tiles,
                                                           int* __restrict__ numTiles, int* __restrict__ cursors) {
    __shared__ int warpRows[32], warpTiles[32], carry[2];
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    if (threadIdx.x == 0) carry[0] = carry[1] = 0;
    __syncthreads();
    for (int base = 0; base < E; base += blockDim.x) {
        const int e = base + threadIdx.x;
        const int c = e < E ? counts[e] : 0, nt = (c + tileRows - 1) / tileRows;
        int r = c, q = nt;   // inclusive scans within the warp
#pragma unroll
        for (int o = 1; o < 32; o <<= 1) {
            const int pr = __shfl_up_sync(0xffffffffu, r, o), pq = __shfl_up_sync(0xffffffffu, q, o);
            if (lane >= o) { r += pr; q += pq; }
        }
        if (lane == 31) { warpRows[w] = r; warpTiles[w] = q; }
        __syncthreads();
        if (w == 0) {   // inclusive scan of the warps' totals
            int a = lane < nw ? warpRows[lane] : 0, b = lane < nw ? warpTiles[lane] : 0;
#pragma unroll
            for (int o = 1; o < 32; o <<= 1) {
                const int pa = __shfl_up_sync(0xffffffffu, a, o), pb = __shfl_up_sync(0xffffffffu, b, o);
                if (lane >= o) { a += pa; b += pb; }
            }
            if (lane < nw) { warpRows[lane] = a; warpTiles[lane] = b; }
        }
        __syncthreads();
        const int rowsBefore = carry[0] + (w > 0 ? warpRows[w - 1] : 0) + r - c;
        const int tilesBefore = carry[1] + (w > 0 ? warpTiles[w - 1] : 0) + q - nt;
        if (e < E) {
            offsets[e] = rowsBefore;
            cursors[e] = 0;
            for (int j = 0; j < nt; j++) {
                tiles[2 * (tilesBefore + j)] = e;
                tiles[2 * (tilesBefore + j) + 1] = j * tileRows;
            }
        }
        __syncthreads();   // every thread has read the carry and the warps' totals
        if (threadIdx.x == blockDim.x - 1) { carry[0] = rowsBefore + c; carry[1] = tilesBefore + nt; }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        offsets[E] = carry[0];
        *numTiles = carry[1];
    }
}

// A block per (token, slot): claims a row in its expert's block and copies the token's
// normalised activations there (and their bf16 remainders xLo -> xpermLo when given).
// rowPos [T*k] remembers where, for the combine. V: the unit copied, 16 bytes (uint4: dim, ldx
// multiples of 8 and 16-byte aligned rows) or one element (bf16: any shape).
template <typename V>
__device__ __forceinline__ void moe_dispatch_body(const int* __restrict__ ids, int k, const int* __restrict__ offsets,
                                                  int* __restrict__ cursors, const bf16* __restrict__ x,
                                                  const bf16* __restrict__ xLo, long ldx, bf16* __restrict__ xperm,
                                                  bf16* __restrict__ xpermLo, int* __restrict__ rowPos, int dim) {
    constexpr int per = sizeof(V) / sizeof(bf16);
    __shared__ int pos;
    const int i = blockIdx.x, t = i / k;
    if (threadIdx.x == 0) {
        int e = ids[i];
        pos = offsets[e] + atomicAdd(&cursors[e], 1);
        rowPos[i] = pos;
    }
    __syncthreads();
    const V* src = reinterpret_cast<const V*>(x + (long)t * ldx);
    V* dst = reinterpret_cast<V*>(xperm + (long)pos * dim);
    for (int c = threadIdx.x; c < dim / per; c += blockDim.x) dst[c] = src[c];
    if (xLo != nullptr) {
        const V* srcLo = reinterpret_cast<const V*>(xLo + (long)t * ldx);
        V* dstLo = reinterpret_cast<V*>(xpermLo + (long)pos * dim);
        for (int c = threadIdx.x; c < dim / per; c += blockDim.x) dstLo[c] = srcLo[c];
    }
}

#define MOE_DISPATCH_ENTRY(NAME, V)                                                                            \
    extern "C" __global__ void NAME(const int* __restrict__ ids, int k, const int* __restrict__ offsets,       \
                                    int* __restrict__ cursors, const bf16* __restrict__ x,                       \
                                    const bf16* __restrict__ xLo, long ldx, bf16* __restrict__ xperm,            \
                                    bf16* __restrict__ xpermLo, int* __restrict__ rowPos, int dim) {             \
        moe_dispatch_body<V>(ids, k, offsets, cursors, x, xLo, ldx, xperm, xpermLo, rowPos, dim);               \
    }
MOE_DISPATCH_ENTRY(moe_dispatch, uint4)
MOE_DISPATCH_ENTRY(moe_dispatch_any, bf16)

// h[t, :] += sum_j w[t, j] * down[rowPos[t, j], :]
extern "C" __global__ void moe_combine(const float* __restrict__ down, const int* __restrict__ rowPos,
                                       const float* __restrict__ w, int k, float* __restrict__ h, int dim) {
    const int t = blockIdx.x;
    for (int c = threadIdx.x; c < dim; c += blockDim.x) {
        float acc = 0.f;
        for (int j = 0; j < k; j++) acc = fmaf(w[t * k + j], down[(long)rowPos[t * k + j] * dim + c], acc);
        h[(long)t * dim + c] += acc;
    }
}

// The same logits for prefill-sized T, tiled on the CUDA cores (still fp32: x must not be
// rounded to bf16): a block computes 64 tokens x 64 experts over K in chunks of 32 staged in
// shared memory, each thread 4 tokens (ty + 16 i) x 4 experts (tx + 16 j), so a warp reads 16
// consecutive experts and 2 tokens per step. The warp-per-pair kernel re-reads a token's whole
// row once per expert: at 8192 tokens it took 1.8 ms a layer for 9.7 GFLOP.
#define ROUTER_TILE 64
#define ROUTER_KC 32
extern "C" __global__ void __launch_bounds__(256) moe_router_logits_tiled(
        const float* __restrict__ x, long ldx, const bf16* __restrict__ w, float* __restrict__ out, int tokens, int E,
        int d) {
    __shared__ float xs[ROUTER_KC][ROUTER_TILE + 4];
    __shared__ float ws[ROUTER_KC][ROUTER_TILE + 4];
    const int t0 = blockIdx.x * ROUTER_TILE, e0 = blockIdx.y * ROUTER_TILE;
    const int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
    float acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) acc[i][j] = 0.f;
    for (int k0 = 0; k0 < d; k0 += ROUTER_KC) {
#pragma unroll
        for (int q = 0; q < (ROUTER_TILE * ROUTER_KC) / 256; q++) {
            const int idx = q * 256 + threadIdx.x, r = idx / ROUTER_KC, c = idx % ROUTER_KC, k = k0 + c;
            xs[c][r] = t0 + r < tokens && k < d ? x[(long)(t0 + r) * ldx + k] : 0.f;
            ws[c][r] = e0 + r < E && k < d ? bf2f(w[(long)(e0 + r) * d + k]) : 0.f;
        }
        __syncthreads();
#pragma unroll 8
        for (int kk = 0; kk < ROUTER_KC; kk++) {
            float a[4], b[4];
#pragma unroll
            for (int i = 0; i < 4; i++) a[i] = xs[kk][ty + 16 * i];
#pragma unroll
            for (int j = 0; j < 4; j++) b[j] = ws[kk][tx + 16 * j];
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int t = t0 + ty + 16 * i;
        if (t >= tokens) continue;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            const int e = e0 + tx + 16 * j;
            if (e < E) out[(long)t * E + e] = acc[i][j];
        }
    }
}

// Router logits from fp32 activations (x [T, ldx]) and the bf16 router weight [E, d]: a warp
// per (token, expert). The choice of experts is discrete, so it is kept in full precision.
extern "C" __global__ void moe_router_logits(const float* __restrict__ x, long ldx, const bf16* __restrict__ w,
                                             float* __restrict__ out, int tokens, int E, int d) {
    const long idx = (long)blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (idx >= (long)tokens * E) return;
    const int t = (int)(idx / E), e = (int)(idx % E);
    const float* xr = x + (long)t * ldx;
    const bf16* wr = w + (long)e * d;
    float acc = 0.f;
    for (int i = lane; i < d; i += 32) acc = fmaf(xr[i], bf2f(wr[i]), acc);
    acc = warp_sum(acc);
    if (lane == 0) out[idx] = acc;
}
