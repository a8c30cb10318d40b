// KDA inputs for the delta rule, one warp per (token, head): L2-normalised q (scaled by
// 1/sqrt(D)) and k, v copied, the log forget gate g = -exp(A_log) * softplus(a + dt_bias)
// and beta = sigmoid(b). Outputs are [T, H, D] (beta [T, H]); g and beta fp32, q, k and v fp32
// (kda_prepare: the recurrence and the exact chunk form) or bf16 (kda_prepare_bf16: the
// tensor-core chunk form, whose products take bf16 operands). The _padded forms write heads of
// `pitch` >= D channels, the channels past D zero (q, k, v and the log decay g): a head size the
// recurrence and chunk kernels are not built for runs on the next one they are, unchanged (zero
// keys, values and queries keep the state's extra rows and columns zero; g = 0 decays nothing).
#include "common.cuh"

__device__ __forceinline__ float softplus_(float x) { return x > 20.f ? x : log1pf(expf(x)); }

__device__ __forceinline__ void kda_put(float* p, float x) { *p = x; }
__device__ __forceinline__ void kda_put(bf16* p, float x) { *p = f2bf(x); }

// qkv [T, ldqkv]: q in columns [0, HD), k in [HD, 2HD), v in [2HD, 3HD) (after the conv);
// a [T, lda] (f_b output, dt_bias not yet added); b [T, ldb] (b_proj output, one per head).
template <typename Out, bool PADDED>
__device__ __forceinline__ void kda_prepare_body(const float* __restrict__ qkv, long ldqkv, const float* __restrict__ a,
                                                 long lda, const float* __restrict__ b, long ldb,
                                                 const float* __restrict__ dtBias, const float* __restrict__ aLog,
                                                 Out* __restrict__ qo, Out* __restrict__ ko, Out* __restrict__ vo,
                                                 float* __restrict__ go, float* __restrict__ betao, int tokens,
                                                 int heads, int dim, int pitch) {
    const int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (row >= tokens * heads) return;
    const int t = row / heads, h = row % heads, hd = heads * dim;
    const float* qr = qkv + (long)t * ldqkv + h * dim;
    const float* kr = qr + hd;
    const float* vr = qr + 2 * hd;
    float sq = 0.f, sk = 0.f;
    for (int i = lane; i < dim; i += 32) { sq += qr[i] * qr[i]; sk += kr[i] * kr[i]; }
    float iq = rsqrtf(warp_sum(sq) + 1e-6f) * rsqrtf((float)dim);
    float ik = rsqrtf(warp_sum(sk) + 1e-6f);
    long o = (long)row * pitch;
    float decay = -expf(aLog[h]);
    const float* ar = a + (long)t * lda + h * dim;
    for (int i = lane; i < dim; i += 32) {
        kda_put(qo + o + i, qr[i] * iq);
        kda_put(ko + o + i, kr[i] * ik);
        kda_put(vo + o + i, vr[i]);
        go[o + i] = decay * softplus_(ar[i] + dtBias[h * dim + i]);
    }
    if constexpr (PADDED) {
        for (int i = dim + lane; i < pitch; i += 32) {
            kda_put(qo + o + i, 0.f);
            kda_put(ko + o + i, 0.f);
            kda_put(vo + o + i, 0.f);
            go[o + i] = 0.f;
        }
    }
    if (lane == 0) betao[row] = sigmoidf_(b[(long)t * ldb + h]);
}

#define KDA_PREPARE_ENTRY(NAME, OUT)                                                                          \
    extern "C" __global__ void NAME(const float* qkv, long ldqkv, const float* a, long lda, const float* b,   \
                                    long ldb, const float* dtBias, const float* aLog, OUT* qo, OUT* ko,       \
                                    OUT* vo, float* go, float* betao, int tokens, int heads, int dim) {       \
        kda_prepare_body<OUT, false>(qkv, ldqkv, a, lda, b, ldb, dtBias, aLog, qo, ko, vo, go, betao, tokens, \
                                     heads, dim, dim);                                                        \
    }
KDA_PREPARE_ENTRY(kda_prepare, float)
KDA_PREPARE_ENTRY(kda_prepare_bf16, bf16)

#define KDA_PREPARE_PADDED_ENTRY(NAME, OUT)                                                                   \
    extern "C" __global__ void NAME(const float* qkv, long ldqkv, const float* a, long lda, const float* b,   \
                                    long ldb, const float* dtBias, const float* aLog, OUT* qo, OUT* ko,       \
                                    OUT* vo, float* go, float* betao, int tokens, int heads, int dim,         \
                                    int pitch) {                                                              \
        kda_prepare_body<OUT, true>(qkv, ldqkv, a, lda, b, ldb, dtBias, aLog, qo, ko, vo, go, betao, tokens,  \
                                    heads, dim, pitch);                                                       \
    }
KDA_PREPARE_PADDED_ENTRY(kda_prepare_padded, float)
KDA_PREPARE_PADDED_ENTRY(kda_prepare_padded_bf16, bf16)

// g alone ([T, H*D] in and out): the gate as the reference computes it.
extern "C" __global__ void kda_gate(const float* __restrict__ a, const float* __restrict__ dtBias,
                                    const float* __restrict__ aLog, float* __restrict__ g, int tokens, int heads, int dim) {
    long i = (long)blockIdx.x * blockDim.x + threadIdx.x;
    long n = (long)tokens * heads * dim;
    if (i >= n) return;
    int c = (int)(i % ((long)heads * dim));
    g[i] = -expf(aLog[c / dim]) * softplus_(a[i] + dtBias[c]);
}
