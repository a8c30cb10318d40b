// RMS norms in fp32: the layer norm (fp32 rows in, bf16 rows out for the next matrix
// product) and the KDA output norm gated by sigmoid(z).
#include "common.cuh"

// out[r, :] = x[r, :] / sqrt(mean(x^2) + eps) * w; one block per row. The bf16 outputs
// write the remainder to outLo when it is given (store_split).
extern "C" __global__ void rms_norm_bf16out(const float* __restrict__ x, long ldx,
                                            const float* __restrict__ w, float eps,
                                            bf16* __restrict__ out, bf16* __restrict__ outLo, long ldo, int rows,
                                            int dim) {
    __shared__ float scratch[32];
    const int r = blockIdx.x;
    const float* xr = x + (long)r * ldx;
    float ss = 0.f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) { float v = xr[i]; ss += v * v; }
    float inv = rsqrtf(block_sum(ss, scratch) / dim + eps);
    for (int i = threadIdx.x; i < dim; i += blockDim.x) store_split(out, outLo, (long)r * ldo + i, xr[i] * inv * w[i]);
}

extern "C" __global__ void rms_norm_f32out(const float* __restrict__ x, long ldx,
                                           const float* __restrict__ w, float eps,
                                           float* __restrict__ out, long ldo, int rows, int dim) {
    __shared__ float scratch[32];
    const int r = blockIdx.x;
    const float* xr = x + (long)r * ldx;
    float ss = 0.f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) { float v = xr[i]; ss += v * v; }
    float inv = rsqrtf(block_sum(ss, scratch) / dim + eps);
    float* o = out + (long)r * ldo;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) o[i] = xr[i] * inv * w[i];
}

// KDA output: per (token, head) out = RMSNorm_D(o) * w * sigmoid(z); a warp per row.
// o [T, H*pitch] fp32 (heads of pitch >= D channels, the first D read), z [T, ldz] fp32
// (first H*D columns), out [T, H*D] bf16.
__device__ __forceinline__ void gated_rms_norm_body(const float* __restrict__ o, const float* __restrict__ z, long ldz,
                                                    const float* __restrict__ w, float eps, bf16* __restrict__ out,
                                                    bf16* __restrict__ outLo, int tokens, int heads, int dim,
                                                    int pitch) {
    const int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    const int lane = threadIdx.x & 31;
    if (row >= tokens * heads) return;
    const int t = row / heads, h = row % heads;
    const float* orow = o + (long)row * pitch;
    float ss = 0.f;
    for (int i = lane; i < dim; i += 32) { float v = orow[i]; ss += v * v; }
    float inv = rsqrtf(warp_sum(ss) / dim + eps);
    const float* zr = z + (long)t * ldz + (long)h * dim;
    for (int i = lane; i < dim; i += 32)
        store_split(out, outLo, (long)row * dim + i, orow[i] * inv * w[i] * sigmoidf_(zr[i]));
}

extern "C" __global__ void gated_rms_norm_bf16out(const float* __restrict__ o, const float* __restrict__ z,
                                                  long ldz, const float* __restrict__ w, float eps,
                                                  bf16* __restrict__ out, bf16* __restrict__ outLo, int tokens,
                                                  int heads, int dim) {
    gated_rms_norm_body(o, z, ldz, w, eps, out, outLo, tokens, heads, dim, dim);
}

// The same over heads padded to pitch channels (kda_prepare_padded's layout).
extern "C" __global__ void gated_rms_norm_padded_bf16out(const float* __restrict__ o, const float* __restrict__ z,
                                                         long ldz, const float* __restrict__ w, float eps,
                                                         bf16* __restrict__ out, bf16* __restrict__ outLo, int tokens,
                                                         int heads, int dim, int pitch) {
    gated_rms_norm_body(o, z, ldz, w, eps, out, outLo, tokens, heads, dim, pitch);
}

// As rms_norm_bf16out over the rows listed in rowIdx (the rows whose logits are wanted).
extern "C" __global__ void rms_norm_rows_bf16out(const float* __restrict__ x, long ldx, const int* __restrict__ rowIdx,
                                                 const float* __restrict__ w, float eps, bf16* __restrict__ out,
                                                 bf16* __restrict__ outLo, long ldo, int dim) {
    __shared__ float scratch[32];
    const float* xr = x + (long)rowIdx[blockIdx.x] * ldx;
    float ss = 0.f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) { float v = xr[i]; ss += v * v; }
    float inv = rsqrtf(block_sum(ss, scratch) / dim + eps);
    for (int i = threadIdx.x; i < dim; i += blockDim.x)
        store_split(out, outLo, (long)blockIdx.x * ldo + i, xr[i] * inv * w[i]);
}
