// MLA attention in absorbed form over the paged latent cache: the score of query t against
// cached token j is (W_uk^T q_nope)·c_j + q_rot·k_rot_j, the context is sum_j p_j c_j
// (width r); W_uv is applied afterwards by a batched matrix product. The cache is never
// expanded per head. Cache rows are [c (r) | k_rot (dr)], bf16 or (for fp32-faithful
// runs) fp32.
//
// Two kernels:
// - mla_absorbed_attention*: any number of new tokens per sequence (prompt chunks continuing
//   a context, or decode); a block per (token, head), 8 warps taking every 8th key with their
//   own online softmax. Reads the cache once per head.
// - mla_decode_split: one decode token per sequence; a block per (context slice, sequence)
//   holds every head's query (H <= 32) and reads each cached row of its slice once, in tiles
//   of 64 rows (cp.async, double-buffered): scores [32 x 64] = Q [32 x (r+dr)] C^T and the
//   context update O [32 x r] += P C[:, :r] on the tensor cores, online softmax in base 2.
//   mla_decode_combine merges the slices.
#include "common.cuh"

#define MLA_MAX_PAIRS_PER_LANE 8   // r <= 512
#define MLA_TILE 64
#define MLA_HEADS 32
#define MLA_SP 68                  // fp32 score row pitch
#define MLA_PP 72                  // bf16 probability row pitch (conflict-free ldmatrix)

__device__ __forceinline__ float2 load_pair(const bf16* row, int p) {
    return __bfloat1622float2(reinterpret_cast<const __nv_bfloat162*>(row)[p]);
}
__device__ __forceinline__ float2 load_pair(const float* row, int p) {
    return reinterpret_cast<const float2*>(row)[p];
}

// rowOf [T]: physical cache row of each new token; kva [T, ldk] holds k_rot in [r, r+dr);
// cnorm [T, r] the normalised latent. Cache rows are [c (r) | k_rot (dr)].
extern "C" __global__ void mla_cache_write(const float* __restrict__ kva, long ldk, const bf16* __restrict__ cnorm,
                                           const int* __restrict__ rowOf, bf16* __restrict__ cache, int r, int dr) {
    const int t = blockIdx.x;
    bf16* dst = cache + (long)rowOf[t] * (r + dr);
    for (int i = threadIdx.x; i < r + dr; i += blockDim.x)
        dst[i] = i < r ? cnorm[(long)t * r + i] : f2bf(kva[(long)t * ldk + i]);
}

extern "C" __global__ void mla_cache_write_f32(const float* __restrict__ kva, long ldk, const float* __restrict__ cnorm,
                                               const int* __restrict__ rowOf, float* __restrict__ cache, int r, int dr) {
    const int t = blockIdx.x;
    float* dst = cache + (long)rowOf[t] * (r + dr);
    for (int i = threadIdx.x; i < r + dr; i += blockDim.x)
        dst[i] = i < r ? cnorm[(long)t * r + i] : kva[(long)t * ldk + i];
}

// qa [T, H, r] fp32 absorbed queries; q [T, ldq] with q_rot of head h at h*dqk + dn;
// blockTables [N, maxPages]; seqOf [T]; ctxLens [N] tokens cached before this call;
// out [T, H, r] bf16 (outLo, when given, the remainders).
template <typename CT>
__device__ __forceinline__ void mla_attention_body(
        const float* __restrict__ qa, const float* __restrict__ q, long ldq, const CT* __restrict__ cache,
        const int* __restrict__ blockTables, int maxPages, int pageSize, const int* __restrict__ cuSeqlens,
        const int* __restrict__ ctxLens, const int* __restrict__ seqOf, bf16* __restrict__ out,
        bf16* __restrict__ outLo, int heads, int r, int dr, int dqk, int dn, float scale) {
    extern __shared__ float mla_smem[];
    float* sq = mla_smem;                 // [r + dr]
    float* sacc = sq + r + dr;            // [8][r]
    __shared__ float sm[8], sl[8];
    const int t = blockIdx.x, h = blockIdx.y, lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int s = seqOf[t];
    const int pos = ctxLens[s] + (t - cuSeqlens[s]);
    for (int i = threadIdx.x; i < r + dr; i += blockDim.x)
        sq[i] = i < r ? qa[((long)t * heads + h) * r + i] : q[(long)t * ldq + (long)h * dqk + dn + (i - r)];
    __syncthreads();
    const int pairs = (r + dr) >> 1, rpairs = r >> 1;
    const int* table = blockTables + (long)s * maxPages;
    float m = -INFINITY, l = 0.f;
    float acc[2 * MLA_MAX_PAIRS_PER_LANE];
#pragma unroll
    for (int i = 0; i < 2 * MLA_MAX_PAIRS_PER_LANE; i++) acc[i] = 0.f;
    for (int j = warp; j <= pos; j += 8) {
        const CT* row = cache + ((long)table[j / pageSize] * pageSize + j % pageSize) * (r + dr);
        float part = 0.f;
        float2 cv[MLA_MAX_PAIRS_PER_LANE];
#pragma unroll
        for (int u = 0; u < MLA_MAX_PAIRS_PER_LANE; u++) {
            int p = lane + 32 * u;
            if (p < rpairs) {
                cv[u] = load_pair(row, p);
                part = fmaf(cv[u].x, sq[2 * p], fmaf(cv[u].y, sq[2 * p + 1], part));
            } else {
                cv[u] = make_float2(0.f, 0.f);
            }
        }
        for (int p = rpairs + lane; p < pairs; p += 32) {
            float2 kv = load_pair(row, p);
            part = fmaf(kv.x, sq[2 * p], fmaf(kv.y, sq[2 * p + 1], part));
        }
        float score = warp_sum(part) * scale;
        float mn = fmaxf(m, score);
        float corr = __expf(m - mn), pj = __expf(score - mn);
        l = l * corr + pj;
#pragma unroll
        for (int u = 0; u < MLA_MAX_PAIRS_PER_LANE; u++) {
            acc[2 * u] = acc[2 * u] * corr + pj * cv[u].x;
            acc[2 * u + 1] = acc[2 * u + 1] * corr + pj * cv[u].y;
        }
        m = mn;
    }
    if (lane == 0) { sm[warp] = m; sl[warp] = l; }
#pragma unroll
    for (int u = 0; u < MLA_MAX_PAIRS_PER_LANE; u++) {
        int p = lane + 32 * u;
        if (p < rpairs) { sacc[warp * r + 2 * p] = acc[2 * u]; sacc[warp * r + 2 * p + 1] = acc[2 * u + 1]; }
    }
    __syncthreads();
    float M = -INFINITY;
    for (int w = 0; w < 8; w++) M = fmaxf(M, sm[w]);
    float L = 0.f, f[8];
    for (int w = 0; w < 8; w++) { f[w] = sm[w] == -INFINITY ? 0.f : __expf(sm[w] - M); L += sl[w] * f[w]; }
    for (int i = threadIdx.x; i < r; i += blockDim.x) {
        float v = 0.f;
        for (int w = 0; w < 8; w++) v += sacc[w * r + i] * f[w];
        store_split(out, outLo, ((long)t * heads + h) * r + i, v / L);
    }
}

#define MLA_ATTENTION_ENTRY(NAME, CT)                                                                          \
    extern "C" __global__ void __launch_bounds__(256) NAME(                                                    \
        const float* qa, const float* q, long ldq, const CT* cache, const int* blockTables, int maxPages,       \
        int pageSize, const int* cuSeqlens, const int* ctxLens, const int* seqOf, bf16* out, bf16* outLo,      \
        int heads, int r, int dr, int dqk, int dn, float scale) {                                              \
        mla_attention_body<CT>(qa, q, ldq, cache, blockTables, maxPages, pageSize, cuSeqlens, ctxLens, seqOf,  \
                               out, outLo, heads, r, dr, dqk, dn, scale);                                      \
    }
MLA_ATTENTION_ENTRY(mla_absorbed_attention, bf16)
MLA_ATTENTION_ENTRY(mla_absorbed_attention_f32cache, float)

// Decode, split over the context. Grid (splits, N), 256 threads, one block per SM (about 225 KB of shared
// memory); block (split, s) takes the split-th of `splits` equal runs of whole tiles of
// sequence s's ctxLens[s] + 1 visible rows (its own row written before). With one split the
// block writes out [N, H, r] bf16 itself; otherwise partials: opart [N, splits, H, r]
// unnormalised context, ml [N, splits, H, 2] (running max in log2 units, sum).
// Needs r % 16 == 0, (r + dr) % 8 == 0, H <= 32.
//
// Two consumer groups (warps 0-3 and 4-7) take alternate tiles from a ring of MLA_STAGES
// tiles of 32 rows, each group with its own online softmax over all heads, so one group's
// products fill the other's waits; a group synchronises only its own 4 warps (named
// barriers). Loads: on sm_90 one bulk copy per cached row (1152 contiguous bytes at
// r + dr = 576) completing on the stage's `full` mbarrier; before sm_90 16-byte cp.async
// that arrive on the same barrier. When a group's 4 warps have read a stage (its `empty`
// mbarrier), the group's first warp refills it with the tile MLA_STAGES ahead (a tile of the
// same group, MLA_STAGES being even), so no warp is set aside for the loads and each keeps
// the 255-register budget of 8 warps per SM. The groups are merged once at the end.
// Per tile and group, on mma.sync (bf16, fp32 accumulation):
// - scores S^T [32 rows x 32 heads] = C Q^T, the K = r + dr columns split over the 4 warps
//   (each reads its quarter of the tile and of Q once; 8 independent accumulators), partial
//   sums added in the softmax step;
// - online softmax in base 2, 4 threads per head, each owning 8 rows;
// - O^T [r x 32 heads] += C[:, :r]^T P^T, each warp owning every 4th block of 16 columns
//   (A fragments straight from the row-major tile by ldmatrix.trans).
#define MLA_STAGES 4
#define MLA_DT 32                  // rows per tile of the split decode
#define MLA_SPP 36                 // fp32 partial-score pitch (rows of one head)
#define MLA_DPP 40                 // bf16 probability row pitch (conflict-free ldmatrix)
#define MLA_DTHREADS 256           // two groups of 4 warps
#define MLA_CONSUMERS 256

// The cp.async ring is the path before sm_90; defining MLA_DECODE_CPASYNC takes it on sm_90
// too (to exercise it on Hopper).
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900 && !defined(MLA_DECODE_CPASYNC)
#define MLA_BULK 1
#else
#define MLA_BULK 0
#endif

__device__ __forceinline__ void mla_bar_init(uint64_t* bar, unsigned count) {
    unsigned a = (unsigned)__cvta_generic_to_shared(bar);
    asm volatile("mbarrier.init.shared.b64 [%0], %1;\n" :: "r"(a), "r"(count) : "memory");
}
__device__ __forceinline__ void mla_bar_arrive(uint64_t* bar) {
    unsigned a = (unsigned)__cvta_generic_to_shared(bar);
    asm volatile("mbarrier.arrive.shared.b64 _, [%0];\n" :: "r"(a) : "memory");
}
__device__ __forceinline__ void mla_bar_wait(uint64_t* bar, unsigned parity) {
    unsigned a = (unsigned)__cvta_generic_to_shared(bar), done = 0;
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    while (!done)
        asm volatile("{\n .reg .pred p;\n mbarrier.try_wait.parity.shared.b64 p, [%1], %2;\n"
                     " selp.u32 %0, 1, 0, p;\n}\n" : "=r"(done) : "r"(a), "r"(parity) : "memory");
#else
    while (!done)
        asm volatile("{\n .reg .pred p;\n mbarrier.test_wait.parity.shared.b64 p, [%1], %2;\n"
                     " selp.u32 %0, 1, 0, p;\n}\n" : "=r"(done) : "r"(a), "r"(parity) : "memory");
#endif
}
// barrier over `count` threads (a multiple of 32) under id (1..15; 0 is __syncthreads)
__device__ __forceinline__ void mla_named_bar(int id, int count) {
    asm volatile("bar.sync %0, %1;\n" :: "r"(id), "r"(count) : "memory");
}

// Shared-memory bytes of mla_decode_split for a row width of r + dr (the launcher's formula).
__host__ __device__ constexpr int mla_decode_smem(int w) {
    return 2 * (((w + 15) & ~15) + 8) * (32 + MLA_STAGES * MLA_DT) + 4 * 2 * 4 * 32 * MLA_SPP
           + 2 * 2 * 32 * MLA_DPP + 4 * 2 * 32 + 4 * 2 * 2 * 32 + 8 * 2 * MLA_STAGES;
}

// R, DR: compile-time shape (0: taken from the arguments). STREAM_ONLY: the ring without the
// products (measures the copy side alone).
template <int R, int DR, bool STREAM_ONLY>
__device__ __forceinline__ void mla_decode_split_body(
        const float* __restrict__ qa, const float* __restrict__ q, long ldq, const bf16* __restrict__ cache,
        const int* __restrict__ blockTables, int maxPages, int pageSize, const int* __restrict__ ctxLens,
        float* __restrict__ opart, float* __restrict__ ml, bf16* __restrict__ out, int heads, int rArg, int drArg,
        int dqk, int dn, float scaleLog2) {
    const int r = R ? R : rArg, dr = R ? DR : drArg;
    const int W = r + dr, Kp = (W + 15) & ~15, P = Kp + 8;
    extern __shared__ __align__(16) unsigned char mla_ds[];
    bf16* Qs = reinterpret_cast<bf16*>(mla_ds);
    bf16* Cs = Qs + 32 * P;
    float* SpAll = reinterpret_cast<float*>(Cs + MLA_STAGES * MLA_DT * P);
    bf16* PsAll = reinterpret_cast<bf16*>(SpAll + 2 * 4 * 32 * MLA_SPP);
    float* corrAll = reinterpret_cast<float*>(PsAll + 2 * 32 * MLA_DPP);
    float* sML = corrAll + 2 * 32;                       // [group][m, l][head]
    uint64_t* full = reinterpret_cast<uint64_t*>(sML + 2 * 2 * 32);
    uint64_t* empty = full + MLA_STAGES;
    const int split = blockIdx.x, splits = gridDim.x, s = blockIdx.y;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    // each sequence's own length is cut into `splits` slices of whole tiles, so the grid can
    // be sized for a bound on the context (a captured graph replays it as contexts grow)
    const int len = ctxLens[s] + 1;
    const int perSplit = ((len + MLA_DT - 1) / MLA_DT + splits - 1) / splits * MLA_DT;
    const int j0 = split * perSplit, j1 = min(len, j0 + perSplit);
    const int ntiles = j1 > j0 ? (j1 - j0 + MLA_DT - 1) / MLA_DT : 0;
    const int* table = blockTables + (long)s * maxPages;

    // pad columns: never written by the tile loads, must not hold NaN patterns
    if (Kp > W) {
        const int pad = max(Kp - W, 1);   // (never 0 here; keeps constant shapes free of a division by 0)
        for (int i = tid; i < MLA_STAGES * MLA_DT * pad; i += blockDim.x) Cs[(i / pad) * P + W + i % pad] = f2bf(0.f);
    }
    if (tid == 0) {
        for (int st = 0; st < MLA_STAGES; st++) {
            mla_bar_init(&full[st], MLA_BULK ? 1 : 32);
            mla_bar_init(&empty[st], 4);
        }
#if MLA_BULK
        asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
#endif
    }
    __syncthreads();

    // one warp loads tile t into stage t % MLA_STAGES (free: first use, or handed back)
    auto load = [&](int t) {
        const int st = t % MLA_STAGES, base = j0 + t * MLA_DT, rows = min(MLA_DT, j1 - base);
        bf16* dst = Cs + st * MLA_DT * P;
#if MLA_BULK
        if (lane == 0) {
            unsigned a = (unsigned)__cvta_generic_to_shared(&full[st]);
            asm volatile("mbarrier.arrive.expect_tx.shared.b64 _, [%0], %1;\n" :: "r"(a), "r"(rows * W * 2)
                         : "memory");
        }
        __syncwarp();
        if (lane < rows) {
            const int j = base + lane;
            const bf16* src = cache + ((long)table[j / pageSize] * pageSize + j % pageSize) * W;
            unsigned d = (unsigned)__cvta_generic_to_shared(dst + lane * P);
            unsigned b = (unsigned)__cvta_generic_to_shared(&full[st]);
            asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];\n"
                         :: "r"(d), "l"(src), "r"(W * 2), "r"(b) : "memory");
        }
#else
        const int chunks = W >> 3;
        for (int row = 0; row < rows; row++) {
            const int j = base + row;
            const bf16* src = cache + ((long)table[j / pageSize] * pageSize + j % pageSize) * W;
            for (int c = lane; c < chunks; c += 32) cp_async16(dst + row * P + c * 8, src + c * 8, 16);
        }
        unsigned b = (unsigned)__cvta_generic_to_shared(&full[st]);
        asm volatile("cp.async.mbarrier.arrive.noinc.shared.b64 [%0];\n" :: "r"(b) : "memory");
#endif
    };
    if (warp == 0)
        for (int t = 0; t < MLA_STAGES && t < ntiles; t++) load(t);
    {
        // queries as bf16 [32][P] (heads past `heads` and columns past r + dr zero), float4
        // loads with several in flight while the first tiles stream in
        const int r4 = r >> 2;
#pragma unroll 8
        for (int i = tid; i < 32 * r4; i += MLA_CONSUMERS) {
            const int h = i / r4, c4 = i % r4;
            float4 v = h < heads ? reinterpret_cast<const float4*>(qa + ((long)s * heads + h) * r)[c4]
                                 : make_float4(0.f, 0.f, 0.f, 0.f);
            __nv_bfloat162* d2 = reinterpret_cast<__nv_bfloat162*>(Qs + h * P + 4 * c4);
            d2[0] = __floats2bfloat162_rn(v.x, v.y);
            d2[1] = __floats2bfloat162_rn(v.z, v.w);
        }
        for (int i = tid; i < 32 * (Kp - r); i += MLA_CONSUMERS) {
            const int h = i / (Kp - r), c = i % (Kp - r);
            float v = h < heads && c < dr ? q[(long)s * ldq + (long)h * dqk + dn + c] : 0.f;
            Qs[h * P + r + c] = f2bf(v);
        }
    }
    __syncthreads();

    const int grp = warp >> 2, wg = warp & 3, gtid = tid & 127;
    float* Sp = SpAll + grp * 4 * 32 * MLA_SPP;
    bf16* Ps = PsAll + grp * 32 * MLA_DPP;
    float* corrS = corrAll + grp * 32;
    const int sh = gtid >> 2, sq = gtid & 3;   // softmax: head, quarter of the tile's rows
    float mRun = -INFINITY, lRun = 0.f;
    float o[8][4][4];
#pragma unroll
    for (int i = 0; i < 8; i++)
#pragma unroll
        for (int n = 0; n < 4; n++)
#pragma unroll
            for (int e = 0; e < 4; e++) o[i][n][e] = 0.f;

    for (int it = grp; it < ntiles; it += 2) {
        const int st = it % MLA_STAGES;
        const int valid = min(MLA_DT, j1 - (j0 + it * MLA_DT));
        bf16* C = Cs + st * MLA_DT * P;
        mla_bar_wait(&full[st], (it / MLA_STAGES) & 1);
        if (STREAM_ONLY) {
            __syncwarp();
            if (lane == 0) mla_bar_arrive(&empty[st]);
            if (wg == 0 && it + MLA_STAGES < ntiles) {
                mla_bar_wait(&empty[st], (it / MLA_STAGES) & 1);
                load(it + MLA_STAGES);
            }
            continue;
        }
        if (valid < MLA_DT) {   // last tile: rows past the end hold stale data; P is 0 there, 0 * NaN is not
            for (int i = gtid; i < (MLA_DT - valid) * Kp; i += 128) C[(valid + i / Kp) * P + i % Kp] = f2bf(0.f);
            mla_named_bar(1 + grp, 128);
        }
        {   // partial scores over this warp's k-steps ks = wg, wg + 4, ...
            float acc[2][4][4];
#pragma unroll
            for (int m = 0; m < 2; m++)
#pragma unroll
                for (int n = 0; n < 4; n++)
#pragma unroll
                    for (int e = 0; e < 4; e++) acc[m][n][e] = 0.f;
            auto step = [&](int kk) {
                unsigned a0[4], a1[4], b0[4], b1[4];
                ldmatrix_x4(a0, &C[(lane & 15) * P + kk + (lane >> 4) * 8]);
                ldmatrix_x4(a1, &C[(16 + (lane & 15)) * P + kk + (lane >> 4) * 8]);
                const int qrow = (lane & 7) + ((lane >> 4) << 3), qcol = kk + ((lane >> 3) & 1) * 8;
                ldmatrix_x4(b0, &Qs[qrow * P + qcol]);
                ldmatrix_x4(b1, &Qs[(16 + qrow) * P + qcol]);
                unsigned bb[4][2] = {{b0[0], b0[1]}, {b0[2], b0[3]}, {b1[0], b1[1]}, {b1[2], b1[3]}};
#pragma unroll
                for (int n = 0; n < 4; n++) {
                    mma_bf16_16816(acc[0][n], a0, bb[n]);
                    mma_bf16_16816(acc[1][n], a1, bb[n]);
                }
            };
            if (R) {
                constexpr int KS = R ? (R + DR + 15) / 16 : 4;
#pragma unroll
                for (int u = 0; u < (KS + 3) / 4; u++)
                    if (KS % 4 == 0 || wg + 4 * u < KS) step((wg + 4 * u) * 16);
            } else {
                for (int ks = wg; ks < Kp / 16; ks += 4) step(ks * 16);
            }
            float* mine = Sp + wg * 32 * MLA_SPP;
#pragma unroll
            for (int m = 0; m < 2; m++)
#pragma unroll
                for (int n = 0; n < 4; n++)
#pragma unroll
                    for (int e = 0; e < 4; e++)
                        mine[(n * 8 + (lane & 3) * 2 + (e & 1)) * MLA_SPP + m * 16 + (lane >> 2) + (e >> 1) * 8] =
                            acc[m][n][e];
        }
        mla_named_bar(1 + grp, 128);
        {   // online softmax: head sh, rows sq*8 .. sq*8 + 7
            float x[8];
#pragma unroll
            for (int i = 0; i < 8; i++) x[i] = 0.f;
#pragma unroll
            for (int w = 0; w < 4; w++) {
                const float4* p4 = reinterpret_cast<const float4*>(&Sp[(w * 32 + sh) * MLA_SPP + sq * 8]);
                const float4 u0 = p4[0], u1 = p4[1];
                x[0] += u0.x; x[1] += u0.y; x[2] += u0.z; x[3] += u0.w;
                x[4] += u1.x; x[5] += u1.y; x[6] += u1.z; x[7] += u1.w;
            }
            float mx = -INFINITY;
#pragma unroll
            for (int i = 0; i < 8; i++) {
                x[i] = sq * 8 + i < valid ? x[i] * scaleLog2 : -INFINITY;
                mx = fmaxf(mx, x[i]);
            }
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
            const float mNew = fmaxf(mRun, mx);   // finite: row 0 of a tile is always valid
            const float corr = exp2f(mRun - mNew);
            float sum = 0.f;
            unsigned pk[4];
#pragma unroll
            for (int i = 0; i < 4; i++) {
                __nv_bfloat162 pp = __floats2bfloat162_rn(exp2f(x[2 * i] - mNew), exp2f(x[2 * i + 1] - mNew));
                const float2 pf = __bfloat1622float2(pp);   // the sum sees the probabilities the products use
                sum += pf.x + pf.y;
                pk[i] = *reinterpret_cast<unsigned*>(&pp);
            }
            *reinterpret_cast<uint4*>(&Ps[sh * MLA_DPP + sq * 8]) = make_uint4(pk[0], pk[1], pk[2], pk[3]);
            sum += __shfl_xor_sync(0xffffffffu, sum, 1);
            sum += __shfl_xor_sync(0xffffffffu, sum, 2);
            lRun = lRun * corr + sum;
            mRun = mNew;
            if (sq == 0) corrS[sh] = corr;
        }
        mla_named_bar(1 + grp, 128);
        {   // O^T = O^T diag(corr) + C[:, :r]^T P^T: columns (wg + 4i)*16.., all 32 heads
            float cr[4][2];
#pragma unroll
            for (int n = 0; n < 4; n++) {
                const float2 c2 = *reinterpret_cast<const float2*>(&corrS[n * 8 + (lane & 3) * 2]);
                cr[n][0] = c2.x;
                cr[n][1] = c2.y;
            }
#pragma unroll
            for (int i = 0; i < 8; i++)
#pragma unroll
                for (int n = 0; n < 4; n++) {
                    o[i][n][0] *= cr[n][0]; o[i][n][1] *= cr[n][1]; o[i][n][2] *= cr[n][0]; o[i][n][3] *= cr[n][1];
                }
#pragma unroll
            for (int kk = 0; kk < MLA_DT; kk += 16) {
                unsigned p0[4], p1[4];
                const int prow = (lane & 7) + ((lane >> 4) << 3), pcol = kk + ((lane >> 3) & 1) * 8;
                ldmatrix_x4(p0, &Ps[prow * MLA_DPP + pcol]);
                ldmatrix_x4(p1, &Ps[(16 + prow) * MLA_DPP + pcol]);
                unsigned bb[4][2] = {{p0[0], p0[1]}, {p0[2], p0[3]}, {p1[0], p1[1]}, {p1[2], p1[3]}};
#pragma unroll
                for (int i = 0; i < 8; i++) {
                    const int n0 = (wg + 4 * i) * 16;
                    if (n0 < r) {
                        unsigned a[4];
                        ldmatrix_x4_trans(a, &C[(kk + (lane & 7) + ((lane >> 4) << 3)) * P + n0 + ((lane >> 3) & 1) * 8]);
#pragma unroll
                        for (int n = 0; n < 4; n++) mma_bf16_16816(o[i][n], a, bb[n]);
                    }
                }
            }
        }
        __syncwarp();
        if (lane == 0) mla_bar_arrive(&empty[st]);
        if (wg == 0 && it + MLA_STAGES < ntiles) {   // the group's 4 warps are done with the stage
            mla_bar_wait(&empty[st], (it / MLA_STAGES) & 1);
            load(it + MLA_STAGES);
        }
    }

    // merge the two groups: group 1's context goes through the (now idle) stage ring
    mla_named_bar(3, MLA_CONSUMERS);
    // X [r / 16 column blocks][4][32 lanes] float4 (group 1's fragments), Y [32 heads][r + 4]
    // the merged context: 256 r + 512 bytes, within the ring's 256 (r + 24)
    float4* X = reinterpret_cast<float4*>(Cs);
    float* Y = reinterpret_cast<float*>(X + (r >> 4) * 4 * 32);
    const int YP = r + 4;
    if (grp == 1) {
#pragma unroll
        for (int i = 0; i < 8; i++)
            if ((wg + 4 * i) * 16 < r)
#pragma unroll
                for (int n = 0; n < 4; n++)
                    X[((wg + 4 * i) * 4 + n) * 32 + lane] = make_float4(o[i][n][0], o[i][n][1], o[i][n][2], o[i][n][3]);
    }
    if (sq == 0) {
        sML[grp * 64 + sh] = mRun;
        sML[grp * 64 + 32 + sh] = lRun;
    }
    mla_named_bar(3, MLA_CONSUMERS);
    if (grp == 0) {
        float f0[4][2], f1[4][2];
#pragma unroll
        for (int n = 0; n < 4; n++)
#pragma unroll
            for (int c = 0; c < 2; c++) {
                const int h = n * 8 + (lane & 3) * 2 + c;
                const float m0 = sML[h], m1 = sML[64 + h], M = fmaxf(m0, m1);
                f0[n][c] = m0 == -INFINITY ? 0.f : exp2f(m0 - M);
                f1[n][c] = m1 == -INFINITY ? 0.f : exp2f(m1 - M);
            }
#pragma unroll
        for (int i = 0; i < 8; i++) {
            const int n0 = (wg + 4 * i) * 16;
            if (n0 < r) {
#pragma unroll
                for (int n = 0; n < 4; n++) {
                    const float4 x1 = X[((wg + 4 * i) * 4 + n) * 32 + lane];
                    const float v[4] = {o[i][n][0] * f0[n][0] + x1.x * f1[n][0], o[i][n][1] * f0[n][1] + x1.y * f1[n][1],
                                        o[i][n][2] * f0[n][0] + x1.z * f1[n][0], o[i][n][3] * f0[n][1] + x1.w * f1[n][1]};
#pragma unroll
                    for (int e = 0; e < 4; e++)
                        Y[(n * 8 + (lane & 3) * 2 + (e & 1)) * YP + n0 + (lane >> 2) + (e >> 1) * 8] = v[e];
                }
            }
        }
    }
    mla_named_bar(3, MLA_CONSUMERS);
    if (splits == 1) {   // the whole context in this block: normalise and write the output
        const int r8 = r >> 3;
        for (int i = tid; i < heads * r8; i += MLA_CONSUMERS) {
            const int h = i / r8, c = (i % r8) * 8;
            const float m0 = sML[h], m1 = sML[64 + h], M = fmaxf(m0, m1);
            const float L = (m0 == -INFINITY ? 0.f : sML[32 + h] * exp2f(m0 - M)) +
                            (m1 == -INFINITY ? 0.f : sML[96 + h] * exp2f(m1 - M));
            const float inv = 1.f / L;
            const float4 u0 = *reinterpret_cast<const float4*>(&Y[h * YP + c]);
            const float4 u1 = *reinterpret_cast<const float4*>(&Y[h * YP + c + 4]);
            __nv_bfloat162 w0 = __floats2bfloat162_rn(u0.x * inv, u0.y * inv), w1 = __floats2bfloat162_rn(u0.z * inv, u0.w * inv),
                           w2 = __floats2bfloat162_rn(u1.x * inv, u1.y * inv), w3 = __floats2bfloat162_rn(u1.z * inv, u1.w * inv);
            *reinterpret_cast<uint4*>(&out[((long)s * heads + h) * r + c]) =
                make_uint4(*reinterpret_cast<unsigned*>(&w0), *reinterpret_cast<unsigned*>(&w1),
                           *reinterpret_cast<unsigned*>(&w2), *reinterpret_cast<unsigned*>(&w3));
        }
        return;
    }
    const long pb = ((long)s * splits + split) * heads;
    const int r4 = r >> 2;
    for (int i = tid; i < heads * r4; i += MLA_CONSUMERS) {
        const int h = i / r4, c = (i % r4) * 4;
        *reinterpret_cast<float4*>(&opart[(pb + h) * r + c]) = *reinterpret_cast<const float4*>(&Y[h * YP + c]);
    }
    if (tid < heads) {
        const float m0 = sML[tid], m1 = sML[64 + tid], M = fmaxf(m0, m1);
        const float L = (m0 == -INFINITY ? 0.f : sML[32 + tid] * exp2f(m0 - M)) +
                        (m1 == -INFINITY ? 0.f : sML[96 + tid] * exp2f(m1 - M));
        ml[(pb + tid) * 2] = M;
        ml[(pb + tid) * 2 + 1] = L;
    }
}

#define MLA_DECODE_ARGS                                                                                        \
    const float *__restrict__ qa, const float *__restrict__ q, long ldq, const bf16 *__restrict__ cache,      \
        const int *__restrict__ blockTables, int maxPages, int pageSize, const int *__restrict__ ctxLens,      \
        float *__restrict__ opart, float *__restrict__ ml, bf16 *__restrict__ out, int heads, int r, int dr,   \
        int dqk, int dn, float scaleLog2
#define MLA_DECODE_PASS qa, q, ldq, cache, blockTables, maxPages, pageSize, ctxLens, opart, ml, out, heads, r, dr, dqk, dn, scaleLog2

extern "C" __global__ void __launch_bounds__(MLA_DTHREADS, 1) mla_decode_split(MLA_DECODE_ARGS) {
    if (r == 512 && dr == 64)   // Kimi-Linear's shape, fully unrolled
        mla_decode_split_body<512, 64, false>(MLA_DECODE_PASS);
    else
        mla_decode_split_body<0, 0, false>(MLA_DECODE_PASS);
}

// out [N, H, r] bf16 = the slices merged: sum_s O_s 2^(m_s - M) / sum_s l_s 2^(m_s - M).
// Grid (N, H), 512 threads; dynamic shared memory: splits floats. Each thread owns 4 columns
// and every (512 / (r / 4))-th slice, eight loads in flight; the slice groups are then added.
#define MLA_COMBINE_THREADS 512
extern "C" __global__ void __launch_bounds__(MLA_COMBINE_THREADS) mla_decode_combine(
        const float* __restrict__ opart, const float* __restrict__ ml, int splits, int heads, int r,
        bf16* __restrict__ out) {
    extern __shared__ float mla_f[];
    __shared__ float red[32];
    __shared__ float4 sums[MLA_COMBINE_THREADS];
    const int s = blockIdx.x, h = blockIdx.y, lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int warps = (blockDim.x + 31) >> 5;
    float M = -INFINITY;
    for (int sp = threadIdx.x; sp < splits; sp += blockDim.x)
        M = fmaxf(M, ml[(((long)s * splits + sp) * heads + h) * 2]);
    M = warp_max(M);
    if (lane == 0) red[warp] = M;
    __syncthreads();
    M = warp_max(lane < warps ? red[lane] : -INFINITY);
    float L = 0.f;
    for (int sp = threadIdx.x; sp < splits; sp += blockDim.x) {
        const float* e = ml + (((long)s * splits + sp) * heads + h) * 2;
        float f = e[1] > 0.f ? exp2f(e[0] - M) : 0.f;
        mla_f[sp] = f;
        L += e[1] * f;
    }
    const float invL = 1.f / block_sum(L, red);   // its barriers also publish mla_f
    const int c4n = r >> 2, groups = blockDim.x / c4n, gi = threadIdx.x / c4n, c4 = threadIdx.x % c4n;
    float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
    if (gi < groups) {
        const float4* src = reinterpret_cast<const float4*>(opart + ((long)s * splits * heads + h) * r) + c4;
        const long stride = (long)heads * c4n;
        int sp = gi;
        for (; sp + 7 * groups < splits; sp += 8 * groups) {
            float4 v[8];
#pragma unroll
            for (int u = 0; u < 8; u++) v[u] = src[(sp + u * groups) * stride];
#pragma unroll
            for (int u = 0; u < 8; u++) {
                const float f = mla_f[sp + u * groups];
                acc.x = fmaf(v[u].x, f, acc.x); acc.y = fmaf(v[u].y, f, acc.y);
                acc.z = fmaf(v[u].z, f, acc.z); acc.w = fmaf(v[u].w, f, acc.w);
            }
        }
        for (; sp < splits; sp += groups) {
            const float4 v = src[sp * stride];
            const float f = mla_f[sp];
            acc.x = fmaf(v.x, f, acc.x); acc.y = fmaf(v.y, f, acc.y);
            acc.z = fmaf(v.z, f, acc.z); acc.w = fmaf(v.w, f, acc.w);
        }
    }
    sums[threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.x < c4n) {
        float4 t = sums[c4];
        for (int g = 1; g < groups; g++) {
            const float4 u = sums[g * c4n + c4];
            t.x += u.x; t.y += u.y; t.z += u.z; t.w += u.w;
        }
        __nv_bfloat162 w0 = __floats2bfloat162_rn(t.x * invL, t.y * invL), w1 = __floats2bfloat162_rn(t.z * invL, t.w * invL);
        *reinterpret_cast<uint2*>(&out[((long)s * heads + h) * r + 4 * c4]) =
            make_uint2(*reinterpret_cast<unsigned*>(&w0), *reinterpret_cast<unsigned*>(&w1));
    }
}
