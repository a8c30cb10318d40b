// Matrix products C = alpha * A * B^T + beta * C with A [M,K] and B [N,K] bf16 (B is a
// weight stored [out, in]), fp32 accumulation on the tensor cores (mma.sync, or wgmma on Hopper),
// fp32 or bf16 output. K, every leading dimension and stride must be multiples of 8 and the
// operands 16-byte aligned (16-byte rows), except for gemm_any_* (the tile kernel reading its
// operands element by element, for shapes off that alignment).
// Families of entries: the mma.sync tile kernel, plain/batched (gridDim.z batches with
// strides) and grouped by expert (a device-side tile list over rows permuted per expert); for
// few rows a GEMV and the skinny tensor-core product (also grouped, for decode-sized routing);
// on Hopper the wgmma kernel (plain/batched and grouped) and the K-split decode-sized product.
#include "hopper.cuh"

#define GEMM_BN 128
#define GEMM_BK 32
#define GEMM_LDS 40   // 32 + 8 halves of padding: conflict-free ldmatrix rows
#define GEMM_STAGES 3
#define GEMM_THREADS 256

template <typename OutT> __device__ __forceinline__ void store_out(OutT* p, float v, float beta);
template <> __device__ __forceinline__ void store_out<float>(float* p, float v, float beta) {
    *p = beta != 0.f ? v + beta * *p : v;
}
template <> __device__ __forceinline__ void store_out<bf16>(bf16* p, float v, float beta) {
    *p = f2bf(beta != 0.f ? v + beta * bf2f(*p) : v);
}

// Eight elements of a row from column gk on into shared memory, at any alignment of the row;
// zeros for a row past the operand (row == nullptr) and for columns past K.
__device__ __forceinline__ void gemm_load8_any(bf16* dst, const bf16* __restrict__ row, int gk, int K) {
    union { uint4 v; bf16 h[8]; } u;
#pragma unroll
    for (int j = 0; j < 8; j++) u.h[j] = row != nullptr && gk + j < K ? row[gk + j] : __ushort_as_bfloat16(0);
    *reinterpret_cast<uint4*>(dst) = u.v;
}

// One BM x 128 tile of C. A, B, C already point at this batch/expert; rows m0.., cols n0..
// ANY: operands of any leading dimension, stride, K and alignment, loaded element by element
// (synchronously; the pipeline's stages and barriers stay as they are).
template <int BM, typename OutT, bool ANY = false>
__device__ __forceinline__ void gemm_tile(const bf16* __restrict__ A, long lda,
                                          const bf16* __restrict__ B, long ldb,
                                          OutT* __restrict__ C, long ldc,
                                          int M, int N, int K, int m0, int n0,
                                          float alpha, float beta) {
    constexpr int WM = BM / 2;      // 2 x 4 warps; each warp WM x 32
    constexpr int MT = WM / 16;
    extern __shared__ __align__(16) unsigned char gemm_smem[];
    bf16 (*As)[BM][GEMM_LDS] = reinterpret_cast<bf16 (*)[BM][GEMM_LDS]>(gemm_smem);
    bf16 (*Bs)[GEMM_BN][GEMM_LDS] = reinterpret_cast<bf16 (*)[GEMM_BN][GEMM_LDS]>(
        gemm_smem + sizeof(bf16) * GEMM_STAGES * BM * GEMM_LDS);
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int wm = warp >> 2, wn = warp & 3;

    auto load = [&](int stage, int kt) {
        const int k0 = kt * GEMM_BK;
        if constexpr (ANY) {
            for (int i = tid; i < BM * 4; i += GEMM_THREADS) {
                int r = i >> 2, c = (i & 3) * 8, gr = m0 + r;
                gemm_load8_any(&As[stage][r][c], gr < M ? A + (long)gr * lda : nullptr, k0 + c, K);
            }
            for (int i = tid; i < GEMM_BN * 4; i += GEMM_THREADS) {
                int r = i >> 2, c = (i & 3) * 8, gr = n0 + r;
                gemm_load8_any(&Bs[stage][r][c], gr < N ? B + (long)gr * ldb : nullptr, k0 + c, K);
            }
        } else {
            for (int i = tid; i < BM * 4; i += GEMM_THREADS) {
                int r = i >> 2, c = (i & 3) * 8;
                int gr = m0 + r, gk = k0 + c;
                bool ok = gr < M && gk < K;
                cp_async16(&As[stage][r][c], ok ? (const void*)(A + (long)gr * lda + gk) : (const void*)A, ok ? 16 : 0);
            }
            for (int i = tid; i < GEMM_BN * 4; i += GEMM_THREADS) {
                int r = i >> 2, c = (i & 3) * 8;
                int gr = n0 + r, gk = k0 + c;
                bool ok = gr < N && gk < K;
                cp_async16(&Bs[stage][r][c], ok ? (const void*)(B + (long)gr * ldb + gk) : (const void*)B, ok ? 16 : 0);
            }
        }
    };

    float acc[MT][4][4];
    zero_regs(acc);

    const int ktiles = (K + GEMM_BK - 1) / GEMM_BK;
#pragma unroll
    for (int s = 0; s < GEMM_STAGES - 1; s++) {
        if (s < ktiles) load(s, s);
        cp_async_commit();
    }
    for (int kt = 0; kt < ktiles; kt++) {
        cp_async_wait<GEMM_STAGES - 2>();
        __syncthreads();
        const int st = kt % GEMM_STAGES;
#pragma unroll
        for (int kk = 0; kk < GEMM_BK; kk += 16) {
            unsigned af[MT][4], bfr[4][2];
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
                ldmatrix_x4(af[mt], &As[st][wm * WM + mt * 16 + (lane & 15)][kk + (lane >> 4) * 8]);
#pragma unroll
            for (int np = 0; np < 2; np++) {
                unsigned q[4];
                ldmatrix_x4(q, &Bs[st][wn * 32 + np * 16 + (lane & 7) + (lane >> 4) * 8][kk + ((lane >> 3) & 1) * 8]);
                bfr[2 * np][0] = q[0]; bfr[2 * np][1] = q[1];
                bfr[2 * np + 1][0] = q[2]; bfr[2 * np + 1][1] = q[3];
            }
#pragma unroll
            for (int mt = 0; mt < MT; mt++)
#pragma unroll
                for (int nt = 0; nt < 4; nt++) mma_bf16_16816(acc[mt][nt], af[mt], bfr[nt]);
        }
        int next = kt + GEMM_STAGES - 1;
        if (next < ktiles) load(next % GEMM_STAGES, next);
        cp_async_commit();
    }
    cp_async_wait<0>();

#pragma unroll
    for (int mt = 0; mt < MT; mt++)
#pragma unroll
        for (int nt = 0; nt < 4; nt++)
#pragma unroll
            for (int h = 0; h < 2; h++) {
                int row = m0 + wm * WM + mt * 16 + (lane >> 2) + h * 8;
                int col = n0 + wn * 32 + nt * 8 + (lane & 3) * 2;
                if (row < M) {
                    OutT* p = C + (long)row * ldc + col;
                    if (col < N) store_out<OutT>(p, alpha * acc[mt][nt][2 * h], beta);
                    if (col + 1 < N) store_out<OutT>(p + 1, alpha * acc[mt][nt][2 * h + 1], beta);
                }
            }
}

template <int BM, typename OutT, bool ANY = false>
__device__ __forceinline__ void gemm_batched(const bf16* A, long lda, long sA, const bf16* B, long ldb, long sB,
                                             OutT* C, long ldc, long sC, int M, int N, int K, float alpha, float beta) {
    long z = blockIdx.z;
    gemm_tile<BM, OutT, ANY>(A + z * sA, lda, B + z * sB, ldb, C + z * sC, ldc, M, N, K,
                             blockIdx.y * BM, blockIdx.x * GEMM_BN, alpha, beta);
}

// tiles: [2 * maxTiles] of (expert, first row within the expert); offsets: [E + 1] rows.
template <int BM, typename OutT>
__device__ __forceinline__ void gemm_grouped(const bf16* A, long lda, const bf16* B, long ldb, long sB,
                                             OutT* C, long ldc, const int* offsets, const int* tiles,
                                             const int* numTiles, int N, int K, float alpha, float beta) {
    int t = blockIdx.y;
    if (t >= *numTiles) return;
    int e = tiles[2 * t], mrel = tiles[2 * t + 1];
    long r0 = offsets[e];
    int M = offsets[e + 1] - (int)r0;
    gemm_tile<BM, OutT>(A + r0 * lda, lda, B + (long)e * sB, ldb, C + r0 * ldc, ldc, M, N, K,
                        mrel, blockIdx.x * GEMM_BN, alpha, beta);
}

#define GEMM_ENTRY(NAME, BM, OUT)                                                                     \
    extern "C" __global__ void __launch_bounds__(GEMM_THREADS) NAME(                                  \
        const bf16* A, long lda, long sA, const bf16* B, long ldb, long sB, OUT* C, long ldc, long sC, \
        int M, int N, int K, float alpha, float beta) {                                               \
        gemm_batched<BM, OUT>(A, lda, sA, B, ldb, sB, C, ldc, sC, M, N, K, alpha, beta);              \
    }
GEMM_ENTRY(gemm_bm128_f32, 128, float)
GEMM_ENTRY(gemm_bm128_bf16, 128, bf16)
GEMM_ENTRY(gemm_bm64_f32, 64, float)
GEMM_ENTRY(gemm_bm64_bf16, 64, bf16)

// The tile kernel for shapes off the 16-byte alignment (odd K, leading dimensions or strides,
// operands at any even address): plain and batched as above.
#define GEMM_ANY_ENTRY(NAME, BM, OUT)                                                                 \
    extern "C" __global__ void __launch_bounds__(GEMM_THREADS) NAME(                                  \
        const bf16* A, long lda, long sA, const bf16* B, long ldb, long sB, OUT* C, long ldc, long sC, \
        int M, int N, int K, float alpha, float beta) {                                               \
        gemm_batched<BM, OUT, true>(A, lda, sA, B, ldb, sB, C, ldc, sC, M, N, K, alpha, beta);        \
    }
GEMM_ANY_ENTRY(gemm_any_bm128_f32, 128, float)
GEMM_ANY_ENTRY(gemm_any_bm128_bf16, 128, bf16)
GEMM_ANY_ENTRY(gemm_any_bm64_f32, 64, float)
GEMM_ANY_ENTRY(gemm_any_bm64_bf16, 64, bf16)

// The expert-grouped form off the alignment, for a tile list planned with any tileRows (8, 16,
// 64 or 128): tile t covers rows mrel .. mrel + tileRows - 1 of its expert, blockIdx.z the 64-row
// part of it, so tiles never overlap (their products may accumulate into C).
template <typename OutT>
__device__ __forceinline__ void gemm_grouped_any(const bf16* A, long lda, const bf16* B, long ldb, long sB, OutT* C,
                                                 long ldc, const int* offsets, const int* tiles, const int* numTiles,
                                                 int tileRows, int N, int K, float alpha, float beta) {
    int t = blockIdx.y;
    if (t >= *numTiles) return;
    int e = tiles[2 * t], mrel = tiles[2 * t + 1];
    int m0 = mrel + 64 * (int)blockIdx.z;
    long r0 = offsets[e];
    int M = min(offsets[e + 1] - (int)r0, mrel + tileRows);
    if (m0 >= M) return;
    gemm_tile<64, OutT, true>(A + r0 * lda, lda, B + (long)e * sB, ldb, C + r0 * ldc, ldc, M, N, K, m0,
                              blockIdx.x * GEMM_BN, alpha, beta);
}

#define GEMM_GROUPED_ANY_ENTRY(NAME, OUT)                                                              \
    extern "C" __global__ void __launch_bounds__(GEMM_THREADS) NAME(                                   \
        const bf16* A, long lda, const bf16* B, long ldb, long sB, OUT* C, long ldc, const int* offsets, \
        const int* tiles, const int* numTiles, int tileRows, int N, int K, float alpha, float beta) {  \
        gemm_grouped_any<OUT>(A, lda, B, ldb, sB, C, ldc, offsets, tiles, numTiles, tileRows, N, K,    \
                              alpha, beta);                                                            \
    }
GEMM_GROUPED_ANY_ENTRY(gemm_grouped_any_f32, float)
GEMM_GROUPED_ANY_ENTRY(gemm_grouped_any_bf16, bf16)

#define GEMM_GROUPED_ENTRY(NAME, BM, OUT)                                                              \
    extern "C" __global__ void __launch_bounds__(GEMM_THREADS) NAME(                                   \
        const bf16* A, long lda, const bf16* B, long ldb, long sB, OUT* C, long ldc, const int* offsets, \
        const int* tiles, const int* numTiles, int N, int K, float alpha, float beta) {                \
        gemm_grouped<BM, OUT>(A, lda, B, ldb, sB, C, ldc, offsets, tiles, numTiles, N, K, alpha, beta); \
    }
GEMM_GROUPED_ENTRY(gemm_grouped_bm64_f32, 64, float)
GEMM_GROUPED_ENTRY(gemm_grouped_bm64_bf16, 64, bf16)

// A streamed read: no L1 allocation (the weights are read once), and L2 asked to fetch 256-byte
// runs (the neighbouring sectors are the next loads of the same rows): lm_head at one row
// 92% -> 96% of copy, at 8 rows 84% -> 92% on the H100.
__device__ __forceinline__ uint4 ld_stream(const void* p) {
    uint4 v;
    asm("ld.global.nc.L1::no_allocate.L2::256B.v4.u32 {%0,%1,%2,%3}, [%4];"
        : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "l"(p));
    return v;
}

// Few rows (M <= 8): a warp per output column streams its weight row once with 16-byte
// loads, UNROLL of them issued before any is used (a load-use loop kept too few bytes in
// flight to cover memory latency); bandwidth-bound, so no tensor cores. gridDim.y batches
// with strides. One row takes 8 loads in flight; more rows keep 4 (registers).
template <int GEMV_UNROLL>
__device__ __forceinline__ void gemv_body(
        const bf16* __restrict__ A, long lda, long sA, const bf16* __restrict__ B, long ldb, long sB,
        void* Cv, long ldc, long sC, int M, int N, int K, float alpha, float beta, int outBf16) {
    const int lane = threadIdx.x & 31;
    const int n = blockIdx.x * 8 + (threadIdx.x >> 5);
    if (n >= N) return;
    const long z = blockIdx.y;
    A += z * sA;
    const bf16* w = B + z * sB + (long)n * ldb;
    float acc[8];
#pragma unroll
    for (int m = 0; m < 8; m++) acc[m] = 0.f;
    for (int k0 = lane * 8; k0 < K; k0 += 256 * GEMV_UNROLL) {
        uint4 wv[GEMV_UNROLL];
#pragma unroll
        for (int u = 0; u < GEMV_UNROLL; u++)
            wv[u] = k0 + u * 256 < K ? ld_stream(w + k0 + u * 256) : make_uint4(0u, 0u, 0u, 0u);
#pragma unroll
        for (int u = 0; u < GEMV_UNROLL; u++) {
            const int k = k0 + u * 256;
            if (k < K) {
                const bf16* wp = reinterpret_cast<const bf16*>(&wv[u]);
                float wf[8];
#pragma unroll
                for (int j = 0; j < 8; j++) wf[j] = bf2f(wp[j]);
#pragma unroll
                for (int m = 0; m < 8; m++) {
                    if (m < M) {
                        uint4 av = __ldg(reinterpret_cast<const uint4*>(A + (long)m * lda + k));
                        const bf16* ap = reinterpret_cast<const bf16*>(&av);
#pragma unroll
                        for (int j = 0; j < 8; j++) acc[m] = fmaf(bf2f(ap[j]), wf[j], acc[m]);
                    }
                }
            }
        }
    }
#pragma unroll
    for (int m = 0; m < 8; m++) {
        if (m < M) {
            float v = warp_sum(acc[m]) * alpha;
            if (lane == 0) {
                if (outBf16) {
                    bf16* p = reinterpret_cast<bf16*>(Cv) + z * sC + (long)m * ldc + n;
                    store_out<bf16>(p, v, beta);
                } else {
                    float* p = reinterpret_cast<float*>(Cv) + z * sC + (long)m * ldc + n;
                    store_out<float>(p, v, beta);
                }
            }
        }
    }
}

#define GEMV_ENTRY(NAME, UNROLL)                                                                            \
    extern "C" __global__ void __launch_bounds__(256) NAME(                                                 \
        const bf16* A, long lda, long sA, const bf16* B, long ldb, long sB, void* C, long ldc, long sC,     \
        int M, int N, int K, float alpha, float beta, int outBf16) {                                        \
        gemv_body<UNROLL>(A, lda, sA, B, ldb, sB, C, ldc, sC, M, N, K, alpha, beta, outBf16);               \
    }
GEMV_ENTRY(gemv_bf16, 4)
GEMV_ENTRY(gemv_bf16_row, 8)

// Decode-sized products (M <= 64 rows of activations) on the tensor cores with the operands
// swapped: C^T = B A^T, so the weight rows fill the 16-row side of m16n8k16 and the few
// activation rows its 8-column side (NT tiles of 8). Each lane loads 16 bytes of a weight row
// straight into registers (no shared memory) with WSK_UNROLL chunks of 32 columns in flight;
// inside a chunk the lane's 8 consecutive k values stand for the four k pairs the fragment
// layout would give it, and the activations are loaded with the same permutation, so the sum
// over k is unchanged. A block is 4 groups of 16 weight rows times 2 halves of K; the halves
// meet in shared memory.
#define WSK_UNROLL 4
#define WSK_ROWS 64

template <int NT>
__device__ __forceinline__ void gemm_skinny_body(
        const bf16* __restrict__ A, long lda, long sA, const bf16* __restrict__ B, long ldb, long sB,
        void* Cv, long ldc, long sC, int M, int N, int K, float alpha, float beta, int outBf16) {
    __shared__ float red[4][NT * 4][32];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int rg = warp & 3, kh = warp >> 2;
    const int g = lane >> 2, t = lane & 3;
    const long z = blockIdx.y;
    A += z * sA;
    B += z * sB;
    const int n0 = blockIdx.x * WSK_ROWS + rg * 16;
    const int nA = n0 + g, nB = n0 + g + 8;
    const bf16* wA = B + (long)min(nA, N - 1) * ldb;
    const bf16* wB = B + (long)min(nB, N - 1) * ldb;
    const bool okA = nA < N, okB = nB < N;
    const int chunks = (K + 31) >> 5, half = (chunks + 1) >> 1;
    const int c0 = kh * half, c1 = min(chunks, c0 + half);
    float acc[NT][4];
    zero_regs(acc);
    const uint4 zero = make_uint4(0u, 0u, 0u, 0u);
    for (int c = c0; c < c1; c += WSK_UNROLL) {
        uint4 wa[WSK_UNROLL], wb[WSK_UNROLL];
#pragma unroll
        for (int u = 0; u < WSK_UNROLL; u++) {
            const int k = (c + u) * 32 + t * 8;
            const bool in = c + u < c1 && k < K;
            wa[u] = in && okA ? ld_stream(wA + k) : zero;
            wb[u] = in && okB ? ld_stream(wB + k) : zero;
        }
#pragma unroll
        for (int u = 0; u < WSK_UNROLL; u++) {
            const int k = (c + u) * 32 + t * 8;
            // the branch must not depend on the lane: mma.sync needs the whole warp; lanes past
            // K hold zero operands instead
            if (c + u < c1) {
                uint4 x[NT];
#pragma unroll
                for (int j = 0; j < NT; j++) {
                    const int m = j * 8 + g;
                    x[j] = m < M && k < K ? __ldg(reinterpret_cast<const uint4*>(A + (long)m * lda + k)) : zero;
                }
                const unsigned a0[4] = {wa[u].x, wb[u].x, wa[u].y, wb[u].y};
                const unsigned a1[4] = {wa[u].z, wb[u].z, wa[u].w, wb[u].w};
#pragma unroll
                for (int j = 0; j < NT; j++) {
                    const unsigned b0[2] = {x[j].x, x[j].y}, b1[2] = {x[j].z, x[j].w};
                    mma_bf16_16816(acc[j], a0, b0);
                    mma_bf16_16816(acc[j], a1, b1);
                }
            }
        }
    }
    if (kh == 1) {
#pragma unroll
        for (int j = 0; j < NT; j++)
#pragma unroll
            for (int e = 0; e < 4; e++) red[rg][j * 4 + e][lane] = acc[j][e];
    }
    __syncthreads();
    if (kh == 1) return;
#pragma unroll
    for (int j = 0; j < NT; j++)
#pragma unroll
        for (int e = 0; e < 4; e++) {
            const int n = n0 + g + (e >> 1) * 8, m = j * 8 + 2 * t + (e & 1);
            const float v = (acc[j][e] + red[rg][j * 4 + e][lane]) * alpha;
            if (n < N && m < M) {
                if (outBf16) store_out<bf16>(reinterpret_cast<bf16*>(Cv) + z * sC + (long)m * ldc + n, v, beta);
                else store_out<float>(reinterpret_cast<float*>(Cv) + z * sC + (long)m * ldc + n, v, beta);
            }
        }
}

#define GEMM_SKINNY_ENTRY(NAME, NT)                                                                         \
    extern "C" __global__ void __launch_bounds__(256) NAME(                                                 \
        const bf16* A, long lda, long sA, const bf16* B, long ldb, long sB, void* C, long ldc, long sC,     \
        int M, int N, int K, float alpha, float beta, int outBf16) {                                        \
        gemm_skinny_body<NT>(A, lda, sA, B, ldb, sB, C, ldc, sC, M, N, K, alpha, beta, outBf16);            \
    }
GEMM_SKINNY_ENTRY(gemm_skinny_m8, 1)
GEMM_SKINNY_ENTRY(gemm_skinny_m16, 2)
GEMM_SKINNY_ENTRY(gemm_skinny_m32, 4)
GEMM_SKINNY_ENTRY(gemm_skinny_m64, 8)

// The expert-grouped form for decode-sized routing (a few rows per expert): a tile is up to 8
// rows of one expert from the device-built list (planned with 8-row tiles), multiplied by the
// skinny kernel so each expert's weights stream once at full bandwidth; blocks past the list's
// end leave at once.
extern "C" __global__ void __launch_bounds__(256) gemm_grouped_skinny(
        const bf16* A, long lda, const bf16* B, long ldb, long sB, void* C, long ldc, const int* offsets,
        const int* tiles, const int* numTiles, int N, int K, float alpha, float beta, int outBf16) {
    const int t = blockIdx.y;
    if (t >= *numTiles) return;
    const int e = tiles[2 * t], mrel = tiles[2 * t + 1], r0 = offsets[e] + mrel;
    const int rows = min(8, offsets[e + 1] - r0);
    const size_t outSize = outBf16 ? sizeof(bf16) : sizeof(float);
    gemm_skinny_body<1>(A + (long)r0 * lda, lda, 0, B + (long)e * sB, ldb, 0,
                        static_cast<char*>(C) + (long)r0 * ldc * outSize, ldc, 0, rows, N, K, alpha, beta, outBf16);
}

// Decode-sized products with K split over a cluster (sm_90): 9 to 64 activation rows against
// many weight rows, where the skinny kernel's activation loads (8 rows x 64 bytes per access,
// once per warp) and too few blocks held it near a third of copy bandwidth. A block owns 128
// weight rows (a warp each 16, as in the skinny kernel) and one of SK slices of K; its slice of
// the activations is staged once in shared memory (rows padded by 16 bytes: conflict-free
// 16-byte reads), the weights stream from global memory into registers. The SK blocks of a
// column tile form a cluster; their partial sums meet in block 0 through distributed shared
// memory, added in rank order, so the result does not depend on timing (graphs replay it
// bit for bit).
#define WSS_SLICES 8
#define WSS_ROWS 128
#define WSS_PITCH (WSS_ROWS + 4)   // partial sums [m][row]: +4 floats keeps the writes conflict-free
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
#define WSS_CLUSTER
#else
#define WSS_CLUSTER __cluster_dims__(1, WSS_SLICES, 1)
#endif

// The split product's parts that do not depend on the weights' format (gemm_fp8.cu has an e4m3
// form): staging a slice of the activations, and adding the slices' partial sums.
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
// The block's slice [kbeg, kbeg + ks) of MP activation rows into shared memory, row pitch apitch
// (rows past M and columns past K read as zeros); committed as one cp.async group.
template <int MP>
__device__ __forceinline__ void wss_stage_activations(bf16* As, int apitch, const bf16* A, long lda, int M, int K,
                                                      int ks, int kbeg) {
    for (int i = threadIdx.x; i < MP * (ks / 8); i += blockDim.x) {
        const int m = i / (ks / 8), c = i % (ks / 8), k = kbeg + c * 8;
        const bool ok = m < M && k < K;
        cp_async16(As + m * apitch + c * 8, ok ? (const void*)(A + (long)m * lda + k) : (const void*)A, ok ? 16 : 0);
    }
    cp_async_commit();
}

// Each block's partial sums into its shared memory (over the staged rows), then block 0 of the
// cluster adds the slices in rank order and stores C = alpha * sum (times scales[n] where given)
// + beta * C. Every block of the cluster calls it; none leaves while block 0 may still read.
template <int NT, int SL = WSS_SLICES>
__device__ __forceinline__ void wss_reduce_store(const float (&acc)[NT][4], float* part, void* Cv, long ldc, int M,
                                                 int N, float alpha, float beta, int outBf16,
                                                 const float* __restrict__ scales) {
    constexpr int MP = NT * 8;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
    __syncthreads();   // every warp is done with the staged rows
#pragma unroll
    for (int j = 0; j < NT; j++)
#pragma unroll
        for (int e = 0; e < 4; e++)
            part[(j * 8 + 2 * t + (e & 1)) * WSS_PITCH + warp * 16 + g + (e >> 1) * 8] = acc[j][e];
    cluster_barrier();
    if (blockIdx.y == 0) {
        const unsigned local = (unsigned)__cvta_generic_to_shared(part);
        for (int i = threadIdx.x; i < MP * WSS_ROWS / 4; i += blockDim.x) {
            const int m = i / (WSS_ROWS / 4), r = (i % (WSS_ROWS / 4)) * 4;
            if (m >= M) continue;
            const unsigned off = (unsigned)((m * WSS_PITCH + r) * 4);
            float4 sum = *reinterpret_cast<const float4*>(part + m * WSS_PITCH + r);
#pragma unroll
            for (int rank = 1; rank < SL; rank++) {
                unsigned remote;
                float4 v;
                asm volatile("mapa.shared::cluster.u32 %0, %1, %2;" : "=r"(remote) : "r"(local + off), "r"(rank));
                asm volatile("ld.shared::cluster.v4.f32 {%0,%1,%2,%3}, [%4];"
                             : "=f"(v.x), "=f"(v.y), "=f"(v.z), "=f"(v.w) : "r"(remote) : "memory");
                sum.x += v.x; sum.y += v.y; sum.z += v.z; sum.w += v.w;
            }
            const float vals[4] = {sum.x, sum.y, sum.z, sum.w};
#pragma unroll
            for (int q = 0; q < 4; q++) {
                const int n = blockIdx.x * WSS_ROWS + r + q;
                if (n < N) {
                    const float v = scales != nullptr ? alpha * scales[n] * vals[q] : alpha * vals[q];
                    if (outBf16) store_out<bf16>(reinterpret_cast<bf16*>(Cv) + (long)m * ldc + n, v, beta);
                    else store_out<float>(reinterpret_cast<float*>(Cv) + (long)m * ldc + n, v, beta);
                }
            }
        }
    }
    // no block leaves while block 0 may still read its shared memory
    cluster_barrier();
}
#endif

template <int NT, int SL = WSS_SLICES>
__device__ __forceinline__ void gemm_skinny_split_body(
        const bf16* __restrict__ A, long lda, const bf16* __restrict__ B, long ldb, void* Cv, long ldc,
        int M, int N, int K, float alpha, float beta, int outBf16) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    constexpr int MP = NT * 8;
    extern __shared__ __align__(16) unsigned char wss_smem[];
    bf16* As = reinterpret_cast<bf16*>(wss_smem);
    float* part = reinterpret_cast<float*>(wss_smem);   // reuses the staged rows once they are read
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
    const int ks = ((K + SL - 1) / SL + 31) & ~31, kbeg = blockIdx.y * ks;
    const int apitch = ks + 8;
    wss_stage_activations<MP>(As, apitch, A, lda, M, K, ks, kbeg);
    const int n0 = blockIdx.x * WSS_ROWS + warp * 16;
    const int nA = n0 + g, nB = n0 + g + 8;
    const bf16* wA = B + (long)min(nA, N - 1) * ldb;
    const bf16* wB = B + (long)min(nB, N - 1) * ldb;
    const bool okA = nA < N, okB = nB < N;
    const int chunks = ks / 32;
    float acc[NT][4];
    zero_regs(acc);
    const uint4 zero = make_uint4(0u, 0u, 0u, 0u);
    for (int c = 0; c < chunks; c += WSK_UNROLL) {
        uint4 wa[WSK_UNROLL], wb[WSK_UNROLL];
#pragma unroll
        for (int u = 0; u < WSK_UNROLL; u++) {
            const int k = kbeg + (c + u) * 32 + t * 8;
            const bool in = c + u < chunks && k < K;
            wa[u] = in && okA ? ld_stream(wA + k) : zero;
            wb[u] = in && okB ? ld_stream(wB + k) : zero;
        }
        if (c == 0) {
            cp_async_wait<0>();
            __syncthreads();
        }
#pragma unroll
        for (int u = 0; u < WSK_UNROLL; u++) {
            if (c + u < chunks) {   // uniform over the warp: mma.sync needs every lane
                const int kl = (c + u) * 32 + t * 8;
                const unsigned a0[4] = {wa[u].x, wb[u].x, wa[u].y, wb[u].y};
                const unsigned a1[4] = {wa[u].z, wb[u].z, wa[u].w, wb[u].w};
#pragma unroll
                for (int j = 0; j < NT; j++) {
                    const uint4 x = *reinterpret_cast<const uint4*>(As + (j * 8 + g) * apitch + kl);
                    const unsigned b0[2] = {x.x, x.y}, b1[2] = {x.z, x.w};
                    mma_bf16_16816(acc[j], a0, b0);
                    mma_bf16_16816(acc[j], a1, b1);
                }
            }
        }
    }
    if (chunks == 0) {
        cp_async_wait<0>();
        __syncthreads();
    }
    wss_reduce_store<NT, SL>(acc, part, Cv, ldc, M, N, alpha, beta, outBf16, nullptr);
#else
    __trap();   // launched only on sm_90 devices
#endif
}

#define GEMM_SKINNY_SPLIT_ENTRY(NAME, NT)                                                                  \
    extern "C" __global__ void WSS_CLUSTER __launch_bounds__(256) NAME(                                     \
        const bf16* A, long lda, const bf16* B, long ldb, void* C, long ldc, int M, int N, int K,           \
        float alpha, float beta, int outBf16) {                                                             \
        gemm_skinny_split_body<NT>(A, lda, B, ldb, C, ldc, M, N, K, alpha, beta, outBf16);                 \
    }
GEMM_SKINNY_SPLIT_ENTRY(gemm_skinny_split_m16, 2)
GEMM_SKINNY_SPLIT_ENTRY(gemm_skinny_split_m32, 4)
GEMM_SKINNY_SPLIT_ENTRY(gemm_skinny_split_m64, 8)

// The split product per expert, for MoE decode steps: tile t of the list (expert e, its rows
// r0 .. r0+15) is the cluster at blockIdx.z, so each touched expert's weights stream once at
// the split product's rate however few rows it was routed. A whole cluster shares t, so the
// clusters past numTiles leave together. SL slices of K: fewer, longer slices where K is short.
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
#define WSS_CLUSTER_OF(SL)
#else
#define WSS_CLUSTER_OF(SL) __cluster_dims__(1, SL, 1)
#endif
#define GEMM_GROUPED_SPLIT_ENTRY(NAME, SL)                                                                 \
    extern "C" __global__ void WSS_CLUSTER_OF(SL) __launch_bounds__(256) NAME(                              \
        const bf16* A, long lda, const bf16* B, long ldb, long sB, void* C, long ldc, const int* offsets,   \
        const int* tiles, const int* numTiles, int N, int K, float alpha, float beta, int outBf16) {        \
        const int t = blockIdx.z;                                                                           \
        if (t >= *numTiles) return;                                                                         \
        const int e = tiles[2 * t], mrel = tiles[2 * t + 1], r0 = offsets[e] + mrel;                        \
        const int rows = min(16, offsets[e + 1] - r0);                                                      \
        const size_t outSize = outBf16 ? sizeof(bf16) : sizeof(float);                                     \
        gemm_skinny_split_body<2, SL>(A + (long)r0 * lda, lda, B + (long)e * sB, ldb,                       \
                                      static_cast<char*>(C) + (long)r0 * ldc * outSize, ldc, rows, N, K, alpha, \
                                      beta, outBf16);                                                       \
    }
GEMM_GROUPED_SPLIT_ENTRY(gemm_grouped_split_m16, 8)
GEMM_GROUPED_SPLIT_ENTRY(gemm_grouped_split_m16_s4, 4)

// ---------------------------------------------------------------------------------------------
// Hopper (sm_90a): 128 x 256 tiles on wgmma, persistent over the tiles. Warpgroup 0 loads,
// warpgroups 1 and 2 each multiply 64 rows of the tile by all 256 columns (m64n256k16 from
// shared memory, 128 fp32 accumulators per thread). The loads are 16-byte cp.async (JCuda
// cannot encode the tensor maps TMA needs) written straight into the 128-byte swizzled
// layout wgmma reads: in each row of 64 bf16, 16-byte chunk c lands at chunk c ^ (row % 8).
// A stage is handed over with mbarriers: the loaders arrive on `full` once their copies have
// landed (cp.async.wait_group, then a proxy fence so the tensor cores see the writes), each
// consumer warpgroup arrives on `empty` when its products have read the stage. The loaders
// run ahead into the next tile while the consumers store the last one.
#define G90_BM 128
#define G90_BN 256
#define G90_BK 64
#define G90_STAGES 4
#define G90_LAG 2    // stages a loader keeps in flight before it signals the oldest
#define G90_A_BYTES (G90_BM * G90_BK * 2)
#define G90_STAGE_BYTES (G90_A_BYTES + G90_BN * G90_BK * 2)
// stages, then the full and empty mbarriers and (128 bytes on) two tensor maps being built
#define G90_SMEM (G90_STAGES * G90_STAGE_BYTES + 1024 + 128 + 256)

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
// Keeps the compiler from moving accumulator reads or writes across wgmma issue and wait.
__device__ __forceinline__ void gemm90_fence_acc(float* d) {
#pragma unroll
    for (int i = 0; i < 128; i++) asm volatile("" : "+f"(d[i]) :: "memory");
}
// The 128 fp32 accumulators of an m64n256 wgmma: their place in the instruction's text and the
// operands that bind them (d[0..127]).
#define GEMM90_ACC_REGS \
    "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15," \
    "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31," \
    "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47," \
    "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63," \
    "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79," \
    "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95," \
    "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111," \
    "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127"
#define GEMM90_ACC_OPERANDS \
    "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), \
    "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), \
    "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), \
    "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), \
    "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), \
    "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), \
    "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), \
    "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]), \
    "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]), \
    "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]), "+f"(d[79]), \
    "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]), \
    "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95]), \
    "+f"(d[96]), "+f"(d[97]), "+f"(d[98]), "+f"(d[99]), "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]), \
    "+f"(d[104]), "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111]), \
    "+f"(d[112]), "+f"(d[113]), "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]), "+f"(d[119]), \
    "+f"(d[120]), "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]), "+f"(d[126]), "+f"(d[127])
__device__ __forceinline__ void gemm90_mma_m64n256k16(float* d, uint64_t da, uint64_t db, int accumulate) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %130, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 {" GEMM90_ACC_REGS
        "}, %128, %129, p, 1, 1, 0, 0;\n}\n"
        : GEMM90_ACC_OPERANDS
        : "l"(da), "l"(db), "r"(accumulate));
}
// e4m3 operands, both K-major (the only layout wgmma takes for 8-bit types): 32 k per step.
__device__ __forceinline__ void gemm90_mma_m64n256k32_e4m3(float* d, uint64_t da, uint64_t db, int accumulate) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %130, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n256k32.f32.e4m3.e4m3 {" GEMM90_ACC_REGS
        "}, %128, %129, p, 1, 1;\n}\n"
        : GEMM90_ACC_OPERANDS
        : "l"(da), "l"(db), "r"(accumulate));
}
#endif

__device__ __forceinline__ void gemm90_pair(float* p, float v0, float v1) {
    *reinterpret_cast<float2*>(p) = make_float2(v0, v1);
}
__device__ __forceinline__ void gemm90_pair(bf16* p, float v0, float v1) {
    *reinterpret_cast<__nv_bfloat162*>(p) = __floats2bfloat162_rn(v0, v1);
}
// Two adjacent outputs: one aligned store when it can be, else one element at a time.
template <typename OutT>
__device__ __forceinline__ void gemm90_store_pair(OutT* p, float v0, float v1, float beta, bool pair, bool second) {
    if (pair && beta == 0.f) {
        gemm90_pair(p, v0, v1);
    } else {
        store_out<OutT>(p, v0, beta);
        if (second) store_out<OutT>(p + 1, v1, beta);
    }
}

// Where one tile of the persistent walk lies: operands, its rows and first row and column, and
// for e4m3 operands the scales of its rows (of A) and columns (of B).
template <typename T>
struct Gemm90Tile {
    const T* A;
    const T* B;
    long c;       // element offset of the tile's operand block in C
    int M, m0, n0;
    int ra, rb;   // the tile's first row of A and of B as the tensor maps count them
    const float* sa;
    const float* sb;
};

// T is bf16, or uint8_t for e4m3 operands (gemm_fp8.cu): a stage row is 128 bytes either way
// (64 or 128 k), a product step 32 bytes (k16 or k32), and e4m3 products are scaled per row of
// A (sa) and per column of B (sb) as they are stored.
// GROUPED: tiles come from the device-built list (expert, first row) over rows permuted per
// expert (offsets [E + 1]), as gemm_grouped; otherwise batches of plain products with strides.
// TMAPS (not null): the loads are tensor copies (TMA) issued by one thread, through two maps per
// block built at TMAPS + blockIdx.x * 256 bytes, over A [M, K] and B [N or 2N, K]; grouped, over
// the permuted rows up to the last listed expert's end and the weight rows of the experts up to
// it (expert e's from row e * sB / ldb). Else 16-byte cp.async by the whole loading warpgroup.
// Both fill the same swizzled stages with zeros past the operands' ends, so the sums are the same
// bit for bit; rows a map reads past a tile's expert feed only outputs that are not stored. Plain
// products use maps only in batches of one.
// SWIGLU: B stacks gate rows [0, N) over up rows [N, 2N) (a fused gate/up weight of width N);
// a tile's 256 columns are gate columns n0 .. n0+127 and the up columns beside them, so each
// thread holds both halves of its outputs and stores silu(gate) * up, N columns of bf16, with
// no fp32 gate/up rows written and read back.
template <typename T, typename OutT, bool GROUPED, bool SWIGLU = false>
__device__ __forceinline__ void gemm90_body(const T* __restrict__ A, long lda, long sA,
                                            const T* __restrict__ B, long ldb, long sB,
                                            OutT* __restrict__ C, long ldc, long sC,
                                            int M, int N, int K, int batch, float alpha, float beta,
                                            const int* __restrict__ offsets, const int* __restrict__ tiles,
                                            const int* __restrict__ numTiles,
                                            const float* __restrict__ sa = nullptr,
                                            const float* __restrict__ sb = nullptr,
                                            unsigned char* __restrict__ tmaps = nullptr) {
#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
    constexpr bool E4M3 = sizeof(T) == 1;
    constexpr int BKE = 128 / sizeof(T);   // k per stage row
    constexpr int CH = 16 / sizeof(T);     // k per 16-byte chunk
    extern __shared__ __align__(1024) unsigned char gemm90_smem[];
    const unsigned raw = (unsigned)__cvta_generic_to_shared(gemm90_smem);
    const unsigned base = (raw + 1023u) & ~1023u;   // the swizzle repeats every 1024 bytes
    const unsigned full = base + G90_STAGES * G90_STAGE_BYTES, empty = full + 8 * G90_STAGES;
    const unsigned mapScratch = full + 128;   // two tensor maps being built (128-byte aligned)
    const int wg = threadIdx.x >> 7, t = threadIdx.x & 127;
    const bool tma = tmaps != nullptr && (GROUPED || batch == 1);
    if (threadIdx.x == 0) {
        for (int s = 0; s < G90_STAGES; s++) {
            hopper_bar_init(full + 8 * s, tma ? 1 : 128);   // the copies' issuer, or every loader
            hopper_bar_init(empty + 8 * s, 2);
        }
        asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
    }
    __syncthreads();
    static_assert(!SWIGLU || sizeof(OutT) == 2, "the SwiGLU epilogue stores bf16");
    constexpr int TILE_N = SWIGLU ? G90_BN / 2 : G90_BN;   // output columns per tile
    constexpr int LAG = G90_LAG;
    const int tilesN = (N + TILE_N - 1) / TILE_N;
    const int tilesM = GROUPED ? 0 : (M + G90_BM - 1) / G90_BM;
    const long perBatch = (long)tilesM * tilesN;
    const long total = GROUPED ? (long)*numTiles * tilesN : perBatch * batch;
    // Columns fastest: the blocks in flight share the rows of A and walk B together. A product
    // with more column tiles than row tiles (the lm_head of a decode step: 2 x 640 tiles) takes
    // rows fastest instead, so each slice of B is read from memory once, by neighbouring blocks,
    // not once per row tile.
    const bool rowsFastest = tilesN > tilesM;
    auto locate = [&](long tile) {
        Gemm90Tile<T> r;
        if constexpr (GROUPED) {
            const int lt = (int)(tile / tilesN), e = tiles[2 * lt], r0 = offsets[e];
            r.A = A + (long)r0 * lda;
            r.B = B + (long)e * sB;
            r.c = (long)r0 * ldc;
            r.M = offsets[e + 1] - r0;
            r.m0 = tiles[2 * lt + 1];
            r.n0 = (int)(tile - (long)lt * tilesN) * TILE_N;
            r.ra = r0 + r.m0;
            r.rb = (int)((long)e * (sB / ldb)) + r.n0;
            if constexpr (E4M3) {
                r.sa = sa + r0;
                r.sb = sb + (long)e * (SWIGLU ? 2 * N : N);
            }
        } else {
            const long z = tile / perBatch;
            const int rem = (int)(tile - z * perBatch);
            r.A = A + z * sA;
            r.B = B + z * sB;
            r.c = z * sC;
            r.M = M;
            r.m0 = (rowsFastest ? rem % tilesM : rem / tilesN) * G90_BM;
            r.n0 = (rowsFastest ? rem / tilesM : rem % tilesN) * TILE_N;
            r.ra = r.m0;
            r.rb = r.n0;
            if constexpr (E4M3) {   // one product (batch 1)
                r.sa = sa;
                r.sb = sb;
            }
        }
        return r;
    };
    const int ktiles = (K + BKE - 1) / BKE;

    if (wg == 0 && tma) {
        asm volatile("setmaxnreg.dec.sync.aligned.u32 40;\n");
        if (t >= 32 || total == 0) return;
        int aRows = M, bRows = SWIGLU ? 2 * N : N;
        if constexpr (GROUPED) {   // the list is in expert order: its last tile names the last expert with rows
            const int last = tiles[2 * (*numTiles - 1)];
            aRows = offsets[last + 1];
            bRows = (int)((long)(last + 1) * (sB / ldb));
        }
        unsigned char* mapA = tmaps + blockIdx.x * 256;
        unsigned char* mapB = mapA + 128;
        constexpr int ELEM = E4M3 ? TMA_ELEM_U8 : TMA_ELEM_BF16;
        tma_map_build<ELEM>(mapScratch, mapA, A, K, aRows, (unsigned long long)lda * sizeof(T), BKE, 128);
        tma_map_build<ELEM>(mapScratch + 128, mapB, B, K, bRows, (unsigned long long)ldb * sizeof(T), BKE, 128);
        if (t != 0) return;
        tma_acquire(mapA);
        tma_acquire(mapB);
        // B's second 128 rows: the next 128 columns, or the up rows of the same ones (SwiGLU)
        const int secondB = SWIGLU ? N : G90_BN / 2;
        int it = 0;
        for (long tile = blockIdx.x; tile < total; tile += gridDim.x) {
            const Gemm90Tile<T> tl = locate(tile);
            for (int kt = 0; kt < ktiles; kt++, it++) {
                const int s = it % G90_STAGES;
                hopper_bar_wait(empty + 8 * s, ((it / G90_STAGES) & 1) ^ 1);
                const unsigned sa = base + s * G90_STAGE_BYTES, sb = sa + G90_A_BYTES, bar = full + 8 * s;
                tma_expect(bar, G90_STAGE_BYTES);
                const int k0 = kt * BKE;
                tma_load_2d(sa, mapA, k0, tl.ra, bar);
                tma_load_2d(sb, mapB, k0, tl.rb, bar);
                tma_load_2d(sb + G90_BN / 2 * 128, mapB, k0, tl.rb + secondB, bar);
            }
        }
    } else if (wg == 0) {
        asm volatile("setmaxnreg.dec.sync.aligned.u32 40;\n");
        // thread t copies 16-byte chunk t % 8 of rows t / 8 + 16 i: 8 consecutive threads read a
        // row's 128 contiguous bytes, and the chunk's swizzled place is the same in every row it copies
        const int lr = t >> 3, lc = t & 7;
        const unsigned dst = lr * 128 + ((lc ^ (lr & 7)) << 4);
        int it = 0;
        for (long tile = blockIdx.x; tile < total; tile += gridDim.x) {
            const Gemm90Tile<T> tl = locate(tile);
            const T* Az = tl.A;
            const T* Bz = tl.B;
            const int m0 = tl.m0, n0 = tl.n0, Mt = tl.M;
            for (int kt = 0; kt < ktiles; kt++, it++) {
                const int s = it % G90_STAGES;
                hopper_bar_wait(empty + 8 * s, ((it / G90_STAGES) & 1) ^ 1);
                const unsigned sa = base + s * G90_STAGE_BYTES, sb = sa + G90_A_BYTES;
                const int k0 = kt * BKE;
                const bool kin = k0 + lc * CH < K;
                const T* pa = Az + (long)(m0 + lr) * lda + k0 + lc * CH;
                const T* pb = Bz + (long)(n0 + lr) * ldb + k0 + lc * CH;
#pragma unroll
                for (int i = 0; i < G90_BM / 16; i++, pa += 16 * lda) {
                    const bool ok = kin && 16 * i < Mt - m0 - lr;
                    hopper_cp16(sa + dst + i * 2048, ok ? pa : Az, ok ? 16 : 0);
                }
#pragma unroll
                for (int i = 0; i < G90_BN / 16; i++, pb += 16 * ldb) {
                    // SwiGLU: tile rows 128.. are the up rows of the same columns, N rows further
                    const int half = SWIGLU && i >= G90_BN / 32 ? 1 : 0;
                    const int r = 16 * (i - half * (G90_BN / 32));
                    const bool ok = kin && r < N - n0 - lr;
                    const T* src = half ? pb + ((long)N - G90_BN / 2) * ldb : pb;
                    hopper_cp16(sb + dst + i * 2048, ok ? src : Bz, ok ? 16 : 0);
                }
                cp_async_commit();
                if (it >= LAG) {
                    cp_async_wait<LAG>();
                    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
                    hopper_bar_arrive(full + 8 * ((it - LAG) % G90_STAGES));
                }
            }
        }
        cp_async_wait<0>();
        asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
        for (int j = it > LAG ? it - LAG : 0; j < it; j++) hopper_bar_arrive(full + 8 * (j % G90_STAGES));
    } else {
        asm volatile("setmaxnreg.inc.sync.aligned.u32 232;\n");
        const int half = wg - 1, w = t >> 5, l = t & 31;
        float acc[128];
#pragma unroll
        for (int i = 0; i < 128; i++) acc[i] = 0.f;
        int it = 0;
        for (long tile = blockIdx.x; tile < total; tile += gridDim.x) {
            const Gemm90Tile<T> tl = locate(tile);
            const int m0 = tl.m0, n0 = tl.n0, Mt = tl.M;
            // a warpgroup whose 64 rows all lie past the tile's end (an expert's last, short
            // tile) leaves the tensor cores to the other one: it only hands the stages back
            if (m0 + half * 64 >= Mt) {
                for (int kt = 0; kt < ktiles; kt++, it++) {
                    const int s = it % G90_STAGES;
                    hopper_bar_wait(full + 8 * s, (it / G90_STAGES) & 1);
                    if (t == 0) hopper_bar_arrive(empty + 8 * s);
                }
                continue;
            }
            for (int kt = 0; kt < ktiles; kt++, it++) {
                const int s = it % G90_STAGES;
                hopper_bar_wait(full + 8 * s, (it / G90_STAGES) & 1);
                const unsigned sa = base + s * G90_STAGE_BYTES;
                const uint64_t da = hopper_desc(sa + half * 64 * 128), db = hopper_desc(sa + G90_A_BYTES);
                gemm90_fence_acc(acc);
                asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#pragma unroll
                for (int kk = 0; kk < 4; kk++) {   // 32 bytes further along each row
                    if constexpr (E4M3) gemm90_mma_m64n256k32_e4m3(acc, da + 2 * kk, db + 2 * kk, kt > 0 || kk > 0);
                    else gemm90_mma_m64n256k16(acc, da + 2 * kk, db + 2 * kk, kt > 0 || kk > 0);
                }
                asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
                asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory");
                gemm90_fence_acc(acc);
                if (t == 0) hopper_bar_arrive(empty + 8 * s);
            }
            // accumulator layout: 8-column block j holds rows r and r + 8 of this warp's 16
            OutT* Cz = C + tl.c;
            const bool pairs = (ldc & 1) == 0 && (reinterpret_cast<uintptr_t>(Cz) & (2 * sizeof(OutT) - 1)) == 0;
            const int row0 = m0 + half * 64 + w * 16 + (l >> 2);
            if constexpr (SWIGLU) {
#pragma unroll
                for (int j = 0; j < 16; j++) {   // gate in block j, up in block j + 16
                    const int col = n0 + j * 8 + (l & 3) * 2;
#pragma unroll
                    for (int h = 0; h < 2; h++) {
                        const int row = row0 + h * 8;
                        if (row < Mt && col < N) {
                            float g0 = alpha * acc[j * 4 + h * 2], g1 = alpha * acc[j * 4 + h * 2 + 1];
                            float u0 = alpha * acc[(j + 16) * 4 + h * 2], u1 = alpha * acc[(j + 16) * 4 + h * 2 + 1];
                            if constexpr (E4M3) {
                                const float r = tl.sa[row];
                                g0 *= r * tl.sb[col];
                                u0 *= r * tl.sb[N + col];
                                g1 = col + 1 < N ? g1 * r * tl.sb[col + 1] : 0.f;
                                u1 = col + 1 < N ? u1 * r * tl.sb[N + col + 1] : 0.f;
                            }
                            gemm90_store_pair<OutT>(Cz + (long)row * ldc + col, silu(g0) * u0, silu(g1) * u1, 0.f,
                                                    pairs && col + 1 < N, col + 1 < N);
                        }
                    }
                }
            } else {
#pragma unroll
                for (int j = 0; j < 32; j++) {
                    const int col = n0 + j * 8 + (l & 3) * 2;
#pragma unroll
                    for (int h = 0; h < 2; h++) {
                        const int row = row0 + h * 8;
                        if (row < Mt && col < N) {
                            float s0 = alpha, s1 = alpha;
                            if constexpr (E4M3) {
                                const float r = alpha * tl.sa[row];
                                s0 = r * tl.sb[col];
                                s1 = col + 1 < N ? r * tl.sb[col + 1] : 0.f;
                            }
                            gemm90_store_pair<OutT>(Cz + (long)row * ldc + col, s0 * acc[j * 4 + h * 2],
                                                    s1 * acc[j * 4 + h * 2 + 1], beta, pairs && col + 1 < N, col + 1 < N);
                        }
                    }
                }
            }
        }
    }
#else
    __trap();   // launched only on sm_90 devices, whose code is the sm_90a build
#endif
}

#define GEMM90_ENTRY(NAME, OUT)                                                                          \
    extern "C" __global__ void __launch_bounds__(384, 1) NAME(                                            \
        const bf16* A, long lda, long sA, const bf16* B, long ldb, long sB, OUT* C, long ldc, long sC,     \
        int M, int N, int K, int batch, float alpha, float beta, unsigned char* tmaps) {                  \
        gemm90_body<bf16, OUT, false>(A, lda, sA, B, ldb, sB, C, ldc, sC, M, N, K, batch, alpha, beta,    \
                                      nullptr, nullptr, nullptr, nullptr, nullptr, tmaps);                \
    }
GEMM90_ENTRY(gemm90_f32, float)
GEMM90_ENTRY(gemm90_bf16, bf16)

#define GEMM90_GROUPED_ENTRY(NAME, OUT)                                                                  \
    extern "C" __global__ void __launch_bounds__(384, 1) NAME(                                            \
        const bf16* A, long lda, const bf16* B, long ldb, long sB, OUT* C, long ldc, const int* offsets,   \
        const int* tiles, const int* numTiles, int N, int K, float alpha, float beta,                     \
        unsigned char* tmaps) {                                                                           \
        gemm90_body<bf16, OUT, true>(A, lda, 0, B, ldb, sB, C, ldc, 0, 0, N, K, 1, alpha, beta,           \
                                     offsets, tiles, numTiles, nullptr, nullptr, tmaps);                  \
    }
GEMM90_GROUPED_ENTRY(gemm90_grouped_f32, float)
GEMM90_GROUPED_ENTRY(gemm90_grouped_bf16, bf16)

// A fused gate/up weight's product (gate rows [0, N), up rows [N, 2N)) with SwiGLU applied as
// it stores: C [M, N] bf16 = silu(A W_gate^T) * (A W_up^T), for prefill-sized rows.
extern "C" __global__ void __launch_bounds__(384, 1) gemm90_swiglu(
    const bf16* A, long lda, const bf16* B, long ldb, bf16* C, long ldc, int M, int N, int K, float alpha,
    unsigned char* tmaps) {
    gemm90_body<bf16, bf16, false, true>(A, lda, 0, B, ldb, 0, C, ldc, 0, M, N, K, 1, alpha, 0.f, nullptr, nullptr,
                                         nullptr, nullptr, nullptr, tmaps);
}

// The grouped product of a fused gate/up weight (gate rows [0, N), up rows [N, 2N) per expert)
// with SwiGLU applied as it stores: C [rows, N] bf16 = silu(A W_gate^T) * (A W_up^T).
extern "C" __global__ void __launch_bounds__(384, 1) gemm90_grouped_swiglu(
    const bf16* A, long lda, const bf16* B, long ldb, long sB, bf16* C, long ldc, const int* offsets,
    const int* tiles, const int* numTiles, int N, int K, float alpha, unsigned char* tmaps) {
    gemm90_body<bf16, bf16, true, true>(A, lda, 0, B, ldb, sB, C, ldc, 0, 0, N, K, 1, alpha, 0.f, offsets, tiles,
                                        numTiles, nullptr, nullptr, tmaps);
}

// The Hopper product's loads by tensor copy, alone: one block builds the map of a bf16 matrix
// [rows, cols] (pitch ld elements) as gemm90_body does, copies the box of 64 columns x 128 rows
// at (col, row) into shared memory, and writes those 16 KB out as they lie there (the swizzled
// layout, zeros past the matrix), so a test can hold the map's encoding apart from the pipeline.
extern "C" __global__ void __launch_bounds__(128) gemm90_tensor_copy_probe(const bf16* A, long ld, int rows, int cols,
                                                                         int col, int row, unsigned char* map,
                                                                         uint4* out) {
#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
    extern __shared__ __align__(1024) unsigned char probe_smem[];
    const unsigned raw = (unsigned)__cvta_generic_to_shared(probe_smem);
    const unsigned base = (raw + 1023u) & ~1023u, bar = base + 16384, scratch = base + 16384 + 128;
    if (threadIdx.x < 32) {
        tma_map_build<TMA_ELEM_BF16>(scratch, map, A, cols, rows, (unsigned long long)ld * 2, 64, 128);
        if (threadIdx.x == 0) {
            hopper_bar_init(bar, 1);
            asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
            tma_acquire(map);
            tma_expect(bar, 16384);
            tma_load_2d(base, map, col, row, bar);
        }
    }
    __syncthreads();
    hopper_bar_wait(bar, 0);
    const uint4* src = reinterpret_cast<const uint4*>(probe_smem + (base - raw));
    for (int i = threadIdx.x; i < 1024; i += blockDim.x) out[i] = src[i];
#else
    __trap();   // launched only on sm_90 devices
#endif
}

// ---------------------------------------------------------------------------------------------
// K split over the Hopper product's batches (GemmKernel.splitK): partial sums P [splits][M, N]
// (fp32, split z at P + z * sP) are added in split order, so the result does not depend on
// which blocks finish first: C = alpha * sum_z P_z + beta * C.
extern "C" __global__ void gemm_splitk_reduce(const float* __restrict__ P, long sP, int splits, void* C, long ldc,
                                              int M, int N, float alpha, float beta, int outBf16) {
    const long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long)M * N) return;
    float s = 0.f;
    for (int z = 0; z < splits; z++) s += P[z * sP + i];
    const long o = i / N * ldc + i % N;
    if (outBf16) store_out<bf16>(static_cast<bf16*>(C) + o, alpha * s, beta);
    else store_out<float>(static_cast<float*>(C) + o, alpha * s, beta);
}
