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
//   of 32 rows streamed by a loading warp: scores = C Q^T and the context update
//   O^T += C[:, :r]^T P^T on the tensor cores, online softmax in base 2.
//   mla_decode_combine merges the slices (mla_decode_split_pair merges two in a cluster).
//   mla_decode_split_persist: one slice per sequence when sequences outnumber the SMs, a block
//   streaming several sequences' tiles through one ring.
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

// V cached values from unit p of a row: a pair (V = 2: rows and the latent of even widths, 4-byte
// aligned pairs) or one value (V = 1: any widths).
template <int V>
__device__ __forceinline__ void mla_load(const bf16* row, int p, float (&x)[V]) {
    if constexpr (V == 2) {
        float2 f = load_pair(row, p);
        x[0] = f.x; x[1] = f.y;
    } else {
        x[0] = bf2f(row[p]);
    }
}
template <int V>
__device__ __forceinline__ void mla_load(const float* row, int p, float (&x)[V]) {
    if constexpr (V == 2) {
        float2 f = load_pair(row, p);
        x[0] = f.x; x[1] = f.y;
    } else {
        x[0] = row[p];
    }
}

// qa [T, H, r] fp32 absorbed queries; q [T, ldq] with q_rot of head h at h*dqk + dn;
// blockTables [N, maxPages]; seqOf [T]; ctxLens [N] tokens cached before this call;
// out [T, H, r] bf16 (outLo, when given, the remainders). V values per load: 2 needs r and dr
// even (mla_absorbed_attention*), 1 takes any (mla_absorbed_attention*_any); r <= 512 either way.
template <typename CT, int V>
__device__ __forceinline__ void mla_attention_body(
        const float* __restrict__ qa, const float* __restrict__ q, long ldq, const CT* __restrict__ cache,
        const int* __restrict__ blockTables, int maxPages, int pageSize, const int* __restrict__ cuSeqlens,
        const int* __restrict__ ctxLens, const int* __restrict__ seqOf, bf16* __restrict__ out,
        bf16* __restrict__ outLo, int heads, int r, int dr, int dqk, int dn, float scale) {
    constexpr int U = 2 * MLA_MAX_PAIRS_PER_LANE / V;   // loads per lane over the latent
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
    const int units = (r + dr) >> (V - 1), runits = r >> (V - 1);   // V is 1 or 2
    const int* table = blockTables + (long)s * maxPages;
    float m = -INFINITY, l = 0.f;
    float acc[2 * MLA_MAX_PAIRS_PER_LANE];
#pragma unroll
    for (int i = 0; i < 2 * MLA_MAX_PAIRS_PER_LANE; i++) acc[i] = 0.f;
    for (int j = warp; j <= pos; j += 8) {
        const CT* row = cache + ((long)table[j / pageSize] * pageSize + j % pageSize) * (r + dr);
        float part = 0.f;
        float cv[U][V];
#pragma unroll
        for (int u = 0; u < U; u++) {
            int p = lane + 32 * u;
            if (p < runits) {
                mla_load<V>(row, p, cv[u]);
#pragma unroll
                for (int v = V - 1; v >= 0; v--) part = fmaf(cv[u][v], sq[V * p + v], part);
            } else {
#pragma unroll
                for (int v = 0; v < V; v++) cv[u][v] = 0.f;
            }
        }
        for (int p = runits + lane; p < units; p += 32) {
            float kv[V];
            mla_load<V>(row, p, kv);
#pragma unroll
            for (int v = V - 1; v >= 0; v--) part = fmaf(kv[v], sq[V * p + v], part);
        }
        float score = warp_sum(part) * scale;
        float mn = fmaxf(m, score);
        float corr = __expf(m - mn), pj = __expf(score - mn);
        l = l * corr + pj;
#pragma unroll
        for (int u = 0; u < U; u++)
#pragma unroll
            for (int v = 0; v < V; v++) acc[V * u + v] = acc[V * u + v] * corr + pj * cv[u][v];
        m = mn;
    }
    if (lane == 0) { sm[warp] = m; sl[warp] = l; }
#pragma unroll
    for (int u = 0; u < U; u++) {
        int p = lane + 32 * u;
        if (p < runits) {
            if constexpr (V == 2) {
                sacc[warp * r + 2 * p] = acc[2 * u];
                sacc[warp * r + 2 * p + 1] = acc[2 * u + 1];
            } else {
                sacc[warp * r + p] = acc[u];
            }
        }
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

#define MLA_ATTENTION_ENTRY(NAME, CT, V)                                                                       \
    extern "C" __global__ void __launch_bounds__(256) NAME(                                                    \
        const float* qa, const float* q, long ldq, const CT* cache, const int* blockTables, int maxPages,       \
        int pageSize, const int* cuSeqlens, const int* ctxLens, const int* seqOf, bf16* out, bf16* outLo,      \
        int heads, int r, int dr, int dqk, int dn, float scale) {                                              \
        mla_attention_body<CT, V>(qa, q, ldq, cache, blockTables, maxPages, pageSize, cuSeqlens, ctxLens,      \
                                  seqOf, out, outLo, heads, r, dr, dqk, dn, scale);                            \
    }
MLA_ATTENTION_ENTRY(mla_absorbed_attention, bf16, 2)
MLA_ATTENTION_ENTRY(mla_absorbed_attention_f32cache, float, 2)
MLA_ATTENTION_ENTRY(mla_absorbed_attention_any, bf16, 1)
MLA_ATTENTION_ENTRY(mla_absorbed_attention_f32cache_any, float, 1)

// Decode, split over the context. qa [N, H, r] bf16: the absorbed queries (the kernel's products
// take bf16 operands, so the absorption product writes them in bf16 and the kernel reads half the
// bytes); q_rot fp32 as in mla_absorbed_attention. Grid (splits, N), 288 threads, one block per SM
// (about 208 KB of shared memory); block (split, s) takes the split-th of `splits` equal runs of rows of
// sequence s's ctxLens[s] + 1 visible rows (its own row written before). With one split the
// block writes out [N, H, r] bf16 itself; otherwise partials: opart [N, splits, H, r]
// unnormalised context, ml [N, splits, H, 2] (running max in log2 units, sum). The pair form
// (sm_90, two slices) merges its two blocks through distributed shared memory instead.
// Needs r % 16 == 0, (r + dr) % 8 == 0, r + dr <= 16 * 4 * MLA_KS, H <= 32.
//
// Warp-specialised: warp 8 only streams tiles of 32 rows into a ring of MLA_STAGES stages (on
// sm_90 one bulk copy per cached row, 1152 contiguous bytes at r + dr = 576, completing on the
// stage's `full` mbarrier; before sm_90 16-byte cp.async arriving on the same barrier) and
// refills a stage as soon as all 8 consumer warps have handed it back (`empty`), so while the
// consumers work on one tile the other stages are all in flight. Consumers: two groups of 4
// warps, group g owning heads 16g .. 16g + 15 of every tile with its own online softmax and
// only named barriers of its 4 warps, so the groups drift freely within the ring.
// Per tile and group, on mma.sync (bf16, fp32 accumulation):
// - scores S^T [32 rows x 16 heads] = C Q^T, the K = r + dr columns split over the 4 warps,
//   each warp's query fragments held in registers for the whole block (loaded once, no
//   shared-memory traffic), partial sums added in the softmax step;
// - online softmax in base 2, 8 threads per head, each owning 4 rows;
// - O^T [r x 16 heads] += C[:, :r]^T P^T, each warp owning every 4th block of 16 columns
//   (A fragments straight from the row-major tile by ldmatrix.trans).
#define MLA_STAGES 5
#define MLA_DT 32                  // rows per tile of the split decode
#define MLA_SPP 36                 // fp32 partial-score pitch (rows of one head)
#define MLA_DPP 40                 // bf16 probability row pitch (conflict-free ldmatrix)
#define MLA_CONSUMERS 256          // two groups of 4 warps
#define MLA_DTHREADS (MLA_CONSUMERS + 32)   // and the loading warp
#define MLA_KS 10                  // k-steps of 16 columns per warp: r + dr <= 640

// The cp.async ring is the path before sm_90; defining MLA_DECODE_CPASYNC takes it on sm_90
// too (to exercise it on Hopper).
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900 && !defined(MLA_DECODE_CPASYNC)
#define MLA_BULK 1
#else
#define MLA_BULK 0
#endif
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
#define MLA_HAS_CLUSTER 1
#define MLA_PAIR_CLUSTER __cluster_dims__(2, 1, 1)
#else
#define MLA_HAS_CLUSTER 0
#define MLA_PAIR_CLUSTER
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
// the same shared-memory address in the cluster's block `rank`
__device__ __forceinline__ unsigned mla_peer_addr(const void* p, int rank) {
    unsigned a = (unsigned)__cvta_generic_to_shared(p), remote = a;
#if MLA_HAS_CLUSTER
    asm volatile("mapa.shared::cluster.u32 %0, %1, %2;\n" : "=r"(remote) : "r"(a), "r"(rank));
#endif
    return remote;
}
__device__ __forceinline__ float4 mla_peer_load4(unsigned addr) {
    float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
#if MLA_HAS_CLUSTER
    asm volatile("ld.shared::cluster.v4.f32 {%0, %1, %2, %3}, [%4];\n"
                 : "=f"(v.x), "=f"(v.y), "=f"(v.z), "=f"(v.w) : "r"(addr) : "memory");
#endif
    return v;
}
__device__ __forceinline__ float mla_peer_load(unsigned addr) {
    float v = 0.f;
#if MLA_HAS_CLUSTER
    asm volatile("ld.shared::cluster.f32 %0, [%1];\n" : "=f"(v) : "r"(addr) : "memory");
#endif
    return v;
}

// Shared-memory bytes of mla_decode_split for a row width of r + dr (the launcher's formula).
__host__ __device__ constexpr int mla_decode_smem(int w) {
    return 2 * (((w + 15) & ~15) + 8) * MLA_STAGES * MLA_DT + 4 * 2 * 4 * 16 * MLA_SPP + 2 * 2 * 16 * MLA_DPP
           + 4 * 32 + 4 * 2 * 32 + 8 * 2 * MLA_STAGES;
}

// R, DR: compile-time shape (0: taken from the arguments). MODE 0: the kernel; 1: the ring
// without the products (the copy side alone); 2: the products without the copies.
// PAIR: two slices in a cluster, merged through distributed shared memory (each block writes half
// of the heads).
// PERSIST: one slice per sequence, block y of G taking the positions y, 2G - 1 - y, 2G + y, ..
// < seqs of `order` (sequence indices, longest context first; null: index order) as one stream
// of tiles through the ring (the loading warp runs on into the next sequence while the consumers
// finish one), each sequence's output written straight from the fragments. Going back and forth
// over a longest-first order pairs long contexts with short ones, so blocks finish together.
template <int R, int DR, int MODE, bool PAIR, bool PERSIST = false>
__device__ __forceinline__ void mla_decode_split_body(
        const bf16* __restrict__ qa, const float* __restrict__ q, long ldq, const bf16* __restrict__ cache,
        const int* __restrict__ blockTables, int maxPages, int pageSize, const int* __restrict__ ctxLens,
        float* __restrict__ opart, float* __restrict__ ml, bf16* __restrict__ out, int heads, int rArg, int drArg,
        int dqk, int dn, float scaleLog2, int seqs = 0, const int* __restrict__ order = nullptr) {
    const int r = R ? R : rArg, dr = R ? DR : drArg;
    const int W = r + dr, Kp = (W + 15) & ~15, P = Kp + 8;
    extern __shared__ __align__(16) unsigned char mla_ds[];
    bf16* Cs = reinterpret_cast<bf16*>(mla_ds);
    float* SpAll = reinterpret_cast<float*>(Cs + MLA_STAGES * MLA_DT * P);
    bf16* PsAll = reinterpret_cast<bf16*>(SpAll + 2 * 4 * 16 * MLA_SPP);
    float* corrAll = reinterpret_cast<float*>(PsAll + 2 * 16 * MLA_DPP);
    float* sM = corrAll + 32;                            // per head: running max (log2 units), sum
    float* sL = sM + 32;
    uint64_t* full = reinterpret_cast<uint64_t*>(sL + 32);
    uint64_t* empty = full + MLA_STAGES;
    const int split = blockIdx.x, splits = gridDim.x, s = blockIdx.y;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    // the k-th sequence this block takes, -1 past its last (positions grow with k)
    auto seqAt = [&](int k) {
        if (!PERSIST) return k == 0 ? s : -1;
        const int G = gridDim.y, pos = k * G + ((k & 1) ? G - 1 - s : s);
        return pos >= seqs ? -1 : order ? __ldg(&order[pos]) : pos;
    };
    // each sequence's own length is cut into `splits` equal runs of rows (tiles need not meet
    // pages: every row is looked up), so the grid can be sized for a bound on the context (a
    // captured graph replays it as contexts grow)
    auto rowRange = [&](int seq, int& j0, int& j1) {
        const int len = ctxLens[seq] + 1, perSplit = (len + splits - 1) / splits;
        j0 = split * perSplit;
        j1 = min(len, j0 + perSplit);
        return j1 > j0 ? (j1 - j0 + MLA_DT - 1) / MLA_DT : 0;
    };
    if (warp == MLA_CONSUMERS / 32 && lane * 32 < maxPages && seqAt(0) >= 0)   // the table row into L2 while the length arrives
        asm volatile("prefetch.global.L2 [%0];\n" :: "l"(blockTables + (long)seqAt(0) * maxPages + lane * 32));

    // pad columns: never written by the tile loads, must not hold NaN patterns
    if (Kp > W) {
        const int pad = max(Kp - W, 1);   // (never 0 here; keeps constant shapes free of a division by 0)
        for (int i = tid; i < MLA_STAGES * MLA_DT * pad; i += blockDim.x) Cs[(i / pad) * P + W + i % pad] = f2bf(0.f);
    }
    if (tid == 0) {
        for (int st = 0; st < MLA_STAGES; st++) {
            mla_bar_init(&full[st], MLA_BULK ? 1 : 32);
            mla_bar_init(&empty[st], MLA_CONSUMERS / 32);
        }
#if MLA_BULK
        asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
#endif
    }
    __syncthreads();

    const int YP = r + 4;   // the merged context [32 heads][YP] fp32 goes through the idle ring at the end
    float* Y = reinterpret_cast<float*>(Cs);
    if (warp == MLA_CONSUMERS / 32) {
        // ---- loading warp: lane i copies row i of each tile; the next tile's row address is
        // read from the block table before waiting for its stage
        int g = 0;   // tiles streamed so far (the ring position)
        for (int k = 0, seq; MODE != 2 && (seq = seqAt(k)) >= 0; k++) {
            int j0, j1;
            const int ntiles = rowRange(seq, j0, j1);
            if (ntiles == 0) continue;
            const int* table = blockTables + (long)seq * maxPages;
            auto rowSrc = [&](int t) {
                const int j = min(j0 + t * MLA_DT + lane, j1 - 1);
                return cache + ((long)__ldg(&table[j / pageSize]) * pageSize + j % pageSize) * W;
            };
            const bf16* next = rowSrc(0);
#if MLA_BULK
            unsigned long long policy;   // rows are read once: first out of L2
            asm volatile("createpolicy.fractional.L2::evict_first.b64 %0, 1.0;\n" : "=l"(policy));
#endif
            for (int t = 0; t < ntiles; t++, g++) {
                const int st = g % MLA_STAGES, rows = min(MLA_DT, j1 - (j0 + t * MLA_DT));
                const bf16* src = next;
                if (t + 1 < ntiles) next = rowSrc(t + 1);
                if (g >= MLA_STAGES) mla_bar_wait(&empty[st], (g / MLA_STAGES - 1) & 1);
                bf16* dst = Cs + st * MLA_DT * P;
#if MLA_BULK
                const unsigned fb = (unsigned)__cvta_generic_to_shared(&full[st]);
                if (lane == 0) {   // a full tile arrives with its bytes; a short one after its zero rows
                    if (rows == MLA_DT)
                        asm volatile("mbarrier.arrive.expect_tx.shared.b64 _, [%0], %1;\n" :: "r"(fb), "r"(rows * W * 2)
                                     : "memory");
                    else
                        asm volatile("mbarrier.expect_tx.relaxed.cta.shared::cta.b64 [%0], %1;\n" :: "r"(fb), "r"(rows * W * 2)
                                     : "memory");
                }
                __syncwarp();
                if (lane < rows) {
                    unsigned d = (unsigned)__cvta_generic_to_shared(dst + lane * P);
                    asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes.L2::cache_hint [%0], [%1], %2, [%3], %4;\n"
                                 :: "r"(d), "l"(src), "r"(W * 2), "r"(fb), "l"(policy) : "memory");
                }
                if (rows < MLA_DT) {
                    // the last tile's rows past the end, up to the rows the consumers read (16 or 32), are
                    // zeros (P is 0 there, and 0 * NaN is not); written while the copies are in flight
                    const int k8 = Kp >> 3, upTo = rows <= MLA_DT / 2 ? MLA_DT / 2 : MLA_DT;
                    for (int i = lane; i < (upTo - rows) * k8; i += 32)
                        *reinterpret_cast<uint4*>(dst + (rows + i / k8) * P + (i % k8) * 8) = make_uint4(0, 0, 0, 0);
                    __syncwarp();
                    if (lane == 0) mla_bar_arrive(&full[st]);
                }
#else
                const int chunks = W >> 3;
                for (int row = 0; row < MLA_DT; row++) {
                    const bf16* rs = reinterpret_cast<const bf16*>(
                            __shfl_sync(0xffffffffu, reinterpret_cast<unsigned long long>(src), row));
                    for (int c = lane; c < chunks; c += 32)   // rows past the end: zero-filled
                        cp_async16(dst + row * P + c * 8, row < rows ? rs + c * 8 : cache, row < rows ? 16 : 0);
                }
                unsigned b = (unsigned)__cvta_generic_to_shared(&full[st]);
                asm volatile("cp.async.mbarrier.arrive.noinc.shared.b64 [%0];\n" :: "r"(b) : "memory");
#endif
            }
        }
    } else {
        // ---- consumers
        const int grp = warp >> 2, wg = warp & 3, gtid = tid & 127, h0 = grp * 16;
        float* Sp = SpAll + grp * 4 * 16 * MLA_SPP;
        bf16* Ps = PsAll + grp * 16 * MLA_DPP;
        float* corrS = corrAll + grp * 16;
        const int sh = gtid >> 3, sq = gtid & 7;   // softmax: head (of the group's 16), rows sq*4 .. sq*4 + 3
        constexpr int QN = R ? ((R + DR + 15) / 16 + 3) / 4 : MLA_KS;   // k-steps per warp (bound)
        const int nks = (Kp / 16 - wg + 3) / 4;
        float mRun = -INFINITY, lRun = 0.f;
        float o[8][2][4];
        int g = 0;   // tiles consumed so far (the ring position)
        for (int k = 0, seq; (seq = seqAt(k)) >= 0; k++) {
        int j0, j1;
        const int ntiles = rowRange(seq, j0, j1);
        // B fragments of Q^T for k-steps wg + 4u: heads h0 + 8n + lane/4, columns (lane%4)*2 (+8)
        unsigned qf[QN][2][2];
#pragma unroll
        for (int u = 0; u < QN; u++)
#pragma unroll
            for (int n = 0; n < 2; n++)
#pragma unroll
                for (int hf = 0; hf < 2; hf++) {
                    const int h = h0 + n * 8 + (lane >> 2), k = (wg + 4 * u) * 16 + (lane & 3) * 2 + hf * 8;
                    unsigned bits = 0u;
                    if (u < nks && h < heads) {
                        if (k < r) {
                            bits = __ldg(reinterpret_cast<const unsigned*>(qa + ((long)seq * heads + h) * r + k));
                        } else if (k < W) {
                            const float* qr = q + (long)seq * ldq + (long)h * dqk + dn + (k - r);
                            __nv_bfloat162 b2 = __floats2bfloat162_rn(qr[0], qr[1]);
                            bits = *reinterpret_cast<unsigned*>(&b2);
                        }
                    }
                    qf[u][n][hf] = bits;
                }
        mRun = -INFINITY;
        lRun = 0.f;
        zero_regs(o);

        for (int it = 0; it < ntiles; it++, g++) {
            const int st = g % MLA_STAGES;
            const int valid = min(MLA_DT, j1 - (j0 + it * MLA_DT));
            const bf16* C = Cs + st * MLA_DT * P;
            if (MODE != 2) mla_bar_wait(&full[st], (g / MLA_STAGES) & 1);
            if (MODE == 1) {
                __syncwarp();
                if (lane == 0) mla_bar_arrive(&empty[st]);
                continue;
            }
            // partial scores over this warp's k-steps; two accumulator sets halve the chains. A short
            // last tile (at most 16 rows) takes its first 16 rows only: the branch sits outside the
            // loops, so a full tile's loop is the same code as without it
            auto scoreTile = [&](auto rowBlocks) {
                constexpr int MB = decltype(rowBlocks)::value;
                float acc[2][2][2][4];
                zero_regs(acc);
#pragma unroll
                for (int u = 0; u < QN; u++) {
                    if (R ? (u * 4 + wg < (R + DR + 15) / 16) : u < nks) {
                        const int kk = (wg + 4 * u) * 16;
                        unsigned a[MB][4];
#pragma unroll
                        for (int m = 0; m < MB; m++) ldmatrix_x4(a[m], &C[(16 * m + (lane & 15)) * P + kk + (lane >> 4) * 8]);
#pragma unroll
                        for (int n = 0; n < 2; n++)
#pragma unroll
                            for (int m = 0; m < MB; m++) mma_bf16_16816(acc[u & 1][m][n], a[m], qf[u][n]);
                    }
                }
                float* mine = Sp + wg * 16 * MLA_SPP;
#pragma unroll
                for (int m = 0; m < 2; m++)
#pragma unroll
                    for (int n = 0; n < 2; n++)
#pragma unroll
                        for (int e = 0; e < 4; e++)
                            mine[(n * 8 + (lane & 3) * 2 + (e & 1)) * MLA_SPP + m * 16 + (lane >> 2) + (e >> 1) * 8] =
                                acc[0][m][n][e] + acc[1][m][n][e];
            };
            if (valid > 16) scoreTile(ConstCount<2>{});
            else scoreTile(ConstCount<1>{});
            mla_named_bar(1 + grp, 128);
            {   // online softmax: head h0 + sh, rows sq*4 .. sq*4 + 3
                float x[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
                for (int w = 0; w < 4; w++) {
                    const float4 u = *reinterpret_cast<const float4*>(&Sp[(w * 16 + sh) * MLA_SPP + sq * 4]);
                    x[0] += u.x; x[1] += u.y; x[2] += u.z; x[3] += u.w;
                }
                float mx = -INFINITY;
#pragma unroll
                for (int i = 0; i < 4; i++) {
                    x[i] = sq * 4 + i < valid ? x[i] * scaleLog2 : -INFINITY;
                    mx = fmaxf(mx, x[i]);
                }
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 4));
                const float mNew = fmaxf(mRun, mx);   // finite: row 0 of a tile is always valid
                const float corr = exp2f(mRun - mNew);
                const __nv_bfloat162 p01 = __floats2bfloat162_rn(exp2f(x[0] - mNew), exp2f(x[1] - mNew));
                const __nv_bfloat162 p23 = __floats2bfloat162_rn(exp2f(x[2] - mNew), exp2f(x[3] - mNew));
                const float2 f01 = __bfloat1622float2(p01), f23 = __bfloat1622float2(p23);
                float sum = (f01.x + f01.y) + (f23.x + f23.y);   // the probabilities the products use
                *reinterpret_cast<uint2*>(&Ps[sh * MLA_DPP + sq * 4]) =
                        make_uint2(*reinterpret_cast<const unsigned*>(&p01), *reinterpret_cast<const unsigned*>(&p23));
                sum += __shfl_xor_sync(0xffffffffu, sum, 1);
                sum += __shfl_xor_sync(0xffffffffu, sum, 2);
                sum += __shfl_xor_sync(0xffffffffu, sum, 4);
                lRun = lRun * corr + sum;
                mRun = mNew;
                if (sq == 0) corrS[sh] = corr;
            }
            mla_named_bar(1 + grp, 128);
            {   // O^T = O^T diag(corr) + C[:, :r]^T P^T: columns (wg + 4i)*16.., the group's 16 heads
                float cr[2][2];
#pragma unroll
                for (int n = 0; n < 2; n++) {
                    const float2 c2 = *reinterpret_cast<const float2*>(&corrS[n * 8 + (lane & 3) * 2]);
                    cr[n][0] = c2.x;
                    cr[n][1] = c2.y;
                }
                if (__any_sync(0xffffffffu, cr[0][0] != 1.f || cr[0][1] != 1.f || cr[1][0] != 1.f || cr[1][1] != 1.f)) {
#pragma unroll
                    for (int i = 0; i < 8; i++)
#pragma unroll
                        for (int n = 0; n < 2; n++) {
                            o[i][n][0] *= cr[n][0]; o[i][n][1] *= cr[n][1]; o[i][n][2] *= cr[n][0]; o[i][n][3] *= cr[n][1];
                        }
                }
                auto contextTile = [&](auto rowBlocks) {   // a short last tile: its first 16 rows
#pragma unroll
                for (int kk = 0; kk < 16 * decltype(rowBlocks)::value; kk += 16) {
                    unsigned pb[4];
                    ldmatrix_x4(pb, &Ps[((lane & 7) + ((lane >> 4) << 3)) * MLA_DPP + kk + ((lane >> 3) & 1) * 8]);
                    const unsigned bb[2][2] = {{pb[0], pb[1]}, {pb[2], pb[3]}};
#pragma unroll
                    for (int i = 0; i < 8; i++) {
                        const int n0 = (wg + 4 * i) * 16;
                        if (n0 < r) {
                            unsigned a[4];
                            ldmatrix_x4_trans(a, &C[(kk + (lane & 7) + ((lane >> 4) << 3)) * P + n0 + ((lane >> 3) & 1) * 8]);
                            mma_bf16_16816(o[i][0], a, bb[0]);
                            mma_bf16_16816(o[i][1], a, bb[1]);
                        }
                    }
                }
                };
                if (valid > 16) contextTile(ConstCount<2>{});
                else contextTile(ConstCount<1>{});
            }
            __syncwarp();
            if (lane == 0) mla_bar_arrive(&empty[st]);
        }
        if (PERSIST) {   // this sequence's output from the fragments (the ring is still streaming)
            if (sq == 0) sL[h0 + sh] = lRun;
            mla_named_bar(1 + grp, 128);
            float inv[2][2];
#pragma unroll
            for (int n = 0; n < 2; n++)
#pragma unroll
                for (int e = 0; e < 2; e++) inv[n][e] = 1.f / sL[h0 + n * 8 + (lane & 3) * 2 + e];
#pragma unroll
            for (int i = 0; i < 8; i++) {
                const int n0 = (wg + 4 * i) * 16;
                if (n0 < r)
#pragma unroll
                    for (int n = 0; n < 2; n++)
#pragma unroll
                        for (int e = 0; e < 4; e++) {
                            const int h = h0 + n * 8 + (lane & 3) * 2 + (e & 1);
                            if (h < heads)
                                out[((long)seq * heads + h) * r + n0 + (lane >> 2) + (e >> 1) * 8] =
                                    f2bf(o[i][n][e] * inv[n][e & 1]);
                        }
            }
        }
        }   // sequences
        if (PERSIST) return;
        if (sq == 0) {
            sM[h0 + sh] = mRun;
            sL[h0 + sh] = lRun;
        }
        mla_named_bar(3, MLA_CONSUMERS);   // both groups are done with the ring
#pragma unroll
        for (int i = 0; i < 8; i++) {
            const int n0 = (wg + 4 * i) * 16;
            if (n0 < r)
#pragma unroll
                for (int n = 0; n < 2; n++)
#pragma unroll
                    for (int e = 0; e < 4; e++)
                        Y[(h0 + n * 8 + (lane & 3) * 2 + (e & 1)) * YP + n0 + (lane >> 2) + (e >> 1) * 8] = o[i][n][e];
        }
        mla_named_bar(3, MLA_CONSUMERS);
    }

    if (PERSIST) return;
    auto storeOut = [&](int h, int c, float4 u0, float4 u1, float inv) {
        __nv_bfloat162 w0 = __floats2bfloat162_rn(u0.x * inv, u0.y * inv), w1 = __floats2bfloat162_rn(u0.z * inv, u0.w * inv),
                       w2 = __floats2bfloat162_rn(u1.x * inv, u1.y * inv), w3 = __floats2bfloat162_rn(u1.z * inv, u1.w * inv);
        *reinterpret_cast<uint4*>(&out[((long)s * heads + h) * r + c]) =
            make_uint4(*reinterpret_cast<unsigned*>(&w0), *reinterpret_cast<unsigned*>(&w1),
                       *reinterpret_cast<unsigned*>(&w2), *reinterpret_cast<unsigned*>(&w3));
    };
    const int r8 = r >> 3;
    if (PAIR) {   // each block of the pair merges half of the heads, reading the other's context and statistics
        cluster_barrier();
        if (tid < MLA_CONSUMERS) {
            const int peer = split ^ 1, hBegin = split * ((heads + 1) / 2), hEnd = min(heads, hBegin + (heads + 1) / 2);
            const unsigned peerY = mla_peer_addr(Y, peer), peerM = mla_peer_addr(sM, peer), peerL = mla_peer_addr(sL, peer);
            const int items = (hEnd - hBegin) * r8;
            // four items a thread, every peer load issued before any is used
            for (int i0 = 0; i0 < items; i0 += 4 * MLA_CONSUMERS) {
                float4 a[4][2], b[4][2];
                float m1[4], l1[4];
#pragma unroll
                for (int u = 0; u < 4; u++) {
                    const int i = i0 + tid + u * MLA_CONSUMERS, h = hBegin + min(i, items - 1) / r8, c = (min(i, items - 1) % r8) * 8;
                    b[u][0] = mla_peer_load4(peerY + 4 * (h * YP + c));
                    b[u][1] = mla_peer_load4(peerY + 4 * (h * YP + c + 4));
                    m1[u] = mla_peer_load(peerM + 4 * h);
                    l1[u] = mla_peer_load(peerL + 4 * h);
                    a[u][0] = *reinterpret_cast<const float4*>(&Y[h * YP + c]);
                    a[u][1] = *reinterpret_cast<const float4*>(&Y[h * YP + c + 4]);
                }
#pragma unroll
                for (int u = 0; u < 4; u++) {
                    const int i = i0 + tid + u * MLA_CONSUMERS;
                    if (i >= items) break;
                    const int h = hBegin + i / r8, c = (i % r8) * 8;
                    const float m0 = sM[h], M = fmaxf(m0, m1[u]);
                    const float f0 = m0 == -INFINITY ? 0.f : exp2f(m0 - M), f1 = m1[u] == -INFINITY ? 0.f : exp2f(m1[u] - M);
                    const float inv = 1.f / (sL[h] * f0 + l1[u] * f1);
                    const float4 a0 = a[u][0], a1 = a[u][1], b0 = b[u][0], b1 = b[u][1];
                    storeOut(h, c,
                             make_float4(a0.x * f0 + b0.x * f1, a0.y * f0 + b0.y * f1, a0.z * f0 + b0.z * f1, a0.w * f0 + b0.w * f1),
                             make_float4(a1.x * f0 + b1.x * f1, a1.y * f0 + b1.y * f1, a1.z * f0 + b1.z * f1, a1.w * f0 + b1.w * f1),
                             inv);
                }
            }
        }
        cluster_barrier();   // each block's shared memory stays until the other has read it
        return;
    }
    if (tid >= MLA_CONSUMERS) return;
    if (splits == 1) {   // the whole context in this block: normalise and write the output
        for (int i = tid; i < heads * r8; i += MLA_CONSUMERS) {
            const int h = i / r8, c = (i % r8) * 8;
            storeOut(h, c, *reinterpret_cast<const float4*>(&Y[h * YP + c]),
                     *reinterpret_cast<const float4*>(&Y[h * YP + c + 4]), 1.f / sL[h]);
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
        ml[(pb + tid) * 2] = sM[tid];
        ml[(pb + tid) * 2 + 1] = sL[tid];
    }
}

#define MLA_DECODE_ARGS                                                                                        \
    const bf16 *__restrict__ qa, const float *__restrict__ q, long ldq, const bf16 *__restrict__ cache,       \
        const int *__restrict__ blockTables, int maxPages, int pageSize, const int *__restrict__ ctxLens,      \
        float *__restrict__ opart, float *__restrict__ ml, bf16 *__restrict__ out, int heads, int r, int dr,   \
        int dqk, int dn, float scaleLog2
#define MLA_DECODE_PASS qa, q, ldq, cache, blockTables, maxPages, pageSize, ctxLens, opart, ml, out, heads, r, dr, dqk, dn, scaleLog2

extern "C" __global__ void __launch_bounds__(MLA_DTHREADS, 1) mla_decode_split(MLA_DECODE_ARGS) {
    if (r == 512 && dr == 64)   // Kimi-Linear's shape, fully unrolled
        mla_decode_split_body<512, 64, 0, false>(MLA_DECODE_PASS);
    else
        mla_decode_split_body<0, 0, 0, false>(MLA_DECODE_PASS);
}

// One slice per sequence, grid (1, G) with G < seqs: block y takes positions y, 2G - 1 - y,
// 2G + y, .. of `order` (longest first; null: index order), for more sequences than
// multiprocessors: no second wave of block start-ups.
extern "C" __global__ void __launch_bounds__(MLA_DTHREADS, 1) mla_decode_split_persist(MLA_DECODE_ARGS, int seqs,
                                                                                    const int* __restrict__ order) {
    if (r == 512 && dr == 64)
        mla_decode_split_body<512, 64, 0, false, true>(MLA_DECODE_PASS, seqs, order);
    else
        mla_decode_split_body<0, 0, 0, false, true>(MLA_DECODE_PASS, seqs, order);
}

// Two slices per sequence (grid (2, N)) as a cluster: block 0 writes the merged output, no
// partials and no merge kernel. sm_90 only (the launcher takes it there).
extern "C" __global__ void MLA_PAIR_CLUSTER __launch_bounds__(MLA_DTHREADS, 1) mla_decode_split_pair(MLA_DECODE_ARGS) {
#if MLA_HAS_CLUSTER
    if (r == 512 && dr == 64)
        mla_decode_split_body<512, 64, 0, true>(MLA_DECODE_PASS);
    else
        mla_decode_split_body<0, 0, 0, true>(MLA_DECODE_PASS);
#else
    __trap();
#endif
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
