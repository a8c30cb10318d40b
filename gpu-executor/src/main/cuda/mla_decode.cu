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

// Decode, split over the context. Work items (sequence s, slice) = s * splits + slice: the
// slice-th of `splits` equal runs of whole tiles of sequence s's ctxLens[s] + 1 visible rows
// (its own row written before). Grid min(N * splits, SMs), 256 threads, one block per SM
// (about 225 KB of shared memory); each block takes a contiguous run of items and streams
// their tiles through one ring, so the next item's rows arrive while the current one ends.
// With one slice the block writes out [N, H, r] bf16 itself; otherwise partials:
// opart [N, splits, H, r] unnormalised context, ml [N, splits, H, 2] (max in log2 units, sum).
// Needs r % 16 == 0, (r + dr) % 8 == 0, H <= 32.
//
// Two consumer groups (warps 0-3 and 4-7) take alternate tiles from a ring of MLA_STAGES
// tiles of MLA_DT rows, each group with its own online softmax over all heads, so one group's
// products fill the other's waits; a group synchronises only its own 4 warps (named
// barriers). Loads: on sm_90 one bulk copy per cached row (1152 contiguous bytes at
// r + dr = 576) completing on the stage's `full` mbarrier; before sm_90 16-byte cp.async
// that arrive on the same barrier. When a group's 4 warps have read a stage (its `empty`
// mbarrier), the group's first warp refills it with the tile MLA_STAGES ahead (a tile of the
// same group, MLA_STAGES being even), so no warp is set aside for the loads and each keeps
// the 255-register budget of 8 warps per SM. The groups are merged at the end of each item.
// Per tile and group, on mma.sync (bf16, fp32 accumulation):
// - scores S^T [MLA_DT rows x 32 heads] = C Q^T, the K = r + dr columns split over the 4
//   warps (each reads its quarter of the tile and of Q once; independent accumulators),
//   partial sums added in the softmax step;
// - online softmax in base 2, 4 threads per head, each owning MLA_DT / 4 rows;
// - O^T [r x 32 heads] += C[:, :r]^T P^T, each warp owning every 4th block of 16 columns
//   (A fragments straight from the row-major tile by ldmatrix.trans).
#ifndef MLA_DT
#define MLA_DT 32                  // rows per tile of the split decode (16 or 32; 16 measured slower)
#endif
#define MLA_STAGES (MLA_DT == 16 ? 8 : 4)   // a ring of 150 KB either way
#define MLA_MT (MLA_DT / 16)       // 16-row blocks per tile
#define MLA_RPT (MLA_DT / 4)       // rows per softmax thread
#define MLA_SPP (MLA_DT + 4)       // fp32 partial-score pitch (rows of one head)
#define MLA_DPP (MLA_DT + 8)       // bf16 probability row pitch (conflict-free ldmatrix)
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

// R, DR: compile-time shape (0: taken from the arguments). MODE: 0 the decode; 1 the ring
// without the products, 2 the products without the ring (each measures one side alone).
template <int R, int DR, int MODE>
__device__ __forceinline__ void mla_decode_split_body(
        const float* __restrict__ qa, const float* __restrict__ q, long ldq, const bf16* __restrict__ cache,
        const int* __restrict__ blockTables, int maxPages, int pageSize, const int* __restrict__ ctxLens,
        float* __restrict__ opart, float* __restrict__ ml, bf16* __restrict__ out, int seqs, int splits, int heads,
        int rArg, int drArg, int dqk, int dn, float scaleLog2) {
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
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    // work items (sequence s, slice) = s * splits + slice, a contiguous run of them per block;
    // each sequence's own length is cut into `splits` slices of whole tiles, so the grid can
    // be sized for a bound on the context (a captured graph replays it as contexts grow)
    const int items = seqs * splits;
    const int it0 = (int)((long)blockIdx.x * items / gridDim.x), it1 = (int)((long)(blockIdx.x + 1) * items / gridDim.x);
    // rows [j0, j1) of sequence s in item `item`; returns its tiles
    auto itemRange = [&](int item, int& s, int& j0, int& j1) {
        s = item / splits;
        const int len = ctxLens[s] + 1;
        const int perSplit = ((len + MLA_DT - 1) / MLA_DT + splits - 1) / splits * MLA_DT;
        j0 = (item - s * splits) * perSplit;
        j1 = min(len, j0 + perSplit);
        return j1 > j0 ? (j1 - j0 + MLA_DT - 1) / MLA_DT : 0;
    };
    int ntiles = 0;   // tiles of the whole block: one ring across its items
    for (int item = it0; item < it1; item++) {
        int s, j0, j1;
        ntiles += itemRange(item, s, j0, j1);
    }

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

    // one warp loads block tile t into stage t % MLA_STAGES (free: first use, or handed back),
    // in two steps: where its rows are (global reads of lengths and the block table, issued
    // early so their latency passes under the products), then the copies
    struct TileSrc {
        const bf16* row;    // this lane's row (bulk copies)
        const int* table;   // the sequence's pages (cp.async)
        int base, rows;
    };
    auto locate = [&](int t) {
        int item = it0, s, j0, j1, nt = itemRange(item, s, j0, j1);
        while (t >= nt) {
            t -= nt;
            nt = itemRange(++item, s, j0, j1);
        }
        TileSrc ts;
        ts.table = blockTables + (long)s * maxPages;
        ts.base = j0 + t * MLA_DT;
        ts.rows = min(MLA_DT, j1 - ts.base);
        const int j = ts.base + min(lane, ts.rows - 1);
        ts.row = MLA_BULK ? cache + ((long)ts.table[j / pageSize] * pageSize + j % pageSize) * W : nullptr;
        return ts;
    };
    auto issue = [&](int t, const TileSrc& ts) {
        const int st = t % MLA_STAGES;
        bf16* dst = Cs + st * MLA_DT * P;
#if MLA_BULK
        if (lane == 0) {
            unsigned a = (unsigned)__cvta_generic_to_shared(&full[st]);
            asm volatile("mbarrier.arrive.expect_tx.shared.b64 _, [%0], %1;\n" :: "r"(a), "r"(ts.rows * W * 2)
                         : "memory");
        }
        __syncwarp();
        if (lane < ts.rows) {
            unsigned d = (unsigned)__cvta_generic_to_shared(dst + lane * P);
            unsigned b = (unsigned)__cvta_generic_to_shared(&full[st]);
            asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];\n"
                         :: "r"(d), "l"(ts.row), "r"(W * 2), "r"(b) : "memory");
        }
#else
        const int chunks = W >> 3;
        for (int row = 0; row < ts.rows; row++) {
            const int j = ts.base + row;
            const bf16* src = cache + ((long)ts.table[j / pageSize] * pageSize + j % pageSize) * W;
            for (int c = lane; c < chunks; c += 32) cp_async16(dst + row * P + c * 8, src + c * 8, 16);
        }
        unsigned b = (unsigned)__cvta_generic_to_shared(&full[st]);
        asm volatile("cp.async.mbarrier.arrive.noinc.shared.b64 [%0];\n" :: "r"(b) : "memory");
#endif
    };
    if (MODE != 2 && warp == 0)
        for (int t = 0; t < MLA_STAGES && t < ntiles; t++) issue(t, locate(t));

    const int grp = warp >> 2, wg = warp & 3, gtid = tid & 127;
    float* Sp = SpAll + grp * 4 * 32 * MLA_SPP;
    bf16* Ps = PsAll + grp * 32 * MLA_DPP;
    float* corrS = corrAll + grp * 32;
    const int sh = gtid >> 2, sq = gtid & 3;   // softmax: head, quarter of the tile's rows
    int first = 0;                              // block tile index of the item's first tile
    for (int item = it0; item < it1; item++) {
        int s, j0, j1;
        const int nt = itemRange(item, s, j0, j1);
        {   // queries as bf16 [32][P] (heads past `heads` and columns past r + dr zero), float4
            // loads with several in flight while the item's first tiles stream in
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
        mla_named_bar(3, MLA_CONSUMERS);

        float mRun = -INFINITY, lRun = 0.f;
        float o[8][4][4];
#pragma unroll
        for (int i = 0; i < 8; i++)
#pragma unroll
            for (int n = 0; n < 4; n++)
#pragma unroll
                for (int e = 0; e < 4; e++) o[i][n][e] = 0.f;

        // block tiles of this group (stage t % MLA_STAGES always serves group t & 1)
        for (int t = first + ((first & 1) ^ grp); t < first + nt; t += 2) {
            const int st = t % MLA_STAGES;
            const int valid = min(MLA_DT, j1 - (j0 + (t - first) * MLA_DT));
            bf16* C = Cs + st * MLA_DT * P;
            const bool refill = MODE != 2 && wg == 0 && t + MLA_STAGES < ntiles;
            TileSrc next;
            if (refill) next = locate(t + MLA_STAGES);
            if (MODE != 2) mla_bar_wait(&full[st], (t / MLA_STAGES) & 1);
            if (MODE == 1) {
                __syncwarp();
                if (lane == 0) mla_bar_arrive(&empty[st]);
                if (refill) {
                    mla_bar_wait(&empty[st], (t / MLA_STAGES) & 1);
                    issue(t + MLA_STAGES, next);
                }
                continue;
            }
            if (valid < MLA_DT) {   // last tile: rows past the end hold stale data; P is 0 there, 0 * NaN is not
                for (int i = gtid; i < (MLA_DT - valid) * Kp; i += 128) C[(valid + i / Kp) * P + i % Kp] = f2bf(0.f);
#if MLA_BULK
                asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");   // the copy engine refills it later
#endif
                mla_named_bar(1 + grp, 128);
            }
            {   // partial scores over this warp's k-steps ks = wg, wg + 4, ...
                float acc[MLA_MT][4][4];
#pragma unroll
                for (int m = 0; m < MLA_MT; m++)
#pragma unroll
                    for (int n = 0; n < 4; n++)
#pragma unroll
                        for (int e = 0; e < 4; e++) acc[m][n][e] = 0.f;
                auto step = [&](int kk) {
                    unsigned a[MLA_MT][4], b0[4], b1[4];
#pragma unroll
                    for (int m = 0; m < MLA_MT; m++) ldmatrix_x4(a[m], &C[(m * 16 + (lane & 15)) * P + kk + (lane >> 4) * 8]);
                    const int qrow = (lane & 7) + ((lane >> 4) << 3), qcol = kk + ((lane >> 3) & 1) * 8;
                    ldmatrix_x4(b0, &Qs[qrow * P + qcol]);
                    ldmatrix_x4(b1, &Qs[(16 + qrow) * P + qcol]);
                    unsigned bb[4][2] = {{b0[0], b0[1]}, {b0[2], b0[3]}, {b1[0], b1[1]}, {b1[2], b1[3]}};
#pragma unroll
                    for (int n = 0; n < 4; n++)
#pragma unroll
                        for (int m = 0; m < MLA_MT; m++) mma_bf16_16816(acc[m][n], a[m], bb[n]);
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
                for (int m = 0; m < MLA_MT; m++)
#pragma unroll
                    for (int n = 0; n < 4; n++)
#pragma unroll
                        for (int e = 0; e < 4; e++)
                            mine[(n * 8 + (lane & 3) * 2 + (e & 1)) * MLA_SPP + m * 16 + (lane >> 2) + (e >> 1) * 8] =
                                acc[m][n][e];
            }
            mla_named_bar(1 + grp, 128);
            {   // online softmax: head sh, rows sq*RPT .. sq*RPT + RPT - 1. The reference max moves only when
                // a score exceeds it by more than 8 (probabilities stay <= 2^8), so most tiles need
                // no rescaling of the context
                float x[MLA_RPT];
#pragma unroll
                for (int i = 0; i < MLA_RPT; i++) x[i] = 0.f;
#pragma unroll
                for (int w = 0; w < 4; w++)
#pragma unroll
                    for (int v = 0; v < MLA_RPT / 4; v++) {
                        const float4 u = *reinterpret_cast<const float4*>(&Sp[(w * 32 + sh) * MLA_SPP + sq * MLA_RPT + 4 * v]);
                        x[4 * v] += u.x; x[4 * v + 1] += u.y; x[4 * v + 2] += u.z; x[4 * v + 3] += u.w;
                    }
                float mx = -INFINITY;
#pragma unroll
                for (int i = 0; i < MLA_RPT; i++) {
                    x[i] = sq * MLA_RPT + i < valid ? x[i] * scaleLog2 : -INFINITY;
                    mx = fmaxf(mx, x[i]);
                }
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
                // finite: row 0 of a tile is always valid
                const float mNew = mx > mRun + 8.f ? mx : mRun;
                const float corr = exp2f(mRun - mNew);
                float sum = 0.f;
                unsigned pk[4];
#pragma unroll
                for (int i = 0; i < MLA_RPT / 2; i++) {
                    __nv_bfloat162 pp = __floats2bfloat162_rn(exp2f(x[2 * i] - mNew), exp2f(x[2 * i + 1] - mNew));
                    const float2 pf = __bfloat1622float2(pp);   // the sum sees the probabilities the products use
                    sum += pf.x + pf.y;
                    pk[i] = *reinterpret_cast<unsigned*>(&pp);
                }
                if (MLA_RPT == 8)
                    *reinterpret_cast<uint4*>(&Ps[sh * MLA_DPP + sq * MLA_RPT]) = make_uint4(pk[0], pk[1], pk[2], pk[3]);
                else
                    *reinterpret_cast<uint2*>(&Ps[sh * MLA_DPP + sq * MLA_RPT]) = make_uint2(pk[0], pk[1]);
                sum += __shfl_xor_sync(0xffffffffu, sum, 1);
                sum += __shfl_xor_sync(0xffffffffu, sum, 2);
                lRun = lRun * corr + sum;
                mRun = mNew;
                if (sq == 0) corrS[sh] = corr;
            }
            mla_named_bar(1 + grp, 128);
            {   // O^T = O^T diag(corr) + C[:, :r]^T P^T: columns (wg + 4i)*16.., all 32 heads
                float cr[4][2];
                bool rescale = false;
#pragma unroll
                for (int n = 0; n < 4; n++) {
                    const float2 c2 = *reinterpret_cast<const float2*>(&corrS[n * 8 + (lane & 3) * 2]);
                    cr[n][0] = c2.x;
                    cr[n][1] = c2.y;
                    rescale |= c2.x != 1.f || c2.y != 1.f;
                }
                if (__any_sync(0xffffffffu, rescale)) {
#pragma unroll
                    for (int i = 0; i < 8; i++)
#pragma unroll
                        for (int n = 0; n < 4; n++) {
                            o[i][n][0] *= cr[n][0]; o[i][n][1] *= cr[n][1]; o[i][n][2] *= cr[n][0]; o[i][n][3] *= cr[n][1];
                        }
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
            if (MODE != 2) {
                __syncwarp();
                if (lane == 0) mla_bar_arrive(&empty[st]);
                if (refill) {   // once the group's 4 warps are done with the stage
                    mla_bar_wait(&empty[st], (t / MLA_STAGES) & 1);
                    issue(t + MLA_STAGES, next);
                }
            }
        }
        first += nt;

        // merge the two groups' statistics, then their contexts in four passes through the
        // partial-score buffers (the ring may already hold the next item's tiles)
        if (sq == 0) {
            sML[grp * 64 + sh] = mRun;
            sML[grp * 64 + 32 + sh] = lRun;
        }
        mla_named_bar(3, MLA_CONSUMERS);
        float f0[4][2], f1[4][2];
#pragma unroll
        for (int n = 0; n < 4; n++)
#pragma unroll
            for (int c = 0; c < 2; c++) {
                const int h = n * 8 + (lane & 3) * 2 + c;
                const float m0 = sML[h], m1 = sML[64 + h], M = fmaxf(m0, m1);
                const float g0 = m0 == -INFINITY ? 0.f : exp2f(m0 - M), g1 = m1 == -INFINITY ? 0.f : exp2f(m1 - M);
                // one slice: normalise here
                const float inv = splits == 1 ? 1.f / (sML[32 + h] * g0 + sML[96 + h] * g1) : 1.f;
                f0[n][c] = g0 * inv;
                f1[n][c] = g1 * inv;
            }
        float4* X = reinterpret_cast<float4*>(SpAll);   // [4 warps][2][4][32 lanes]: 16 KB
        const long pb = (long)item * heads;
#pragma unroll
        for (int pass = 0; pass < 4; pass++) {
            if (grp == 1) {
#pragma unroll
                for (int ii = 0; ii < 2; ii++) {
                    const int i = pass * 2 + ii;
                    if ((wg + 4 * i) * 16 < r)
#pragma unroll
                        for (int n = 0; n < 4; n++)
                            X[((wg * 2 + ii) * 4 + n) * 32 + lane] = make_float4(o[i][n][0], o[i][n][1], o[i][n][2], o[i][n][3]);
                }
            }
            mla_named_bar(3, MLA_CONSUMERS);
            if (grp == 0) {
#pragma unroll
                for (int ii = 0; ii < 2; ii++) {
                    const int i = pass * 2 + ii, n0 = (wg + 4 * i) * 16;
                    if (n0 < r) {
#pragma unroll
                        for (int n = 0; n < 4; n++) {
                            const float4 x1 = X[((wg * 2 + ii) * 4 + n) * 32 + lane];
                            const float v[4] = {o[i][n][0] * f0[n][0] + x1.x * f1[n][0], o[i][n][1] * f0[n][1] + x1.y * f1[n][1],
                                                o[i][n][2] * f0[n][0] + x1.z * f1[n][0], o[i][n][3] * f0[n][1] + x1.w * f1[n][1]};
#pragma unroll
                            for (int e = 0; e < 4; e++) {
                                const int h = n * 8 + (lane & 3) * 2 + (e & 1), col = n0 + (lane >> 2) + (e >> 1) * 8;
                                if (h < heads) {
                                    if (splits == 1) out[((long)s * heads + h) * r + col] = f2bf(v[e]);
                                    else opart[(pb + h) * r + col] = v[e];
                                }
                            }
                        }
                    }
                }
            }
            mla_named_bar(3, MLA_CONSUMERS);
        }
        if (splits > 1 && tid < heads) {
            const float m0 = sML[tid], m1 = sML[64 + tid], M = fmaxf(m0, m1);
            const float L = (m0 == -INFINITY ? 0.f : sML[32 + tid] * exp2f(m0 - M)) +
                            (m1 == -INFINITY ? 0.f : sML[96 + tid] * exp2f(m1 - M));
            ml[(pb + tid) * 2] = M;
            ml[(pb + tid) * 2 + 1] = L;
        }
        // (the last barrier above also keeps the next item's queries from overwriting these)
    }
}

#define MLA_DECODE_ARGS                                                                                        \
    const float *__restrict__ qa, const float *__restrict__ q, long ldq, const bf16 *__restrict__ cache,      \
        const int *__restrict__ blockTables, int maxPages, int pageSize, const int *__restrict__ ctxLens,      \
        float *__restrict__ opart, float *__restrict__ ml, bf16 *__restrict__ out, int seqs, int splits,       \
        int heads, int r, int dr, int dqk, int dn, float scaleLog2
#define MLA_DECODE_PASS                                                                                        \
    qa, q, ldq, cache, blockTables, maxPages, pageSize, ctxLens, opart, ml, out, seqs, splits, heads, r, dr, dqk, dn, \
        scaleLog2

extern "C" __global__ void __launch_bounds__(MLA_DTHREADS, 1) mla_decode_split(MLA_DECODE_ARGS) {
    if (r == 512 && dr == 64)   // Kimi-Linear's shape, fully unrolled
        mla_decode_split_body<512, 64, 0>(MLA_DECODE_PASS);
    else
        mla_decode_split_body<0, 0, 0>(MLA_DECODE_PASS);
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
