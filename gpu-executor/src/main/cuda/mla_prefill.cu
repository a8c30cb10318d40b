// MLA prefill attention on the tensor cores over the paged latent cache, in expanded form:
// each sequence's cached latent rows (the chunk's own rows included: they are written first)
// are gathered into a dense buffer, expanded per head by two products into K_nope = c W_UK^T
// and V^T = W_UV c^T, and attended to flash-style (online softmax, P never leaves registers)
// by queries [nope 128 | rot 64] against keys [K_nope 128 | the shared k_rot 64]. Passes of
// bounded size walk long contexts: a sequence's keys come in pieces, in key order, and the
// softmax state (m, l, unnormalised O) goes through fp32 scratch between pieces.
//
// A piece is 5 ints: sequence, first key, end key, first gathered row, flags (1: the
// sequence's first piece, 2: its last). A work item is 2 ints: piece, first query of its
// block of 128 (queries are the sequence's new tokens, at positions ctx + i).
#include "hopper.cuh"

#define MLAP_FIRST 1
#define MLAP_LAST 2
#define MLAP_BM 128
#define MLAP_BN 128
#define MLAP_STAGES 2
#define MLAP_LAG 2
#define MLAP_Q_WG_BYTES (3 * 64 * 128)          // a consumer warpgroup's 64 query rows: 3 atoms of 64 columns
#define MLAP_Q_BYTES (2 * MLAP_Q_WG_BYTES)
#define MLAP_K_BYTES (3 * MLAP_BN * 128)        // 128 keys x 192: nope 2 atoms, rot 1 atom
#define MLAP_V_BYTES (2 * 128 * 128)            // V^T: 128 value rows x 128 keys, 2 atoms of 64 keys
#define MLAP_SMEM (MLAP_Q_BYTES + MLAP_STAGES * (MLAP_K_BYTES + MLAP_V_BYTES) + 1024 + 8 * 4 * MLAP_STAGES)

// One warp per gathered row: the cache row of key k1 of its piece, zeros past the piece's end.
extern "C" __global__ void mla_prefill_gather(const bf16* __restrict__ cache, const int* __restrict__ blockTables,
                                              int maxPages, int pageSize, const int* __restrict__ pieces,
                                              int numPieces, bf16* __restrict__ rows, int totalRows, int width) {
    const int g = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (g >= totalRows) return;
    int lo = 0, hi = numPieces - 1;
    while (lo < hi) {
        const int mid = (lo + hi + 1) >> 1;
        if (pieces[5 * mid + 3] <= g) lo = mid; else hi = mid - 1;
    }
    const int* p = pieces + 5 * lo;
    const int key = p[1] + (g - p[3]);
    uint4* dst = reinterpret_cast<uint4*>(rows + (long)g * width);
    const int chunks = width >> 3;
    if (key < p[2]) {
        const long row = (long)blockTables[(long)p[0] * maxPages + key / pageSize] * pageSize + key % pageSize;
        const uint4* src = reinterpret_cast<const uint4*>(cache + row * width);
        for (int c = lane; c < chunks; c += 32) dst[c] = src[c];
    } else {
        for (int c = lane; c < chunks; c += 32) dst[c] = make_uint4(0, 0, 0, 0);
    }
}

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
// S (+)= A B^T, m64n128k16: A [64 rows, 16] and B [128 rows, 16] from shared memory (K-major,
// 128-byte swizzle); accumulate 0 starts from zero.
__device__ __forceinline__ void mlap_mma_ss(float* d, uint64_t da, uint64_t db, int accumulate) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {"
        "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31,"
        "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47,"
        "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63"
        "}, %64, %65, p, 1, 1, 0, 0;\n}\n"
        :
          "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
          "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
          "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
          "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
          "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
          "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
          "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
        : "l"(da), "l"(db), "r"(accumulate));
}
// O += P B^T, m64n128k16: P [64 rows, 16] bf16 from registers (each warp's 16 rows in the
// m16n8k16 A-fragment layout), B [128 rows, 16] from shared memory as above.
__device__ __forceinline__ void mlap_mma_rs(float* d, const unsigned* a, uint64_t db) {
    asm volatile(
        "{\n.reg .pred p;\nsetp.eq.u32 p, 1, 1;\n"
        "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {"
        "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
        "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31,"
        "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47,"
        "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63"
        "}, {%64, %65, %66, %67}, %68, p, 1, 1, 0;\n}\n"
        :
          "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
          "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
          "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
          "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
          "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
          "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
          "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(db));
}
// Keeps the compiler from moving fragment reads or writes across wgmma issue and wait.
__device__ __forceinline__ void mlap_fence(float* d) {
#pragma unroll
    for (int i = 0; i < 64; i++) asm volatile("" : "+f"(d[i]) :: "memory");
}
__device__ __forceinline__ void mlap_fence(unsigned* d) {
#pragma unroll
    for (int i = 0; i < 32; i++) asm volatile("" : "+r"(d[i]) :: "memory");
}
__device__ __forceinline__ float mlap_exp2(float x) {
    float y;
    asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
    return y;
}
__device__ __forceinline__ unsigned mlap_pack(float lo, float hi) {
    __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<unsigned*>(&v);
}
// S = Q K^T over 192 columns: atoms of 64, 16 columns (32 bytes) a step.
__device__ __forceinline__ void mlap_scores(float* s, unsigned qs, unsigned k) {
    asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#pragma unroll
    for (int kk = 0; kk < 12; kk++) {
        const uint64_t da = hopper_desc(qs + (kk >> 2) * 8192) + 2 * (kk & 3);
        const uint64_t db = hopper_desc(k + (kk >> 2) * 16384) + 2 * (kk & 3);
        mlap_mma_ss(s, da, db, kk > 0);
    }
}
// O += P V^T over 128 keys, P from registers.
__device__ __forceinline__ void mlap_values(float* o, const unsigned* p, unsigned v) {
    asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#pragma unroll
    for (int kk = 0; kk < 8; kk++) mlap_mma_rs(o, p + 4 * kk, hopper_desc(v + (kk >> 2) * 16384) + 2 * (kk & 3));
}
// The online softmax of one tile of raw scores s (this thread's rows pos0 and pos0 + 8, keys
// key0 + j*8 + (l&3)*2 + e): s becomes exp2(s * scale - m); m, lsum advance; corr is the factor
// O must take. The scale rides in the exponent's FFMA; maxima are taken on raw scores (scale > 0).
__device__ __forceinline__ void mlap_softmax(float* s, float* m, float* lsum, float* corr, int key0, int k1,
                                             int pos0, int wgFirstPos, int l, float scale) {
    const bool mask = key0 + MLAP_BN - 1 > wgFirstPos || key0 + MLAP_BN > k1;
#pragma unroll
    for (int hh = 0; hh < 2; hh++) {
        const int pos = pos0 + 8 * hh;
        float raw = -INFINITY;
#pragma unroll
        for (int j = 0; j < 16; j++) {
#pragma unroll
            for (int e = 0; e < 2; e++) {
                const int key = key0 + j * 8 + (l & 3) * 2 + e;
                float v = s[j * 4 + hh * 2 + e];
                if (mask && (key > pos || key >= k1)) v = -INFINITY;
                s[j * 4 + hh * 2 + e] = v;
                raw = fmaxf(raw, v);
            }
        }
        raw = fmaxf(raw, __shfl_xor_sync(0xffffffffu, raw, 1));
        raw = fmaxf(raw, __shfl_xor_sync(0xffffffffu, raw, 2));
        const float mx = fmaxf(m[hh], raw * scale);
        const float use = mx == -INFINITY ? 0.f : mx;   // a row with no key yet stays empty
        corr[hh] = mlap_exp2(m[hh] - use);
        m[hh] = mx;
        float sum = 0.f;
#pragma unroll
        for (int j = 0; j < 16; j++) {
#pragma unroll
            for (int e = 0; e < 2; e++) {
                const float pv = mlap_exp2(fmaf(s[j * 4 + hh * 2 + e], scale, -use));
                s[j * 4 + hh * 2 + e] = pv;
                sum += pv;
            }
        }
        lsum[hh] = lsum[hh] * corr[hh] + sum;
    }
}
__device__ __forceinline__ void mlap_rescale(float* o, const float* corr) {
#pragma unroll
    for (int j = 0; j < 16; j++) {
        o[j * 4] *= corr[0];
        o[j * 4 + 1] *= corr[0];
        o[j * 4 + 2] *= corr[1];
        o[j * 4 + 3] *= corr[1];
    }
}
#endif

// The tensor maps of one pass's operands, for mla_prefill_attention's loads by tensor copy
// (hopper.cuh: built on the device, JCuda cannot encode them): at maps, 128 bytes each, kn
// [totalRows, knCols], rows [totalRows, rowsCols] and vt [vtRows, totalRows], boxes of 64 x 128
// bf16 in the 128-byte swizzle. One warp.
extern "C" __global__ void __launch_bounds__(32) mla_prefill_maps(
        const bf16* kn, long ldk, int knCols, const bf16* rows, long ldr, int rowsCols, const bf16* vt, long ldv,
        int vtRows, int totalRows, unsigned char* maps) {
#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
    __shared__ __align__(128) unsigned char scratch[3 * 128];
    const unsigned s = (unsigned)__cvta_generic_to_shared(scratch);
    tma_map_build<TMA_ELEM_BF16>(s, maps, kn, knCols, totalRows, (unsigned long long)ldk * 2, 64, 128);
    tma_map_build<TMA_ELEM_BF16>(s + 128, maps + 128, rows, rowsCols, totalRows, (unsigned long long)ldr * 2, 64, 128);
    tma_map_build<TMA_ELEM_BF16>(s + 256, maps + 256, vt, totalRows, vtRows, (unsigned long long)ldv * 2, 64, 128);
#else
    __trap();   // launched only on sm_90 devices
#endif
}

// Grid (heads, work items), 384 threads: warpgroup 0 copies K and V^T tiles of 128 keys
// into a 2-stage ring (16-byte cp.async by the warpgroup, or, with maps from mla_prefill_maps,
// tensor copies issued by one thread: the same bytes land either way); warpgroups 1 and 2
// each own 64 query rows of the item's block and overlap the softmax of each key tile with
// the previous tile's P V^T product.
// q [T, ldq] bf16 (head h at h*192: nope 128 | rot 64); kn [G, ldk] bf16 (head h at h*128);
// rows [G, ldr] gathered latent rows, k_rot at column rOff; vt [H*128, ldv] bf16;
// out [T, ldo] bf16 (head h at h*128); oacc [T, H, 128] and ml [T, H, 2] fp32 carry the
// softmax state between pieces. scaleLog2 = log2(e) / sqrt(192).
extern "C" __global__ void __launch_bounds__(384, 1) mla_prefill_attention(
        const bf16* __restrict__ q, long ldq, const bf16* __restrict__ kn, long ldk, const bf16* __restrict__ rows,
        long ldr, int rOff, const bf16* __restrict__ vt, long ldv, const int* __restrict__ cuSeqlens,
        const int* __restrict__ ctxLens, const int* __restrict__ pieces, const int* __restrict__ work,
        bf16* __restrict__ out, long ldo, float* __restrict__ oacc, float* __restrict__ ml, int heads,
        float scaleLog2, const unsigned char* __restrict__ maps) {
#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
    extern __shared__ __align__(1024) unsigned char mlap_smem[];
    const unsigned raw = (unsigned)__cvta_generic_to_shared(mlap_smem);
    const unsigned base = (raw + 1023u) & ~1023u;   // the swizzle repeats every 1024 bytes
    const unsigned sQ = base, sK = sQ + MLAP_Q_BYTES, sV = sK + MLAP_STAGES * MLAP_K_BYTES;
    const unsigned bars = sV + MLAP_STAGES * MLAP_V_BYTES;
    // fullK, emptyK, fullV, emptyV: one mbarrier per stage each
    const unsigned fullK = bars, emptyK = bars + 8 * MLAP_STAGES, fullV = bars + 16 * MLAP_STAGES,
                   emptyV = bars + 24 * MLAP_STAGES;
    const int wg = threadIdx.x >> 7, t = threadIdx.x & 127;
    if (threadIdx.x == 0) {
        for (int s = 0; s < MLAP_STAGES; s++) {
            hopper_bar_init(fullK + 8 * s, maps != nullptr ? 1 : 128);   // the copies' issuer, or every loader
            hopper_bar_init(fullV + 8 * s, maps != nullptr ? 1 : 128);
            hopper_bar_init(emptyK + 8 * s, 2);
            hopper_bar_init(emptyV + 8 * s, 2);
        }
        asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
    }
    __syncthreads();
    const int h = blockIdx.x;
    const int* item = work + 2 * blockIdx.y;
    const int* piece = pieces + 5 * item[0];
    const int seq = piece[0], k0 = piece[1], k1 = piece[2], g0 = piece[3], flags = piece[4];
    const int q0 = item[1], ctx = ctxLens[seq], tok0 = cuSeqlens[seq], n = cuSeqlens[seq + 1] - tok0;
    // key blocks the item needs: up to the last key its last valid query sees
    const int lastKey = min(k1 - 1, ctx + min(q0 + MLAP_BM, n) - 1);
    const int blocks = lastKey >= k0 ? (lastKey - k0) / MLAP_BN + 1 : 0;

    if (wg == 0 && maps != nullptr) {
        asm volatile("setmaxnreg.dec.sync.aligned.u32 40;\n");
        if (t != 0) return;
        const unsigned char* mapK = maps;
        const unsigned char* mapR = maps + 128;
        const unsigned char* mapV = maps + 256;
        tma_acquire(mapK);
        tma_acquire(mapR);
        tma_acquire(mapV);
        for (int b = 0; b < blocks; b++) {
            const int s = b % MLAP_STAGES;
            const unsigned phase = ((b / MLAP_STAGES) & 1) ^ 1;
            const int key = g0 + b * MLAP_BN;
            hopper_bar_wait(emptyK + 8 * s, phase);
            const unsigned k = sK + s * MLAP_K_BYTES, bk = fullK + 8 * s;
            tma_expect(bk, MLAP_K_BYTES);
            tma_load_2d(k, mapK, h * 128, key, bk);
            tma_load_2d(k + 16384, mapK, h * 128 + 64, key, bk);
            tma_load_2d(k + 32768, mapR, rOff, key, bk);
            hopper_bar_wait(emptyV + 8 * s, phase);
            const unsigned v = sV + s * MLAP_V_BYTES, bv = fullV + 8 * s;
            tma_expect(bv, MLAP_V_BYTES);
            tma_load_2d(v, mapV, key, h * 128, bv);
            tma_load_2d(v + 16384, mapV, key + 64, h * 128, bv);
        }
        return;
    }
    if (wg == 0) {
        asm volatile("setmaxnreg.dec.sync.aligned.u32 40;\n");
        // thread t copies 16-byte chunk t % 8 of rows t / 8 + 16 i of each 128-byte-wide atom
        const int lr = t >> 3, lc = t & 7;
        const unsigned dst = hopper_swizzled(lr, lc);
        const bf16* kBase = kn + (long)(g0 + lr) * ldk + (long)h * 128 + lc * 8;
        const bf16* rBase = rows + (long)(g0 + lr) * ldr + rOff + lc * 8;
        const bf16* vBase = vt + (long)(h * 128 + lr) * ldv + g0 + lc * 8;
        int group = 0;   // copy groups in issue order: K of block 0, V of block 0, K of block 1, ...
        auto signal = [&](int upTo) {   // the copies of group upTo have landed: hand its stage over
            const int b = upTo >> 1, s = b % MLAP_STAGES;
            hopper_bar_arrive(((upTo & 1) ? fullV : fullK) + 8 * s);
        };
        for (int b = 0; b < blocks; b++) {
            const int s = b % MLAP_STAGES;
            const unsigned phase = ((b / MLAP_STAGES) & 1) ^ 1;
            const long key = (long)b * MLAP_BN;
            hopper_bar_wait(emptyK + 8 * s, phase);
            const unsigned k = sK + s * MLAP_K_BYTES + dst;
#pragma unroll
            for (int i = 0; i < 8; i++) {
                const long r = key + 16 * i;
                hopper_cp16(k + i * 2048, kBase + r * ldk, 16);
                hopper_cp16(k + 16384 + i * 2048, kBase + r * ldk + 64, 16);
                hopper_cp16(k + 32768 + i * 2048, rBase + r * ldr, 16);
            }
            cp_async_commit();
            if (group >= MLAP_LAG) {
                cp_async_wait<MLAP_LAG>();
                asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
                signal(group - MLAP_LAG);
            }
            group++;
            hopper_bar_wait(emptyV + 8 * s, phase);
            const unsigned v = sV + s * MLAP_V_BYTES + dst;
#pragma unroll
            for (int i = 0; i < 8; i++) {
                hopper_cp16(v + i * 2048, vBase + (long)16 * i * ldv + key, 16);
                hopper_cp16(v + 16384 + i * 2048, vBase + (long)16 * i * ldv + key + 64, 16);
            }
            cp_async_commit();
            if (group >= MLAP_LAG) {
                cp_async_wait<MLAP_LAG>();
                asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
                signal(group - MLAP_LAG);
            }
            group++;
        }
        cp_async_wait<0>();
        asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
        for (int j = group > MLAP_LAG ? group - MLAP_LAG : 0; j < group; j++) signal(j);
        return;
    }

    asm volatile("setmaxnreg.inc.sync.aligned.u32 232;\n");
    const int half = wg - 1, w = t >> 5, l = t & 31;
    const int wq0 = q0 + half * 64;   // this warpgroup's first query
    // the warpgroup's 64 query rows into shared memory, zeros past the sequence's end
    const unsigned qs = sQ + half * MLAP_Q_WG_BYTES;
    {
        const int lr = t >> 3, lc = t & 7;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            const int r = lr + 16 * i;
            const bool ok = wq0 + r < n;
            const bf16* src = q + (long)(tok0 + (ok ? wq0 + r : 0)) * ldq + (long)h * 192 + lc * 8;
#pragma unroll
            for (int a = 0; a < 3; a++) hopper_cp16(qs + a * 8192 + hopper_swizzled(r, lc), src + a * 64, ok ? 16 : 0);
        }
        cp_async_commit();
        cp_async_wait<0>();
        asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
        asm volatile("bar.sync %0, 128;\n" :: "r"(1 + half) : "memory");
    }
    // this thread's rows: r and r + 8 of its warp's 16 (the accumulator layout of wgmma)
    const int row0 = wq0 + w * 16 + (l >> 2);
    const int pos0 = ctx + row0;
    const int wgLast = min(k1 - 1, ctx + min(wq0 + 64, n) - 1);   // last key this warpgroup needs
    const int wgBlocks = wq0 < n && wgLast >= k0 ? (wgLast - k0) / MLAP_BN + 1 : 0;
    const int wgFirstPos = ctx + wq0;
    float o[64], s[64], m[2], lsum[2];
    if (flags & MLAP_FIRST) {
        zero_regs(o);
        m[0] = m[1] = -INFINITY;
        lsum[0] = lsum[1] = 0.f;
    } else {
#pragma unroll
        for (int hh = 0; hh < 2; hh++) {
            const int row = row0 + 8 * hh;
            const bool ok = row < n;
            const long at = ((long)(tok0 + (ok ? row : 0)) * heads + h);
            m[hh] = ok ? ml[2 * at] : -INFINITY;
            lsum[hh] = ok && (l & 3) == 0 ? ml[2 * at + 1] : 0.f;
#pragma unroll
            for (int j = 0; j < 16; j++) {
                const float2 v = ok ? *reinterpret_cast<const float2*>(oacc + at * 128 + j * 8 + (l & 3) * 2)
                                    : make_float2(0.f, 0.f);
                o[j * 4 + hh * 2] = v.x;
                o[j * 4 + hh * 2 + 1] = v.y;
            }
        }
    }
    // FlashAttention-3's overlap inside a warpgroup: S_b = Q K_b^T and O += P_{b-1} V_{b-1} are
    // issued together, and the softmax of S_b runs while the tensor cores finish P_{b-1} V_{b-1}.
    // O is rescaled only once that product has landed.
    if (wgBlocks > 0) {
        float corr[2];
        hopper_bar_wait(fullK, 0);
        mlap_scores(s, qs, sK);
        asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
        asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory");
        mlap_fence(s);
        if (t == 0) hopper_bar_arrive(emptyK);
        mlap_softmax(s, m, lsum, corr, k0, k1, pos0, wgFirstPos, l, scaleLog2);
        mlap_rescale(o, corr);
        unsigned p[32];
#pragma unroll
        for (int i = 0; i < 32; i++) p[i] = mlap_pack(s[2 * i], s[2 * i + 1]);
        for (int b = 1; b < wgBlocks; b++) {
            const int st = b % MLAP_STAGES, pst = (b - 1) % MLAP_STAGES;
            const unsigned phase = (b / MLAP_STAGES) & 1, pphase = ((b - 1) / MLAP_STAGES) & 1;
            hopper_bar_wait(fullK + 8 * st, phase);
            mlap_fence(s);
            mlap_fence(o);
            mlap_fence(p);
            mlap_scores(s, qs, sK + st * MLAP_K_BYTES);
            asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
            hopper_bar_wait(fullV + 8 * pst, pphase);
            mlap_values(o, p, sV + pst * MLAP_V_BYTES);
            asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
            asm volatile("wgmma.wait_group.sync.aligned 1;\n" ::: "memory");
            mlap_fence(s);
            if (t == 0) hopper_bar_arrive(emptyK + 8 * st);
            mlap_softmax(s, m, lsum, corr, k0 + b * MLAP_BN, k1, pos0, wgFirstPos, l, scaleLog2);
            asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory");
            mlap_fence(o);
            mlap_fence(p);
            if (t == 0) hopper_bar_arrive(emptyV + 8 * pst);
            mlap_rescale(o, corr);
#pragma unroll
            for (int i = 0; i < 32; i++) p[i] = mlap_pack(s[2 * i], s[2 * i + 1]);
        }
        const int lst = (wgBlocks - 1) % MLAP_STAGES;
        hopper_bar_wait(fullV + 8 * lst, ((wgBlocks - 1) / MLAP_STAGES) & 1);
        mlap_fence(o);
        mlap_fence(p);
        mlap_values(o, p, sV + lst * MLAP_V_BYTES);
        asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
        asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory");
        mlap_fence(o);
        mlap_fence(p);
        if (t == 0) hopper_bar_arrive(emptyV + 8 * lst);
    }
    // blocks only the other warpgroup needs: keep the stages' rhythm
    for (int b = wgBlocks; b < blocks; b++) {
        const int st = b % MLAP_STAGES;
        const unsigned phase = (b / MLAP_STAGES) & 1;
        hopper_bar_wait(fullK + 8 * st, phase);
        if (t == 0) hopper_bar_arrive(emptyK + 8 * st);
        hopper_bar_wait(fullV + 8 * st, phase);
        if (t == 0) hopper_bar_arrive(emptyV + 8 * st);
    }
    if (wq0 >= n) return;
#pragma unroll
    for (int hh = 0; hh < 2; hh++) {
        const int row = row0 + 8 * hh;
        float total = lsum[hh];
        total += __shfl_xor_sync(0xffffffffu, total, 1);
        total += __shfl_xor_sync(0xffffffffu, total, 2);
        if (row >= n) continue;
        const long tok = tok0 + row;
        if (flags & MLAP_LAST) {
            const float inv = total > 0.f ? 1.f / total : 0.f;
            bf16* dst = out + tok * ldo + (long)h * 128 + (l & 3) * 2;
#pragma unroll
            for (int j = 0; j < 16; j++)
                *reinterpret_cast<__nv_bfloat162*>(dst + j * 8) =
                        __floats2bfloat162_rn(o[j * 4 + hh * 2] * inv, o[j * 4 + hh * 2 + 1] * inv);
        } else {
            const long at = tok * heads + h;
            float* dst = oacc + at * 128 + (l & 3) * 2;
#pragma unroll
            for (int j = 0; j < 16; j++)
                *reinterpret_cast<float2*>(dst + j * 8) = make_float2(o[j * 4 + hh * 2], o[j * 4 + hh * 2 + 1]);
            if ((l & 3) == 0) {
                ml[2 * at] = m[hh];
                ml[2 * at + 1] = total;
            }
        }
    }
#else
    __trap();   // launched only on sm_90 devices, whose code is the sm_90a build
#endif
}
