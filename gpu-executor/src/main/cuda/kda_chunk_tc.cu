// KDA chunkwise prefill on the tensor cores (chunk C = 64, sub-chunks of 16): bf16 operands,
// fp32 accumulation, fp32 state. Two stages over sequences packed with offsets.
//
// kda_chunk_intra, a block per (head, chunk) (grid x heads, y chunks), all chunks at once, from
// q, k, v in bf16 and the log decay g and beta in fp32 (the cumulative gate needs fp32):
//   G = cumsum(g) within the chunk, in fp32. The scores
//     Akk[i,j] = beta_i sum_c k_ic k_jc e^(G_ic - G_jc)  (j < i)
//     Aqk[i,j] =        sum_c q_ic k_jc e^(G_ic - G_jc)  (j <= i)
//   are products whose decay is split at r, the first row of row i's sub-chunk:
//   e^(G_i - G_j) = e^(G_i - G_r) e^(G_r - G_j). For j in an earlier sub-chunk both factors are
//   at most 1 (g is a log decay, g <= 0), so no decay, however strong, overflows. Inside the
//   diagonal sub-chunk the right factor grows up to e^(G_r - G_j); a channel whose range there
//   exceeds KDA_SAFE_RANGE is left out of that product and its terms are added pairwise.
//   T = (I + Akk)^-1 in fp32: the four 16x16 diagonal blocks by forward substitution, then the
//   off-diagonal blocks level by level, T_IJ = -T_II sum_K Akk_IK T_KJ, on the tensor cores (split tf32).
//   W = T (beta k e^G) and U = T (beta v) on the tensor cores.
//   Outputs (bf16): W, U, Qg = q e^G, Kd = k e^(G_last - G) [64, D], Aqk [64, 64]; gl = e^G_last (fp32),
//   in the layout of KdaScratch.
// kda_chunk_recur, a block per (sequence, head, 32 value columns), chunk after chunk
// (kda_chunk_recur_wide: 64 columns a block, two slices sharing each chunk's tiles):
//   V' = U - W S;  O = Qg S + Aqk V';  S <- diag(gl) S + Kd^T V'.
//   S lives in fp32 registers (the accumulators of its own update); a bf16 copy in shared memory
//   feeds the products. The next chunk's tiles stream in while this one computes.
#include "common.cuh"

#define KDA_TC_C 64
// Largest |G_i - G_r| inside a sub-chunk for which both factors stay normal fp32/bf16 numbers.
#define KDA_SAFE_RANGE 60.f
#define KDA_LOG2E 1.4426950408889634f
#define KDA_INTRA_THREADS 512

__device__ __forceinline__ unsigned pack_bf16(float a, float b) {
    __nv_bfloat162 v = __floats2bfloat162_rn(a, b);
    return *reinterpret_cast<unsigned*>(&v);
}

__device__ __forceinline__ void store_bf16x4(bf16* p, float a, float b, float c, float d) {
    uint2 v = make_uint2(pack_bf16(a, b), pack_bf16(c, d));
    *reinterpret_cast<uint2*>(p) = v;
}

// 2^x in one instruction (the intra stage keeps its gates in log2 units); results below 2^-126,
// decays that small, flush to 0
__device__ __forceinline__ float kda_exp2(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
    return y;
}

// d += a b on the tensor cores, tf32 operands (m16n8k8), fp32 accumulation
__device__ __forceinline__ void mma_tf32_1688(float* d, const unsigned* a, const unsigned* b) {
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// x as a pair of tf32 operands hi + lo: hi keeps x's top 10 fraction bits, lo = x - hi exactly (the
// tensor core reads its top 10): three products hi hi + hi lo + lo hi carry about fp32's precision
__device__ __forceinline__ void kda_tf32x2(float x, unsigned& hi, unsigned& lo) {
    hi = __float_as_uint(x) & 0xffffe000u;
    lo = __float_as_uint(x - __uint_as_float(hi));
}

// d += a b with a, b as hi + lo tf32 pairs (the lo lo term is below fp32's rounding); the small
// terms go to their own accumulator, so the three products are two short chains
__device__ __forceinline__ void mma_tf32x3(float* d, float* dSmall, const float* a, const float* b) {
    unsigned ah[4], al[4], bh[2], bl[2];
#pragma unroll
    for (int i = 0; i < 4; i++) kda_tf32x2(a[i], ah[i], al[i]);
#pragma unroll
    for (int i = 0; i < 2; i++) kda_tf32x2(b[i], bh[i], bl[i]);
    mma_tf32_1688(dSmall, al, bh);
    mma_tf32_1688(d, ah, bh);
    mma_tf32_1688(dSmall, ah, bl);
}

__device__ __forceinline__ void mma_pair(float (*acc)[4], const unsigned* a, const unsigned* b4) {
    mma_bf16_16816(acc[0], a, b4);
    mma_bf16_16816(acc[1], a, b4 + 2);
}

// The stages' scratch, per (chunk, head): a record [W | Qg | Kd | Aqk | gl] that the recurrence
// moves into shared memory as it is (one bulk copy), and U as D / 32 column slices [64][32], each
// contiguous (a recurrence block takes its own). Rows are dense; their 16-byte pieces are permuted
// (XOR with bits of the row) so that ldmatrix reads of 8 rows at one logical piece fall in 8
// different bank groups. Every byte is written, so no 32-byte sector is left partly written.
template <int D>
struct KdaScratch {
    static constexpr int OFF_W = 0;   // byte offsets in a record
    static constexpr int OFF_Q = 2 * 64 * D;
    static constexpr int OFF_K = 4 * 64 * D;
    static constexpr int OFF_A = 6 * 64 * D;
    static constexpr int OFF_GL = OFF_A + 2 * 64 * 64;
    static constexpr int REC = OFF_GL + 4 * D;   // bytes of a record
    static constexpr int USLICE = 2 * 64 * 32;   // bytes of one U slice
    static constexpr int UREC = (D / 32) * USLICE;
    static_assert(REC % 16 == 0, "bulk copies move multiples of 16 bytes");
    // offset (elements) of row i, column j in a [64][COLS] bf16 tile
    template <int COLS>
    static __device__ __forceinline__ int at(int i, int j) {
        constexpr int P = COLS / 8;   // pieces per row
        static_assert(P == 4 || P % 8 == 0, "rows of 4 or a multiple of 8 pieces");
        const int piece = (j >> 3) ^ (P >= 8 ? (i & 7) : ((i >> 1) & 3));
        return i * COLS + piece * 8 + (j & 7);
    }
};

// q, k and v reach the intra stage in bf16 (the form's products take bf16 operands anyway): half
// the bytes of fp32, and half the registers that hold each thread's loads in flight. Four
// consecutive channels travel as one uint2.
__device__ __forceinline__ uint2 kda_load_bf16x4(const bf16* p) { return __ldg(reinterpret_cast<const uint2*>(p)); }
__device__ __forceinline__ float4 kda_bf16x4_f4(uint2 x) {   // a bf16 is the top half of its fp32
    return make_float4(__uint_as_float(x.x << 16), __uint_as_float(x.x & 0xffff0000u), __uint_as_float(x.y << 16),
                       __uint_as_float(x.y & 0xffff0000u));
}

template <int D>
struct KdaIntraLayout {
    static constexpr int PW = D < 64 ? D : 64;   // channels per score pass
    static constexpr int TP = PW + 8;            // score tile pitch (halves)
    static constexpr int SP = D + 8;             // W/U source pitch (halves)
    static constexpr int GP = D + 4;             // cumulative gate pitch (floats)
    static constexpr int TILE_HALVES_SCORES = 288 * TP;
    static constexpr int TILE_HALVES_SOURCES = 128 * SP;
    static constexpr int TILE_BYTES_INV = 4 * (64 * 65 + 6 * 16 * 8);   // T (fp32) and six warps' Z corners
    static constexpr int TILE_BYTES_A = 2 * (TILE_HALVES_SCORES > TILE_HALVES_SOURCES ? TILE_HALVES_SCORES
                                                                                      : TILE_HALVES_SOURCES);
    static constexpr int TILE_BYTES = TILE_BYTES_A > TILE_BYTES_INV ? TILE_BYTES_A : TILE_BYTES_INV;
    static constexpr int OFF_G = 0;
    static constexpr int OFF_AKK = OFF_G + 4 * 64 * GP;
    static constexpr int OFF_CORR = OFF_AKK + 4 * 64 * 65;          // [2][4][16][16] diagonal corrections
    static constexpr int OFF_TB = OFF_CORR + 4 * 2 * 4 * 256;       // bf16 T [64][72]
    static constexpr int OFF_TILE = OFF_TB + 2 * 64 * 72;
    static constexpr int OFF_BETA = OFF_TILE + TILE_BYTES;
    static constexpr int OFF_WIDE = OFF_BETA + 4 * 64;              // [4][D] bytes
    static constexpr int OFF_COUNT = OFF_WIDE + 4 * D;
    static constexpr int BYTES = OFF_COUNT + 16;
    // per-group gate sums of the cumulative sum, in the tile area (used before the first pass)
    static_assert(16 * KDA_INTRA_THREADS <= TILE_BYTES, "gate partial sums exceed the tile area");
};

template <int D>
__device__ __forceinline__ void kda_chunk_intra_body(const bf16* __restrict__ q, const bf16* __restrict__ k,
                                                     const bf16* __restrict__ v, const float* __restrict__ g,
                                                     const float* __restrict__ beta, const int* __restrict__ chunks,
                                                     int heads, unsigned char* __restrict__ rec, bf16* __restrict__ Uo) {
    using L = KdaIntraLayout<D>;
    using X = KdaScratch<D>;
    constexpr int NT = KDA_INTRA_THREADS;
    constexpr int PW = L::PW, TP = L::TP, SP = L::SP, GP = L::GP;
    constexpr int GI = 64 * D / 4 / NT;    // rows of g per thread (consecutive, one float4 of channels)
    constexpr int PI = 64 * PW / 4 / NT;   // float4 of q (and of k) per thread and pass
    constexpr int SI = (GI + 1) / 2;       // float4 of k (and of v) per thread and half
    static_assert(GI >= 1 && PI >= 1, "too many threads for this head dim");
    extern __shared__ __align__(16) unsigned char ki_smem[];
    float* sG = reinterpret_cast<float*>(ki_smem + L::OFF_G);
    float* sAkk = reinterpret_cast<float*>(ki_smem + L::OFF_AKK);
    float* sCorr = reinterpret_cast<float*>(ki_smem + L::OFF_CORR);
    bf16* sTb = reinterpret_cast<bf16*>(ki_smem + L::OFF_TB);
    bf16* tile = reinterpret_cast<bf16*>(ki_smem + L::OFF_TILE);
    float* sPart = reinterpret_cast<float*>(ki_smem + L::OFF_TILE);      // aliases the tiles
    float* sT = reinterpret_cast<float*>(ki_smem + L::OFF_TILE);         // aliases the tiles
    float* sZ = sT + 64 * 65;
    float* sBeta = reinterpret_cast<float*>(ki_smem + L::OFF_BETA);
    unsigned char* sWide = ki_smem + L::OFF_WIDE;
    int* sCount = reinterpret_cast<int*>(ki_smem + L::OFF_COUNT);

    // heads fastest: the blocks resident together read whole rows [H, D] of the same chunks, so
    // memory sees long runs instead of one head's 512-byte pieces 16 KB apart
    const int h = blockIdx.x, c = blockIdx.y;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int gq = lane >> 2, tq = lane & 3;
    const int t0 = chunks[2 * c], len = chunks[2 * c + 1];
    const long base = (long)c * heads + h;
    const long rowStride = (long)heads * D;
    const long row0 = ((long)t0 * heads + h) * D;   // element offset of row 0 of this chunk and head
    unsigned char* const myRec = rec + base * X::REC;
    bf16* const Wo = reinterpret_cast<bf16*>(myRec + X::OFF_W);
    bf16* const Qgo = reinterpret_cast<bf16*>(myRec + X::OFF_Q);
    bf16* const Kdo = reinterpret_cast<bf16*>(myRec + X::OFF_K);
    bf16* const Aqko = reinterpret_cast<bf16*>(myRec + X::OFF_A);
    float* const glo = reinterpret_cast<float*>(myRec + X::OFF_GL);
    bf16* const Ub = Uo + base * (X::UREC / 2);

    // every global load of a thread is issued before the first use: the next phase's loads go out
    // as soon as the registers they land in are consumed, so each block waits on few round trips
    const float4 zero4 = make_float4(0.f, 0.f, 0.f, 0.f);
    const uint2 zero2 = make_uint2(0u, 0u);
    uint2 qv[PI], kv[PI];
    auto loadPassPart = [&](int pass, int u) {
        const int idx = tid + u * NT, i = idx / (PW / 4), d = pass * PW + (idx % (PW / 4)) * 4;
        qv[u] = zero2;
        kv[u] = zero2;
        if (i < len) {
            qv[u] = kda_load_bf16x4(q + row0 + i * rowStride + d);
            kv[u] = kda_load_bf16x4(k + row0 + i * rowStride + d);
        }
    };
    auto loadPass = [&](int pass) {
#pragma unroll
        for (int u = 0; u < PI; u++) loadPassPart(pass, u);
    };
    uint2 sk4[SI], sv4[SI];
    auto loadSourcesPart = [&](int half, int u) {
        const int idx = tid + (half * SI + u) * NT, i = idx / (D / 4), d = (idx % (D / 4)) * 4;
        sk4[u] = zero2;
        sv4[u] = zero2;
        if (i < len) {
            sk4[u] = kda_load_bf16x4(k + row0 + i * rowStride + d);
            sv4[u] = kda_load_bf16x4(v + row0 + i * rowStride + d);
        }
    };
    // cumulative gate: a thread owns GI consecutive rows of one float4 of channels, sums them in
    // registers, and adds the totals of the row groups before its own
    const int quad = tid % (D / 4), grp = tid / (D / 4), dq = 4 * quad;
    float4 gv[GI];
#pragma unroll
    for (int u = 0; u < GI; u++) {
        const int i = grp * GI + u;
        gv[u] = i < len ? __ldg(reinterpret_cast<const float4*>(g + row0 + i * rowStride + dq)) : zero4;
    }
    loadPass(0);
    if (tid < 64) sBeta[tid] = tid < len ? beta[(long)(t0 + tid) * heads + h] : 0.f;
    if (tid < 4) sCount[tid] = 0;
#pragma unroll
    for (int u = 0; u < GI; u++) {   // log2 units: every decay factor below is one ex2
        gv[u].x *= KDA_LOG2E; gv[u].y *= KDA_LOG2E; gv[u].z *= KDA_LOG2E; gv[u].w *= KDA_LOG2E;
    }
#pragma unroll
    for (int u = 1; u < GI; u++) {
        gv[u].x += gv[u - 1].x; gv[u].y += gv[u - 1].y; gv[u].z += gv[u - 1].z; gv[u].w += gv[u - 1].w;
    }
    *reinterpret_cast<float4*>(sPart + grp * D + dq) = gv[GI - 1];
    __syncthreads();
    {
        float4 pre = zero4;
        for (int p = 0; p < grp; p++) {
            const float4 t = *reinterpret_cast<const float4*>(sPart + p * D + dq);
            pre.x += t.x; pre.y += t.y; pre.z += t.z; pre.w += t.w;
        }
#pragma unroll
        for (int u = 0; u < GI; u++) {
            float4 x = gv[u];
            x.x += pre.x; x.y += pre.y; x.z += pre.z; x.w += pre.w;
            *reinterpret_cast<float4*>(sG + (grp * GI + u) * GP + dq) = x;
            if (grp * GI + u == 63)
                *reinterpret_cast<float4*>(glo + dq) =
                    make_float4(kda_exp2(x.x), kda_exp2(x.y), kda_exp2(x.z), kda_exp2(x.w));
        }
    }
    __syncthreads();
    for (int p = tid; p < 4 * D; p += NT) {
        const int I = p / D, d = p % D;
        const float r0 = sG[16 * I * GP + d];
        float m = 0.f;
        for (int r = 1; r < 16; r++) m = fmaxf(m, fabsf(sG[(16 * I + r) * GP + d] - r0));
        const bool wide = !(m <= KDA_SAFE_RANGE * KDA_LOG2E);
        sWide[I * D + d] = wide;
        if (wide) atomicAdd(&sCount[I], 1);
    }
    __syncthreads();

    // pairwise terms of the wide channels of each diagonal sub-chunk (rare: a decay beyond e^-60
    // within 16 tokens); these are the only elementwise exponentials per pair
    // (sCorr is read only when some channel is wide, so it is written only then: every entry on or
    // below each diagonal block's diagonal, the others are masked by selects)
    const bool anyWide = sCount[0] + sCount[1] + sCount[2] + sCount[3] > 0;
    if (anyWide) {
        for (int p = tid; p < 4 * 136; p += NT) {
            int I = p / 136, e = p % 136, r = 0;
            while (e > r) { e -= r + 1; r++; }
            const int s = e, i = 16 * I + r, j = 16 * I + s;
            const bf16* qi = q + row0 + i * rowStride;
            const bf16* ki = k + row0 + i * rowStride;
            const bf16* kj = k + row0 + j * rowStride;
            float sq = 0.f, sk = 0.f;
            for (int d = 0; d < D && sCount[I] > 0 && i < len; d++) {
                if (!sWide[I * D + d]) continue;
                float x = kda_exp2(sG[i * GP + d] - sG[j * GP + d]) * bf2f(kj[d]);
                sq = fmaf(bf2f(qi[d]), x, sq);
                sk = fmaf(bf2f(ki[d]), x, sk);
            }
            sCorr[(I * 16 + r) * 16 + s] = sk;
            sCorr[4 * 256 + (I * 16 + r) * 16 + s] = sq;
        }
    }

    // score products: warp (I = (warp / 2) % 4) takes row block I against column blocks 0..I of its
    // half (warp / 8) of the columns, for Akk (even warps, left operand k) or Aqk (odd, left operand q)
    const int bI = (warp >> 1) & 3, isQ = warp & 1, nh = warp >> 3;
    float acc[4][4];
    zero_regs(acc);
    // tile rows: QL 0..63, KL 64..127, KR_I at 128 + 8 I (I + 1) holding rows 0 .. 16 I + 15
    for (int pass = 0; pass < D / PW; pass++) {
        __syncthreads();
#pragma unroll
        for (int u = 0; u < PI; u++) {
            const int idx = tid + u * NT;
            const int i = idx / (PW / 4), cl = (idx % (PW / 4)) * 4, d = pass * PW + cl;
            const int I0 = i >> 4;
            const float4 qx = kda_bf16x4_f4(qv[u]), kx = kda_bf16x4_f4(kv[u]);
            const float4 G = *reinterpret_cast<const float4*>(sG + i * GP + d);
            const float4 Gr = *reinterpret_cast<const float4*>(sG + 16 * I0 * GP + d);
            const float4 Gl = *reinterpret_cast<const float4*>(sG + 63 * GP + d);
            float a0 = kda_exp2(G.x - Gr.x), a1 = kda_exp2(G.y - Gr.y), a2 = kda_exp2(G.z - Gr.z), a3 = kda_exp2(G.w - Gr.w);
            store_bf16x4(tile + i * TP + cl, qx.x * a0, qx.y * a1, qx.z * a2, qx.w * a3);
            store_bf16x4(tile + (64 + i) * TP + cl, kx.x * a0, kx.y * a1, kx.z * a2, kx.w * a3);
            const int o = X::template at<D>(i, d);
#pragma unroll
            for (int I = 0; I < 4; I++) {
                if (I < I0) continue;
                const float4 Gi = *reinterpret_cast<const float4*>(sG + 16 * I * GP + d);
                float e0 = kda_exp2(Gi.x - G.x), e1 = kda_exp2(Gi.y - G.y), e2 = kda_exp2(Gi.z - G.z), e3 = kda_exp2(Gi.w - G.w);
                if (I == I0) {
                    const unsigned char* w = sWide + I * D + d;
                    e0 = w[0] ? 0.f : e0; e1 = w[1] ? 0.f : e1; e2 = w[2] ? 0.f : e2; e3 = w[3] ? 0.f : e3;
                }
                store_bf16x4(tile + (128 + 8 * I * (I + 1) + i) * TP + cl, kx.x * e0, kx.y * e1, kx.z * e2, kx.w * e3);
            }
            store_bf16x4(Qgo + o, qx.x * kda_exp2(G.x), qx.y * kda_exp2(G.y), qx.z * kda_exp2(G.z), qx.w * kda_exp2(G.w));
            store_bf16x4(Kdo + o, kx.x * kda_exp2(Gl.x - G.x), kx.y * kda_exp2(Gl.y - G.y), kx.z * kda_exp2(Gl.z - G.z),
                         kx.w * kda_exp2(Gl.w - G.w));
            if (pass + 1 < D / PW) loadPassPart(pass + 1, u);
        }
        if (pass + 1 == D / PW) {
#pragma unroll
            for (int u = 0; u < SI; u++) loadSourcesPart(0, u);
        }
        __syncthreads();
        const int arow = (isQ ? 0 : 64) + 16 * bI;
        const int brow = 128 + 8 * bI * (bI + 1);
#pragma unroll
        for (int kk = 0; kk < PW; kk += 16) {
            unsigned a[4];
            ldmatrix_x4(a, tile + (arow + (lane & 15)) * TP + kk + (lane >> 4) * 8);
#pragma unroll
            for (int npl = 0; npl < 2; npl++) {
                const int np = 2 * nh + npl;
                if (np > bI) continue;
                unsigned b[4];
                ldmatrix_x4(b, tile + (brow + np * 16 + (lane & 7) + (lane >> 4) * 8) * TP + kk + ((lane >> 3) & 1) * 8);
                mma_pair(&acc[2 * npl], a, b);
            }
        }
    }
    __syncthreads();
    // masked stores: Akk (times beta_i, strictly lower) to shared memory, Aqk (lower) to global
#pragma unroll
    for (int ntl = 0; ntl < 4; ntl++) {
        const int nt = 4 * nh + ntl;
#pragma unroll
        for (int hh = 0; hh < 2; hh++) {
            const int i = 16 * bI + gq + 8 * hh, j = 8 * nt + 2 * tq;
            float x0 = acc[ntl][2 * hh], x1 = acc[ntl][2 * hh + 1];
            if ((nt >> 1) > bI) { x0 = 0.f; x1 = 0.f; }
            if ((nt >> 1) == bI && anyWide) {
                const float* corr = sCorr + (isQ ? 4 * 256 : 0) + (bI * 16 + (i & 15)) * 16 + (j & 15);
                x0 += corr[0];
                x1 += corr[1];
            }
            if (isQ) {
                x0 = j <= i ? x0 : 0.f;
                x1 = j + 1 <= i ? x1 : 0.f;
                *reinterpret_cast<unsigned*>(Aqko + X::template at<64>(i, j)) = pack_bf16(x0, x1);
            } else {
                const float b = sBeta[i];
                sAkk[i * 65 + j] = j < i ? b * x0 : 0.f;
                sAkk[i * 65 + j + 1] = j + 1 < i ? b * x1 : 0.f;
            }
        }
    }
    __syncthreads();

    // T = (I + Akk)^-1: diagonal blocks, a thread per (block, column)
    if (tid < 64) {
        const int b = tid >> 4, col = tid & 15;
        float x[16];
#pragma unroll
        for (int r = 0; r < 16; r++) {
            float s = r == col ? 1.f : 0.f;
            const float* ar = sAkk + (16 * b + r) * 65 + 16 * b;
#pragma unroll
            for (int jj = 0; jj < r; jj++) s = fmaf(-ar[jj], x[jj], s);
            x[r] = s;
        }
#pragma unroll
        for (int r = 0; r < 16; r++) {   // fp32 for the levels below, bf16 for the W and U products
            sT[(16 * b + r) * 65 + 16 * b + col] = x[r];
            sTb[(16 * b + r) * 72 + 16 * b + col] = f2bf(x[r]);
        }
    }
    __syncthreads();
    // the off-diagonal blocks level by level (dl = I - J), on the tensor cores in split tf32 (about fp32's
    // precision): warp w < 2 (4 - dl)
    // takes block (J + dl, J = w / 2), columns 8 (w % 2) .. + 7: Z = sum_K Akk_IK T_KJ, then T_IJ = -T_II Z
    // through the warp's own corner of sZ (so only the level needs a block barrier)
    auto level = [&](auto dlConst) {
        constexpr int dl = decltype(dlConst)::value;
        if (warp < 2 * (4 - dl)) {
            const int J = warp >> 1, I = J + dl, col = 16 * J + 8 * (warp & 1);
            float a[2 * dl][4], b[2 * dl][2];   // every operand loaded before the products
#pragma unroll
            for (int s8 = 0; s8 < 2 * dl; s8++) {
                const int y = 16 * J + 8 * s8;
                const float* ar = sAkk + (16 * I + gq) * 65 + y + tq;
                a[s8][0] = ar[0]; a[s8][1] = ar[8 * 65]; a[s8][2] = ar[4]; a[s8][3] = ar[8 * 65 + 4];
                b[s8][0] = sT[(y + tq) * 65 + col + gq];
                b[s8][1] = sT[(y + tq + 4) * 65 + col + gq];
            }
            float z[4] = {0.f, 0.f, 0.f, 0.f}, zs[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
            for (int s8 = 0; s8 < 2 * dl; s8++) mma_tf32x3(z, zs, a[s8], b[s8]);
            float* zw = sZ + warp * 128;   // [16][8]
            zw[gq * 8 + 2 * tq] = z[0] + zs[0];
            zw[gq * 8 + 2 * tq + 1] = z[1] + zs[1];
            zw[(gq + 8) * 8 + 2 * tq] = z[2] + zs[2];
            zw[(gq + 8) * 8 + 2 * tq + 1] = z[3] + zs[3];
            __syncwarp();
            float t[4] = {0.f, 0.f, 0.f, 0.f}, ts[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
            for (int x = 0; x < 16; x += 8) {
                const float* tr = sT + (16 * I + gq) * 65 + 16 * I + x + tq;
                const float ta[4] = {tr[0], tr[8 * 65], tr[4], tr[8 * 65 + 4]};
                const float tb[2] = {zw[(x + tq) * 8 + gq], zw[(x + tq + 4) * 8 + gq]};
                mma_tf32x3(t, ts, ta, tb);
            }
            const float t0 = -(t[0] + ts[0]), t1 = -(t[1] + ts[1]), t2 = -(t[2] + ts[2]), t3 = -(t[3] + ts[3]);
            float* dst = sT + (16 * I + gq) * 65 + col + 2 * tq;
            dst[0] = t0;
            dst[1] = t1;
            dst[8 * 65] = t2;
            dst[8 * 65 + 1] = t3;
            bf16* dstb = sTb + (16 * I + gq) * 72 + col + 2 * tq;
            *reinterpret_cast<unsigned*>(dstb) = pack_bf16(t0, t1);
            *reinterpret_cast<unsigned*>(dstb + 8 * 72) = pack_bf16(t2, t3);
        }
        __syncthreads();
    };
    level(ConstCount<1>{});
    level(ConstCount<2>{});
    level(ConstCount<3>{});
    // sTb's blocks above the diagonal are never read (the W and U products stop at the diagonal block)

    // sources: rows 0..63 beta k e^G, rows 64..127 beta v (they overwrite T's fp32 copy)
    for (int half = 0; half < 2; half++) {
#pragma unroll
        for (int u = 0; u < SI; u++) {
            const int idx = tid + (half * SI + u) * NT, i = idx / (D / 4), d = (idx % (D / 4)) * 4;
            const float4 kx = kda_bf16x4_f4(sk4[u]), vx = kda_bf16x4_f4(sv4[u]);
            if (half == 0) loadSourcesPart(1, u);   // the second half's rows into the registers just read
            if (i >= 64) continue;
            const float4 G = *reinterpret_cast<const float4*>(sG + i * GP + d);
            const float b = sBeta[i];
            store_bf16x4(tile + i * SP + d, b * kx.x * kda_exp2(G.x), b * kx.y * kda_exp2(G.y), b * kx.z * kda_exp2(G.z),
                         b * kx.w * kda_exp2(G.w));
            store_bf16x4(tile + (64 + i) * SP + d, b * vx.x, b * vx.y, b * vx.z, b * vx.w);
        }
    }
    __syncthreads();
    {
        // warp: W or U (warp / 8), row block (warp / 2) % 4, half of the columns (warp % 2)
        const int isU = warp >> 3, rq = (warp >> 1) & 3, ch = warp & 1;
        constexpr int HP = D / 32;   // 16-column pairs per half
        const bf16* src = tile + (isU ? 64 * SP : 0);
        float o[2 * HP][4];
        zero_regs(o);
        for (int kk = 0; kk <= 16 * rq; kk += 16) {
            unsigned a[4];
            ldmatrix_x4(a, sTb + (16 * rq + (lane & 15)) * 72 + kk + (lane >> 4) * 8);
#pragma unroll
            for (int npl = 0; npl < HP; npl++) {
                const int np = ch * HP + npl;
                unsigned b[4];
                ldmatrix_x4_trans(b, src + (kk + (lane & 15)) * SP + np * 16 + (lane >> 4) * 8);
                mma_pair(&o[2 * npl], a, b);
            }
        }
#pragma unroll
        for (int ntl = 0; ntl < 2 * HP; ntl++)
#pragma unroll
            for (int hh = 0; hh < 2; hh++) {
                const int i = 16 * rq + gq + 8 * hh, j = 8 * (2 * HP * ch + ntl) + 2 * tq;
                bf16* dst = isU ? Ub + (j >> 5) * 64 * 32 + X::template at<32>(i, j & 31) : Wo + X::template at<D>(i, j);
                *reinterpret_cast<unsigned*>(dst) = pack_bf16(o[ntl][2 * hh], o[ntl][2 * hh + 1]);
            }
    }
}

// CS: 32-column slices of the state per block (warps 4 ch .. 4 ch + 3 own slice ch); STAGES: chunk
// buffers in flight (the next STAGES - 1 chunks stream in while one computes).
template <int D, int CS, int STAGES>
struct KdaRecurLayout {
    using X = KdaScratch<D>;
    static constexpr int CP = 32 * CS + 8;                 // pitch of S and V' (halves)
    static constexpr int BUF = X::REC + CS * X::USLICE;    // bytes per chunk buffer: a record, the block's U slices
    static constexpr int OFF_S = STAGES * BUF;
    static constexpr int OFF_V = OFF_S + 2 * D * CP;
    static constexpr int OFF_BAR = OFF_V + 2 * 64 * CP;    // mbarriers of the bulk-copy forms: full, then empty
    static constexpr int BYTES = OFF_BAR + 16 * STAGES;
};

// Bulk-copy primitives of the sm_90 recurrence (no-ops before sm_90, where the cp.async form runs).
__device__ __forceinline__ void kda_mbar_init(unsigned bar, unsigned count) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("mbarrier.init.shared.b64 [%0], %1;\n" :: "r"(bar), "r"(count) : "memory");
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
#endif
}
__device__ __forceinline__ void kda_mbar_expect_tx(unsigned bar, unsigned bytes) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("mbarrier.arrive.expect_tx.shared.b64 _, [%0], %1;\n" :: "r"(bar), "r"(bytes) : "memory");
#endif
}
// CLUSTER: acquire at cluster scope (arrivals from other blocks of the cluster), else at block scope
template <bool CLUSTER = false>
__device__ __forceinline__ void kda_mbar_wait(unsigned bar, unsigned parity) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    unsigned done = 0;
    while (!done) {
        if constexpr (CLUSTER)
            asm volatile("{\n .reg .pred p;\n mbarrier.try_wait.parity.acquire.cluster.shared::cta.b64 p, [%1], %2;\n"
                         " selp.u32 %0, 1, 0, p;\n}\n" : "=r"(done) : "r"(bar), "r"(parity) : "memory");
        else
            asm volatile("{\n .reg .pred p;\n mbarrier.try_wait.parity.shared.b64 p, [%1], %2;\n"
                         " selp.u32 %0, 1, 0, p;\n}\n" : "=r"(done) : "r"(bar), "r"(parity) : "memory");
    }
#endif
}
// bulk copy global -> this block's shared memory, completing on its mbarrier
__device__ __forceinline__ void kda_bulk(unsigned dst, const void* src, unsigned bytes, unsigned bar) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];\n"
                 :: "r"(dst), "l"(src), "r"(bytes), "r"(bar) : "memory");
#endif
}
// the record to the same offset in every block of the cluster named by mask, completing on each one's
// mbarrier at the same offset as bar
__device__ __forceinline__ void kda_bulk_multicast(unsigned dst, const void* src, unsigned bytes, unsigned bar,
                                                   unsigned short mask) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes.multicast::cluster [%0], [%1], %2, [%3], %4;\n"
                 :: "r"(dst), "l"(src), "r"(bytes), "r"(bar), "h"(mask) : "memory");
#endif
}
// arrive on the mbarrier at local address bar in the cluster's block `rank`
__device__ __forceinline__ void kda_mbar_arrive_remote(unsigned bar, unsigned rank) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    unsigned remote;
    asm volatile("mapa.shared::cluster.u32 %0, %1, %2;\n" : "=r"(remote) : "r"(bar), "r"(rank));
    asm volatile("mbarrier.arrive.release.cluster.shared::cluster.b64 _, [%0];\n" :: "r"(remote) : "memory");
#endif
}
// rec, U: kda_chunk_intra's scratch (KdaScratch); seqChunks [N + 1]: chunk range of each sequence;
// chunks [numChunks, 2]: first token, length.
// LOAD: how chunks reach shared memory. 0: cp.async, 16 bytes a thread at a time (before sm_90);
// 1: two bulk copies a chunk (the record, the block's U slices) issued by one thread, completing on
// the buffer's mbarrier (no per-thread address work, the whole chunk in flight at once);
// 2: as 1, but the blocks of a (sequence, head) run as one cluster (z, D / (32 CS) blocks) and the
// record, which they all read, leaves L2 once: block 0 multicasts it into every block's buffer once
// all of them have handed that buffer back (each arrives on block 0's `empty` barrier).
template <int D, int CS, int STAGES, int LOAD>
__device__ __forceinline__ void kda_chunk_recur_body(const unsigned char* __restrict__ rec, const bf16* __restrict__ U,
                                                     const int* __restrict__ chunks, const int* __restrict__ seqChunks,
                                                     const int* __restrict__ slots, float* __restrict__ state,
                                                     float* __restrict__ out, int heads) {
    using L = KdaRecurLayout<D, CS, STAGES>;
    using X = KdaScratch<D>;
    constexpr int CP = L::CP, MT = D / 16, NT = 128 * CS;
    extern __shared__ __align__(16) unsigned char kr_smem[];
    bf16* sS = reinterpret_cast<bf16*>(kr_smem + L::OFF_S);   // [D][CP] state columns, bf16
    bf16* sV = reinterpret_cast<bf16*>(kr_smem + L::OFF_V);   // [64][CP] V'
    const int seq = blockIdx.x, h = blockIdx.y;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, gq = lane >> 2, tq = lane & 3;
    const int wr = CS == 1 ? warp : warp & 3;                  // row block of the chunk
    const int cb = CS == 1 ? 0 : 32 * (warp >> 2);             // column base of the warp's slice in the block
    const int blockCol = blockIdx.z * 32 * CS, col0 = blockCol + cb;
    float* S = state + ((long)slots[seq] * heads + h) * D * D;

    const unsigned smemBase = (unsigned)__cvta_generic_to_shared(kr_smem);
    auto fullBar = [&](int b) { return smemBase + L::OFF_BAR + 8 * b; };
    auto emptyBar = [&](int b) { return smemBase + L::OFF_BAR + 8 * (STAGES + b); };
    constexpr int CL = D / (32 * CS);   // blocks of a cluster (LOAD 2)
    const unsigned rank = blockIdx.z;   // the cluster spans z
    auto recOf = [&](int cIdx) { return rec + ((long)cIdx * heads + h) * X::REC; };
    auto uOf = [&](int cIdx) {
        return reinterpret_cast<const unsigned char*>(U) + ((long)cIdx * heads + h) * X::UREC + blockIdx.z * CS * X::USLICE;
    };
    auto issueAsync = [&](int cIdx, int b) {
        unsigned char* p = kr_smem + b * L::BUF;
        const unsigned char* r = recOf(cIdx);
        for (int idx = tid; idx < X::REC / 16; idx += NT) cp_async16(p + 16 * idx, r + 16 * idx, 16);
        const unsigned char* u = uOf(cIdx);
        for (int idx = tid; idx < CS * X::USLICE / 16; idx += NT) cp_async16(p + X::REC + 16 * idx, u + 16 * idx, 16);
    };
    auto issueBulk = [&](int cIdx, int b) {   // one thread
        const unsigned p = smemBase + b * L::BUF, bar = fullBar(b);
        kda_mbar_expect_tx(bar, L::BUF);
        if (LOAD == 1) kda_bulk(p, recOf(cIdx), X::REC, bar);
        kda_bulk(p + X::REC, uOf(cIdx), CS * X::USLICE, bar);
    };
    auto issueRecord = [&](int cIdx, int b) {   // thread 0 of block 0 (LOAD 2)
        kda_bulk_multicast(smemBase + b * L::BUF, recOf(cIdx), X::REC, fullBar(b), (unsigned short)((1u << CL) - 1));
    };

    // the state's [D, 32] slice of this warp group as accumulators: warp owns row tiles wr and wr + 4
    float sacc[2][4][4];
#pragma unroll
    for (int sl = 0; sl < 2; sl++) {
        const int mt = wr + 4 * sl;
#pragma unroll
        for (int nt = 0; nt < 4; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                sacc[sl][nt][e] = 0.f;
                if (mt < MT) {
                    const int row = 16 * mt + gq + 8 * (e >> 1), col = 8 * nt + 2 * tq + (e & 1);
                    sacc[sl][nt][e] = S[(long)row * D + col0 + col];
                }
            }
        if (mt < MT)
#pragma unroll
            for (int nt = 0; nt < 4; nt++)
#pragma unroll
                for (int hh = 0; hh < 2; hh++) {
                    const int row = 16 * mt + gq + 8 * hh, col = cb + 8 * nt + 2 * tq;
                    *reinterpret_cast<unsigned*>(sS + row * CP + col) = pack_bf16(sacc[sl][nt][2 * hh], sacc[sl][nt][2 * hh + 1]);
                }
    }

    const int cBeg = seqChunks[seq], cEnd = seqChunks[seq + 1];
    if constexpr (LOAD >= 1) {
        if (tid < STAGES) kda_mbar_init(fullBar(tid), 1);
        if (LOAD == 2 && tid < STAGES) kda_mbar_init(emptyBar(tid), CL);
        __syncthreads();
        if (LOAD == 2) cluster_barrier();   // every block's barriers exist before the first multicast
    }
    for (int s = 0; s < STAGES - 1; s++) {
        if constexpr (LOAD == 0) {
            if (cBeg + s < cEnd) issueAsync(cBeg + s, s);
            cp_async_commit();
        } else if (tid == 0 && cBeg + s < cEnd) {
            issueBulk(cBeg + s, s);
            if (LOAD == 2 && rank == 0) issueRecord(cBeg + s, s);
        }
    }
    for (int cIdx = cBeg; cIdx < cEnd; cIdx++) {
        const int it = cIdx - cBeg, b = (unsigned)it % STAGES;
        const int nextC = cIdx + STAGES - 1, nextB = (unsigned)(it + STAGES - 1) % STAGES;   // nextB held chunk cIdx - 1
        if constexpr (LOAD == 0) {
            cp_async_wait<STAGES - 2>();
            __syncthreads();
            if (nextC < cEnd) issueAsync(nextC, nextB);
            cp_async_commit();
        } else {
            __syncthreads();   // every thread is done with chunk cIdx - 1, so its buffer is free
            if (tid == 0 && nextC < cEnd) {
                if (LOAD == 2 && it > 0) kda_mbar_arrive_remote(emptyBar(nextB), 0);
                issueBulk(nextC, nextB);
                if (LOAD == 2 && rank == 0) {
                    if (it > 0) kda_mbar_wait<true>(emptyBar(nextB), ((unsigned)(it - 1) / STAGES) & 1);
                    issueRecord(nextC, nextB);
                }
            }
            kda_mbar_wait(fullBar(b), ((unsigned)it / STAGES) & 1);
        }
        const unsigned char* buf = kr_smem + b * L::BUF;
        const bf16* sW = reinterpret_cast<const bf16*>(buf + X::OFF_W);
        const bf16* sQ = reinterpret_cast<const bf16*>(buf + X::OFF_Q);
        const bf16* sK = reinterpret_cast<const bf16*>(buf + X::OFF_K);
        const bf16* sA = reinterpret_cast<const bf16*>(buf + X::OFF_A);
        const float* sg = reinterpret_cast<const float*>(buf + X::OFF_GL);
        const bf16* sU = reinterpret_cast<const bf16*>(buf + X::REC) + (cb >> 5) * 64 * 32;   // the warp's slice
        const int t0 = chunks[2 * cIdx], len = chunks[2 * cIdx + 1];

        // P = W S and O = Qg S for rows 16 wr .. +15
        float p[4][4], o[4][4];
#pragma unroll
        for (int a = 0; a < 4; a++)
#pragma unroll
            for (int e = 0; e < 4; e++) { p[a][e] = 0.f; o[a][e] = 0.f; }
#pragma unroll
        for (int kk = 0; kk < D; kk += 16) {
            unsigned aw[4], aq[4];
            ldmatrix_x4(aw, sW + X::template at<D>(16 * wr + (lane & 15), kk + (lane >> 4) * 8));
            ldmatrix_x4(aq, sQ + X::template at<D>(16 * wr + (lane & 15), kk + (lane >> 4) * 8));
#pragma unroll
            for (int np = 0; np < 2; np++) {
                unsigned bs[4];
                ldmatrix_x4_trans(bs, sS + (kk + (lane & 15)) * CP + cb + np * 16 + (lane >> 4) * 8);
                mma_pair(&p[2 * np], aw, bs);
                mma_pair(&o[2 * np], aq, bs);
            }
        }
        // V' = U - P
#pragma unroll
        for (int nt = 0; nt < 4; nt++)
#pragma unroll
            for (int hh = 0; hh < 2; hh++) {
                const int row = 16 * wr + gq + 8 * hh, col = cb + 8 * nt + 2 * tq;
                const __nv_bfloat162 u = *reinterpret_cast<const __nv_bfloat162*>(sU + X::template at<32>(row, 8 * nt + 2 * tq));
                const float v0 = __low2float(u) - p[nt][2 * hh], v1 = __high2float(u) - p[nt][2 * hh + 1];
                *reinterpret_cast<unsigned*>(sV + row * CP + col) = pack_bf16(v0, v1);
            }
        __syncthreads();
        // O += Aqk V' (causal: column blocks up to this warp's row block)
        for (int kk = 0; kk <= 16 * wr; kk += 16) {
            unsigned a[4];
            ldmatrix_x4(a, sA + X::template at<64>(16 * wr + (lane & 15), kk + (lane >> 4) * 8));
#pragma unroll
            for (int np = 0; np < 2; np++) {
                unsigned bv[4];
                ldmatrix_x4_trans(bv, sV + (kk + (lane & 15)) * CP + cb + np * 16 + (lane >> 4) * 8);
                mma_pair(&o[2 * np], a, bv);
            }
        }
#pragma unroll
        for (int hh = 0; hh < 2; hh++) {
            const int row = 16 * wr + gq + 8 * hh;
            if (row < len) {
                float* dst = out + ((long)(t0 + row) * heads + h) * D + col0 + 2 * tq;
#pragma unroll
                for (int nt = 0; nt < 4; nt++)
                    *reinterpret_cast<float2*>(dst + 8 * nt) = make_float2(o[nt][2 * hh], o[nt][2 * hh + 1]);
            }
        }
        // S <- diag(gl) S + Kd^T V'
#pragma unroll
        for (int sl = 0; sl < 2; sl++) {
            const int mt = wr + 4 * sl;
            if (mt >= MT) continue;
#pragma unroll
            for (int e = 0; e < 4; e++) {
                const float decay = sg[16 * mt + gq + 8 * (e >> 1)];
#pragma unroll
                for (int nt = 0; nt < 4; nt++) sacc[sl][nt][e] *= decay;
            }
#pragma unroll
            for (int kk = 0; kk < 64; kk += 16) {
                unsigned a[4];
                ldmatrix_x4_trans(a, sK + X::template at<D>(kk + (lane & 7) + (lane >> 4) * 8, 16 * mt + ((lane >> 3) & 1) * 8));
#pragma unroll
                for (int np = 0; np < 2; np++) {
                    unsigned bv[4];
                    ldmatrix_x4_trans(bv, sV + (kk + (lane & 15)) * CP + cb + np * 16 + (lane >> 4) * 8);
                    mma_pair(&sacc[sl][2 * np], a, bv);
                }
            }
#pragma unroll
            for (int nt = 0; nt < 4; nt++)
#pragma unroll
                for (int hh = 0; hh < 2; hh++) {
                    const int row = 16 * mt + gq + 8 * hh, col = cb + 8 * nt + 2 * tq;
                    *reinterpret_cast<unsigned*>(sS + row * CP + col) =
                        pack_bf16(sacc[sl][nt][2 * hh], sacc[sl][nt][2 * hh + 1]);
                }
        }
    }
    if constexpr (LOAD == 0) cp_async_wait<0>();
    if constexpr (LOAD == 2) cluster_barrier();   // block 0's barriers stay until the last remote arrival
#pragma unroll
    for (int sl = 0; sl < 2; sl++) {
        const int mt = wr + 4 * sl;
        if (mt >= MT) continue;
#pragma unroll
        for (int nt = 0; nt < 4; nt++)
#pragma unroll
            for (int hh = 0; hh < 2; hh++) {
                const int row = 16 * mt + gq + 8 * hh, col = 8 * nt + 2 * tq;
                *reinterpret_cast<float2*>(S + (long)row * D + col0 + col) =
                    make_float2(sacc[sl][nt][2 * hh], sacc[sl][nt][2 * hh + 1]);
            }
    }
}

// kda_chunk_recur_d*: a block per 32 value columns (fills the GPU at one sequence);
// kda_chunk_recur_wide_d*: a block per 64 columns sharing each chunk's record between two slices
// (half the shared-memory fills, for batches with blocks to spare). Bulk copies on sm_90, cp.async before.
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
#define KDA_RECUR_LOAD 1
#define KDA_RECUR_SHARED_LOAD 2
#define KDA_RECUR_CLUSTER(n) __cluster_dims__(1, 1, n)
#else
#define KDA_RECUR_LOAD 0
#define KDA_RECUR_SHARED_LOAD 0
#define KDA_RECUR_CLUSTER(n)
#endif
#define KDA_CHUNK_TC_ENTRY(D)                                                                                 \
    extern "C" __global__ void __launch_bounds__(KDA_INTRA_THREADS, 2) kda_chunk_intra_d##D(                  \
        const bf16* q, const bf16* k, const bf16* v, const float* g, const float* beta, const int* chunks,    \
        int heads, unsigned char* rec, bf16* U) {                                                             \
        kda_chunk_intra_body<D>(q, k, v, g, beta, chunks, heads, rec, U);                                     \
    }                                                                                                         \
    extern "C" __global__ void __launch_bounds__(128) kda_chunk_recur_d##D(                                   \
        const unsigned char* rec, const bf16* U, const int* chunks, const int* seqChunks, const int* slots,   \
        float* state, float* out, int heads) {                                                                \
        kda_chunk_recur_body<D, 1, 2, KDA_RECUR_LOAD>(rec, U, chunks, seqChunks, slots, state, out, heads);   \
    }
#define KDA_CHUNK_TC_WIDE_ENTRY(D)                                                                            \
    extern "C" __global__ void __launch_bounds__(256) kda_chunk_recur_wide_d##D(                              \
        const unsigned char* rec, const bf16* U, const int* chunks, const int* seqChunks, const int* slots,   \
        float* state, float* out, int heads) {                                                                \
        kda_chunk_recur_body<D, 2, 2, KDA_RECUR_LOAD>(rec, U, chunks, seqChunks, slots, state, out, heads);   \
    }
// kda_chunk_recur_wide_shared_d128: the wide form as clusters of the two blocks of a (sequence, head),
// each chunk's record read from L2 once and multicast into both (for batches of several waves of
// blocks, where the recurrence waits on L2)
extern "C" __global__ void KDA_RECUR_CLUSTER(2) __launch_bounds__(256) kda_chunk_recur_wide_shared_d128(
        const unsigned char* rec, const bf16* U, const int* chunks, const int* seqChunks, const int* slots,
        float* state, float* out, int heads) {
    kda_chunk_recur_body<128, 2, 2, KDA_RECUR_SHARED_LOAD>(rec, U, chunks, seqChunks, slots, state, out, heads);
}
KDA_CHUNK_TC_ENTRY(32)
KDA_CHUNK_TC_ENTRY(64)
KDA_CHUNK_TC_ENTRY(128)
KDA_CHUNK_TC_WIDE_ENTRY(64)
KDA_CHUNK_TC_WIDE_ENTRY(128)
