// FP8 weights: e4m3 with one fp32 scale per output channel (row of the [N, K] weight).
//
// quantize_rows_e4m3: rows of bf16 to e4m3 with scale = amax / 448 per row (1 for an all-zero
//   row), q = e4m3(x / scale) rounded to nearest even and saturated: the definition
//   Fp8E4m3 / Fp8Quantizer hold on the host, bit for bit (IEEE division, not a reciprocal).
// dequantize_rows_e4m3: back to bf16 (q * scale rounded once), for products that take bf16.
// gemm_fp8w_split_m*: the decode-sized split product of gemm.cu with e4m3 weights: each weight
//   byte is read once (half the bytes of bf16), widened to bf16 in registers and multiplied on
//   the tensor cores against the bf16 activations; the per-channel scale is applied to the sum.
//
// This file follows gemm.cu in the one translation unit build-fatbin.sh makes (files in name
// order) and uses its ld_stream, its WSS_* definitions and the split product's shared parts
// (wss_stage_activations, wss_reduce_store).
#include "common.cuh"
#include <cuda_fp8.h>

#define FP8_MAX 448.f

// The block's largest value of v, in every thread.
__device__ __forceinline__ float block_max(float v) {
    __shared__ float warpMax[32];
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    if ((threadIdx.x & 31) == 0) warpMax[threadIdx.x >> 5] = v;
    __syncthreads();
    if (threadIdx.x < 32) {
        v = threadIdx.x < (blockDim.x >> 5) ? warpMax[threadIdx.x] : 0.f;
        for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
        if (threadIdx.x == 0) warpMax[0] = v;
    }
    __syncthreads();
    return warpMax[0];
}

__device__ __forceinline__ uint8_t e4m3_of(float x, float scale) {
    return (uint8_t)__nv_cvt_float_to_fp8(__fdiv_rn(x, scale), __NV_SATFINITE, __NV_E4M3);
}

// One block per row: the row's absolute maximum, then each element divided by the scale. Rows of
// whole 16-byte pieces (8 bf16) are read once into registers (up to QR_HELD pieces a thread) and
// written 8 codes at a time; other rows element by element. The bytes are the same either way.
#define QR_HELD 4
__device__ __forceinline__ void quantize_row_e4m3(const bf16* __restrict__ x, int K, uint8_t* __restrict__ q,
                                                  float* __restrict__ scale_out) {
    const int pieces = K / 8;
    const bool vec = (K & 7) == 0 && ((reinterpret_cast<uintptr_t>(x) | reinterpret_cast<uintptr_t>(q)) & 7) == 0
                     && (reinterpret_cast<uintptr_t>(x) & 15) == 0 && pieces <= QR_HELD * (int)blockDim.x;
    uint4 held[QR_HELD];
    float amax = 0.f;
    if (vec) {
#pragma unroll
        for (int i = 0; i < QR_HELD; i++) {
            const int p = threadIdx.x + i * blockDim.x;
            held[i] = p < pieces ? reinterpret_cast<const uint4*>(x)[p] : make_uint4(0u, 0u, 0u, 0u);
            const unsigned w[4] = {held[i].x, held[i].y, held[i].z, held[i].w};
#pragma unroll
            for (int j = 0; j < 4; j++) {
                const float2 f = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&w[j]));
                amax = fmaxf(amax, fmaxf(fabsf(f.x), fabsf(f.y)));
            }
        }
    } else {
        for (int k = threadIdx.x; k < K; k += blockDim.x) amax = fmaxf(amax, fabsf(bf2f(x[k])));
    }
    amax = block_max(amax);
    const float scale = amax > 0.f ? __fdiv_rn(amax, FP8_MAX) : 1.f;
    if (threadIdx.x == 0) *scale_out = scale;
    if (vec) {
#pragma unroll
        for (int i = 0; i < QR_HELD; i++) {
            const int p = threadIdx.x + i * blockDim.x;
            if (p < pieces) {
                const unsigned w[4] = {held[i].x, held[i].y, held[i].z, held[i].w};
                unsigned out[2] = {0u, 0u};
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    const float2 f = __bfloat1622float2(*reinterpret_cast<const __nv_bfloat162*>(&w[j]));
                    out[j >> 1] |= ((unsigned)e4m3_of(f.x, scale) | (unsigned)e4m3_of(f.y, scale) << 8) << (16 * (j & 1));
                }
                reinterpret_cast<uint2*>(q)[p] = make_uint2(out[0], out[1]);
            }
        }
    } else {
        for (int k = threadIdx.x; k < K; k += blockDim.x) q[k] = e4m3_of(bf2f(x[k]), scale);
    }
}

extern "C" __global__ void __launch_bounds__(256) quantize_rows_e4m3(
        const bf16* __restrict__ X, long ldx, int rows, int K, uint8_t* __restrict__ Q, long ldq,
        float* __restrict__ scales) {
    const int r = blockIdx.x;
    if (r >= rows) return;
    quantize_row_e4m3(X + (long)r * ldx, K, Q + (long)r * ldq, scales + r);
}

// As above for *rows rows, a count only the device knows (the rows an MoE dispatch gathered);
// the grid covers the most there can be.
extern "C" __global__ void __launch_bounds__(256) quantize_rows_e4m3_counted(
        const bf16* __restrict__ X, long ldx, const int* __restrict__ rows, int K, uint8_t* __restrict__ Q,
        long ldq, float* __restrict__ scales) {
    const int r = blockIdx.x;
    if (r >= *rows) return;
    quantize_row_e4m3(X + (long)r * ldx, K, Q + (long)r * ldq, scales + r);
}

extern "C" __global__ void __launch_bounds__(256) dequantize_rows_e4m3(
        const uint8_t* __restrict__ Q, long ldq, const float* __restrict__ scales, int rows, int K,
        bf16* __restrict__ X, long ldx) {
    const long total = (long)rows * K;
    for (long i = (long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (long)gridDim.x * blockDim.x) {
        const int r = (int)(i / K), k = (int)(i % K);
        const __half_raw h = __nv_cvt_fp8_to_halfraw((__nv_fp8_storage_t)Q[(long)r * ldq + k], __NV_E4M3);
        X[(long)r * ldx + k] = f2bf(__half2float(__half(h)) * scales[r]);
    }
}

// Two e4m3 bytes (at bits 8..15 and 24..31 of `spread`) to a bf16 pair, exactly: the sign to
// bit 15, exponent and mantissa shifted into place, which reads them with bf16's exponent bias
// of 127 instead of 7 (2^-120 of the value, subnormals included), then one exact multiply by
// 2^120. Five integer and one bf16x2 operations per pair, hidden under the weight stream.
__device__ __forceinline__ unsigned e4m3_pair_to_bf16x2(unsigned spread) {
    const unsigned bits = (spread & 0x80008000u) | ((spread >> 4) & 0x07F007F0u);
    unsigned out;
    asm("fma.rn.bf16x2 %0, %1, %2, %3;" : "=r"(out) : "r"(bits), "r"(0x7B807B80u), "r"(0x80008000u));
    return out;
}

// Four e4m3 bytes in k order to two bf16 pairs (k0,k1) and (k2,k3).
__device__ __forceinline__ void e4m3x4_to_bf16(unsigned q, unsigned& lo, unsigned& hi) {
    lo = e4m3_pair_to_bf16x2(__byte_perm(q, 0u, 0x1404));
    hi = e4m3_pair_to_bf16x2(__byte_perm(q, 0u, 0x3424));
}

// The split product (gemm.cu, gemm_skinny_split_body) with e4m3 weight rows: a lane's 16-byte
// load is 16 k of one weight row, four mma k16 steps (the bf16 form's load is 8 k, two steps).
// k within a step is permuted alike in weights and activations, as there. The slice of K is a
// multiple of 64. SL slices of K form the cluster: fewer than the bf16 form's 8, since a slice
// of e4m3 rows is half the bytes for the same fixed costs (staging, the cluster's reduction).
// Measured (H100, 2026-12-07): dense 4 slices, grouped 2 (experts of 2 x 1024 x 2304 and
// 2304 x 1024 at T = 16, 64, 256: 87%, 90%, 76% of copy bandwidth, against 64%, 64%, 52% with 8).
template <int NT, int SL>
__device__ __forceinline__ void gemm_fp8w_split_body(
        const bf16* __restrict__ A, long lda, const uint8_t* __restrict__ B, long ldb,
        const float* __restrict__ scales, void* Cv, long ldc, int M, int N, int K, float alpha, float beta,
        int outBf16) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    constexpr int MP = NT * 8;
    constexpr int UNROLL = 2;   // 2 x 16 bytes per weight row in flight: as many bytes as the bf16 form's 4
    extern __shared__ __align__(16) unsigned char wss_smem[];
    bf16* As = reinterpret_cast<bf16*>(wss_smem);
    float* part = reinterpret_cast<float*>(wss_smem);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
    const int ks = ((K + SL - 1) / SL + 63) & ~63, kbeg = blockIdx.y * ks;
    const int apitch = ks + 8;
    wss_stage_activations<MP>(As, apitch, A, lda, M, K, ks, kbeg);
    const int n0 = blockIdx.x * WSS_ROWS + warp * 16;
    const int nA = n0 + g, nB = n0 + g + 8;
    const uint8_t* wA = B + (long)min(nA, N - 1) * ldb;
    const uint8_t* wB = B + (long)min(nB, N - 1) * ldb;
    const bool okA = nA < N, okB = nB < N;
    const int chunks = ks / 64;
    float acc[NT][4];
    zero_regs(acc);
    const uint4 zero = make_uint4(0u, 0u, 0u, 0u);
    for (int c = 0; c < chunks; c += UNROLL) {
        uint4 wa[UNROLL], wb[UNROLL];
#pragma unroll
        for (int u = 0; u < UNROLL; u++) {
            const int k = kbeg + (c + u) * 64 + t * 16;
            const bool in = c + u < chunks && k < K;
            wa[u] = in && okA ? ld_stream(wA + k) : zero;
            wb[u] = in && okB ? ld_stream(wB + k) : zero;
        }
        if (c == 0) {
            cp_async_wait<0>();
            __syncthreads();
        }
#pragma unroll
        for (int u = 0; u < UNROLL; u++) {
            if (c + u < chunks) {   // uniform over the warp: mma.sync needs every lane
                const int kl = (c + u) * 64 + t * 16;
                unsigned pa[8], pb[8];
                e4m3x4_to_bf16(wa[u].x, pa[0], pa[1]);
                e4m3x4_to_bf16(wa[u].y, pa[2], pa[3]);
                e4m3x4_to_bf16(wa[u].z, pa[4], pa[5]);
                e4m3x4_to_bf16(wa[u].w, pa[6], pa[7]);
                e4m3x4_to_bf16(wb[u].x, pb[0], pb[1]);
                e4m3x4_to_bf16(wb[u].y, pb[2], pb[3]);
                e4m3x4_to_bf16(wb[u].z, pb[4], pb[5]);
                e4m3x4_to_bf16(wb[u].w, pb[6], pb[7]);
#pragma unroll
                for (int j = 0; j < NT; j++) {
                    const bf16* row = As + (j * 8 + g) * apitch + kl;
                    const uint4 x0 = *reinterpret_cast<const uint4*>(row);
                    const uint4 x1 = *reinterpret_cast<const uint4*>(row + 8);
                    const unsigned xs[8] = {x0.x, x0.y, x0.z, x0.w, x1.x, x1.y, x1.z, x1.w};
#pragma unroll
                    for (int s = 0; s < 4; s++) {
                        const unsigned a[4] = {pa[2 * s], pb[2 * s], pa[2 * s + 1], pb[2 * s + 1]};
                        const unsigned b[2] = {xs[2 * s], xs[2 * s + 1]};
                        mma_bf16_16816(acc[j], a, b);
                    }
                }
            }
        }
    }
    if (chunks == 0) {
        cp_async_wait<0>();
        __syncthreads();
    }
    wss_reduce_store<NT, SL>(acc, part, Cv, ldc, M, N, alpha, beta, outBf16, scales);
#else
    __trap();   // launched only on sm_90 devices
#endif
}

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
#define FP8W_CLUSTER(SL)
#else
#define FP8W_CLUSTER(SL) __cluster_dims__(1, SL, 1)
#endif

#define GEMM_FP8W_SPLIT_ENTRY(NAME, NT, SL)                                                                \
    extern "C" __global__ void FP8W_CLUSTER(SL) __launch_bounds__(256) NAME(                                \
        const bf16* A, long lda, const uint8_t* B, long ldb, const float* scales, void* C, long ldc, int M, \
        int N, int K, float alpha, float beta, int outBf16) {                                               \
        gemm_fp8w_split_body<NT, SL>(A, lda, B, ldb, scales, C, ldc, M, N, K, alpha, beta, outBf16);       \
    }
GEMM_FP8W_SPLIT_ENTRY(gemm_fp8w_split_m16_s4, 2, 4)
GEMM_FP8W_SPLIT_ENTRY(gemm_fp8w_split_m32_s4, 4, 4)
GEMM_FP8W_SPLIT_ENTRY(gemm_fp8w_split_m64_s4, 8, 4)

// Per expert, as gemm_grouped_split_m16: expert e's weights at B + e * sB bytes, its scales at
// scales + e * N.
#define GEMM_GROUPED_FP8W_SPLIT_ENTRY(NAME, SL)                                                            \
    extern "C" __global__ void FP8W_CLUSTER(SL) __launch_bounds__(256) NAME(                                \
        const bf16* A, long lda, const uint8_t* B, long ldb, long sB, const float* scales, void* C, long ldc, \
        const int* offsets, const int* tiles, const int* numTiles, int N, int K, float alpha, float beta,    \
        int outBf16) {                                                                                      \
        const int t = blockIdx.z;                                                                           \
        if (t >= *numTiles) return;                                                                         \
        const int e = tiles[2 * t], mrel = tiles[2 * t + 1], r0 = offsets[e] + mrel;                        \
        const int rows = min(16, offsets[e + 1] - r0);                                                      \
        const size_t outSize = outBf16 ? sizeof(bf16) : sizeof(float);                                     \
        gemm_fp8w_split_body<2, SL>(A + (long)r0 * lda, lda, B + (long)e * sB, ldb, scales + (long)e * N,   \
                                    static_cast<char*>(C) + (long)r0 * ldc * outSize, ldc, rows, N, K, alpha, \
                                    beta, outBf16);                                                         \
    }
GEMM_GROUPED_FP8W_SPLIT_ENTRY(gemm_grouped_fp8w_split_m16_s2, 2)

// ---------------------------------------------------------------------------------------------
// Prefill-sized products with e4m3 operands on Hopper: gemm.cu's wgmma pipeline (gemm90_body)
// over e4m3 rows, 128 k a stage and 32 a step, the sum scaled by the row's activation scale
// (sa, from quantize_rows_e4m3 on the fly) and the column's weight scale (sb).
#define GEMM90_FP8_ENTRY(NAME, OUT)                                                                      \
    extern "C" __global__ void __launch_bounds__(384, 1) NAME(                                            \
        const uint8_t* A, long lda, const float* sa, const uint8_t* B, long ldb, const float* sb, OUT* C,  \
        long ldc, int M, int N, int K, float alpha, float beta, unsigned char* tmaps) {                   \
        gemm90_body<uint8_t, OUT, false>(A, lda, 0, B, ldb, 0, C, ldc, 0, M, N, K, 1, alpha, beta,        \
                                         nullptr, nullptr, nullptr, sa, sb, tmaps);                       \
    }
GEMM90_FP8_ENTRY(gemm90_fp8_f32, float)
GEMM90_FP8_ENTRY(gemm90_fp8_bf16, bf16)

// Per expert (gemm90_grouped): expert e's codes at B + e * sB bytes, its scales at sb + e * N;
// sa holds the permuted rows' scales.
#define GEMM90_FP8_GROUPED_ENTRY(NAME, OUT)                                                              \
    extern "C" __global__ void __launch_bounds__(384, 1) NAME(                                            \
        const uint8_t* A, long lda, const float* sa, const uint8_t* B, long ldb, long sB, const float* sb, \
        OUT* C, long ldc, const int* offsets, const int* tiles, const int* numTiles, int N, int K,         \
        float alpha, float beta, unsigned char* tmaps) {                                                  \
        gemm90_body<uint8_t, OUT, true>(A, lda, 0, B, ldb, sB, C, ldc, 0, 0, N, K, 1, alpha, beta,        \
                                        offsets, tiles, numTiles, sa, sb, tmaps);                         \
    }
GEMM90_FP8_GROUPED_ENTRY(gemm90_fp8_grouped_f32, float)
GEMM90_FP8_GROUPED_ENTRY(gemm90_fp8_grouped_bf16, bf16)

// gemm90_swiglu over e4m3: the weight's 2N scales at sb (gate, then up).
extern "C" __global__ void __launch_bounds__(384, 1) gemm90_fp8_swiglu(
    const uint8_t* A, long lda, const float* sa, const uint8_t* B, long ldb, const float* sb, bf16* C, long ldc,
    int M, int N, int K, float alpha, unsigned char* tmaps) {
    gemm90_body<uint8_t, bf16, false, true>(A, lda, 0, B, ldb, 0, C, ldc, 0, M, N, K, 1, alpha, 0.f, nullptr, nullptr,
                                            nullptr, sa, sb, tmaps);
}

// gemm90_grouped_swiglu over e4m3: expert e's gate/up scales at sb + e * 2N (gate, then up).
extern "C" __global__ void __launch_bounds__(384, 1) gemm90_fp8_grouped_swiglu(
    const uint8_t* A, long lda, const float* sa, const uint8_t* B, long ldb, long sB, const float* sb, bf16* C,
    long ldc, const int* offsets, const int* tiles, const int* numTiles, int N, int K, float alpha,
    unsigned char* tmaps) {
    gemm90_body<uint8_t, bf16, true, true>(A, lda, 0, B, ldb, sB, C, ldc, 0, 0, N, K, 1, alpha, 0.f, offsets,
                                           tiles, numTiles, sa, sb, tmaps);
}
