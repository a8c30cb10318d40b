// Token choice on the GPU from logits rows: argmax_rows, and choose_tokens, the device form of
// the engine's TokenChooser (greedy; temperature, top-k and top-p draws by the Gumbel-max trick
// over RandomStream's numbers; log-probabilities and the top n). Cuts by rank (top-k, top-n)
// and by mass (top-p) are radix selects over the logits' order-preserving bits, four passes of
// 8-bit digits, so no row is ever sorted.
#include "common.cuh"

#define SAMPLE_THREADS 1024

__device__ __forceinline__ void argmax_merge(float& v, int& i, float ov, int oi) {
    if (oi >= 0 && (i < 0 || ov > v || (ov == v && oi < i))) { v = ov; i = oi; }
}

// This thread's share of a row's argmax: the first index of the largest value among
// row[threadIdx.x], row[threadIdx.x + blockDim.x], ... below n; NaN never wins; arg stays -1
// when the thread saw no value. 16-byte loads, four per thread in flight, where the row is
// aligned: one row (a decode step of one sequence) is read by one block, so its latency is the
// step's (41 -> ~10 us at 163840 on the H100).
__device__ __forceinline__ void thread_argmax(const float* __restrict__ row, int n, float& best, int& arg) {
    int tail = 0;
    if ((reinterpret_cast<uintptr_t>(row) & 15) == 0) {
        const int n4 = n >> 2;
        const float4* r4 = reinterpret_cast<const float4*>(row);
        for (int i = threadIdx.x; i < n4; i += 4 * blockDim.x) {
            float4 v[4];
#pragma unroll
            for (int u = 0; u < 4; u++) {
                const int j = i + u * blockDim.x;
                v[u] = j < n4 ? r4[j] : make_float4(NAN, NAN, NAN, NAN);
            }
#pragma unroll
            for (int u = 0; u < 4; u++) {
                const int j = (i + u * blockDim.x) * 4;
                if (!isnan(v[u].x)) argmax_merge(best, arg, v[u].x, j);
                if (!isnan(v[u].y)) argmax_merge(best, arg, v[u].y, j + 1);
                if (!isnan(v[u].z)) argmax_merge(best, arg, v[u].z, j + 2);
                if (!isnan(v[u].w)) argmax_merge(best, arg, v[u].w, j + 3);
            }
        }
        tail = n4 * 4;
    }
    for (int i = tail + threadIdx.x; i < n; i += blockDim.x) {
        const float v = row[i];
        if (!isnan(v)) argmax_merge(best, arg, v, i);
    }
}

// logits [rows, ldl]; out [rows]; the lowest index wins ties; NaN never wins.
extern "C" __global__ void __launch_bounds__(SAMPLE_THREADS) argmax_rows(const float* __restrict__ logits, long ldl,
                                                                         int vocab, int* __restrict__ out) {
    __shared__ float sv[32];
    __shared__ int si[32];
    const float* row = logits + (long)blockIdx.x * ldl;
    float best = 0.f; int arg = -1;
    thread_argmax(row, vocab, best, arg);
    for (int o = 16; o > 0; o >>= 1)
        argmax_merge(best, arg, __shfl_xor_sync(0xffffffffu, best, o), __shfl_xor_sync(0xffffffffu, arg, o));
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) { sv[warp] = best; si[warp] = arg; }
    __syncthreads();
    if (warp == 0) {
        int nw = blockDim.x >> 5;
        best = lane < nw ? sv[lane] : 0.f;
        arg = lane < nw ? si[lane] : -1;
        for (int o = 16; o > 0; o >>= 1)
            argmax_merge(best, arg, __shfl_xor_sync(0xffffffffu, best, o), __shfl_xor_sync(0xffffffffu, arg, o));
        if (lane == 0) out[blockIdx.x] = arg;
    }
}


// ---------------------------------------------------------------------------- choose_tokens

#define CHOOSE_THREADS 512
#define CHOOSE_WARPS (CHOOSE_THREADS / 32)
#define CHOOSE_TIES CHOOSE_THREADS

// One choice of a RowChoices table, packed by SamplingKernel (40 bytes).
struct Choice {
    unsigned long long key;   // RandomStream.key(seed, sample, position)
    double temperature;       // 0: greedy
    double top_p;
    int row, top_k, logprobs, target;
};

// The float's bits mapped so that unsigned order is numeric order (TokenChooser.orderedBits).
__device__ __forceinline__ unsigned ordered_bits(float v) {
    unsigned b = __float_as_uint(v);
    return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}

__device__ __forceinline__ unsigned long long mix64(unsigned long long z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// RandomStream.gumbel: -log(-log u), u from 52 bits plus a half
__device__ __forceinline__ double gumbel_noise(unsigned long long key, int token) {
    unsigned long long z = mix64(key ^ (0x8CB92BA72F3D8DD7ull * (unsigned long long)(token + 1LL)));
    double u = ((double)(z >> 12) + 0.5) * 0x1.0p-52;
    return -log(-log(u));
}

// TokenChooser.massUnits: a token's weight exp((l - mx) / T) <= 1 in units of 2^-32, so that sums
// are exact integers whatever their order
__device__ __forceinline__ unsigned long long mass_units(float l, float mx, double temperature) {
    return (unsigned long long)(exp(((double)l - mx) / temperature) * 0x1.0p32);
}

// A cut of the ranking (logit descending, id ascending): kept when key > tau, or key == tau and id <= id.
struct Cut { unsigned tau; int id; };

__device__ __forceinline__ bool kept_by(Cut c, unsigned key, int i) {
    return key > c.tau || (key == c.tau && i <= c.id);
}

template <typename T>
__device__ __forceinline__ T warp_sum_t(T v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

template <typename T>
__device__ T block_sum_t(T v, T* scratch) {
    v = warp_sum_t(v);
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    return warp_sum_t(lane < CHOOSE_WARPS ? scratch[lane] : (T)0);
}

__device__ __forceinline__ float block_max_f(float v, float* scratch) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    float t = lane < CHOOSE_WARPS ? scratch[lane] : -INFINITY;
    for (int o = 16; o > 0; o >>= 1) t = fmaxf(t, __shfl_xor_sync(0xffffffffu, t, o));
    return t;
}

// The best (score, id) of the block: the larger score, then the lower id; id -1 is no candidate.
__device__ __forceinline__ void best_merge(double& s, int& i, double os, int oi) {
    if (oi >= 0 && (i < 0 || os > s || (os == s && oi < i))) { s = os; i = oi; }
}

__device__ int block_best(double s, int i, double* ss, int* si) {
    for (int o = 16; o > 0; o >>= 1)
        best_merge(s, i, __shfl_xor_sync(0xffffffffu, s, o), __shfl_xor_sync(0xffffffffu, i, o));
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    __syncthreads();
    if (lane == 0) { ss[warp] = s; si[warp] = i; }
    __syncthreads();
    s = lane < CHOOSE_WARPS ? ss[lane] : 0.0;
    i = lane < CHOOSE_WARPS ? si[lane] : -1;
    for (int o = 16; o > 0; o >>= 1)
        best_merge(s, i, __shfl_xor_sync(0xffffffffu, s, o), __shfl_xor_sync(0xffffffffu, i, o));
    return i;
}

// Exclusive prefix over the block's threads (in thread order), and the block's total.
template <typename T>
__device__ T block_exclusive(T v, T* scratch, T& total) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    T x = v;
    for (int o = 1; o < 32; o <<= 1) {
        T y = __shfl_up_sync(0xffffffffu, x, o);
        if (lane >= o) x += y;
    }
    __syncthreads();
    if (lane == 31) scratch[warp] = x;
    __syncthreads();
    if (warp == 0) {
        T w = lane < CHOOSE_WARPS ? scratch[lane] : (T)0;
        for (int o = 1; o < 32; o <<= 1) {
            T y = __shfl_up_sync(0xffffffffu, w, o);
            if (lane >= o) w += y;
        }
        if (lane < CHOOSE_WARPS) scratch[lane] = w;   // inclusive over warps
    }
    __syncthreads();
    total = scratch[CHOOSE_WARPS - 1];
    return x - v + (warp > 0 ? scratch[warp - 1] : (T)0);
}

struct ChooseShared {
    unsigned long long hist[4096];
    unsigned long long ured[CHOOSE_WARPS];
    double dred[CHOOSE_WARPS];
    float fred[CHOOSE_WARPS];
    int ired[CHOOSE_WARPS];
    int ties[CHOOSE_TIES];
    int tie_count;
    int digit;
    unsigned long long above;
    int found;
    int top_ids[32];
    float top_vals[32];
    int top_count;
};

// Adds w to bin d of the block's histogram, one atomic per distinct bin of a warp: a row's logits
// crowd into few bins, and atomics on one address serialise.
__device__ __forceinline__ void hist_add(unsigned long long* hist, bool active, unsigned d, unsigned long long w,
                                         bool unit) {
    const unsigned peers = __match_any_sync(0xffffffffu, active ? d : 0xffffffffu);
    if (!active) return;
    const int lane = threadIdx.x & 31;
    const int leader = __ffs(peers) - 1;
    unsigned long long sum;
    if (unit) {
        sum = (unsigned long long)__popc(peers);
    } else if (peers == 0xffffffffu) {
        sum = warp_sum_t(w);
    } else {
        sum = 0;
        for (unsigned m = peers; m; m &= m - 1) sum += __shfl_sync(peers, w, __ffs(m) - 1);
    }
    if (lane == leader) atomicAdd(&hist[d], sum);
}

// The cut at the first element of the ranking where the running weight reaches `target`
// (exactly: the element whose weight takes the running sum from below target to target or
// more), among ids < n that are not NaN and are kept by `within`. Weights are 1 (a cut by rank:
// target = k) or mass_units (a cut by mass). When the weights never reach the target,
// everything within is kept. Digits of 12, 10 and 10 bits.
template <bool MASS>
__device__ Cut radix_cut(const float* __restrict__ row, int n, Cut within, unsigned long long target, float mx,
                         double temperature, ChooseShared& sh) {
    unsigned prefix = 0, mask = 0;
    unsigned long long above = 0;
    const int shifts[3] = {20, 10, 0};
    const int widths[3] = {12, 10, 10};
    for (int round = 0; round < 3; round++) {
        const int shift = shifts[round];
        const int bins = 1 << widths[round];
        for (int d = threadIdx.x; d < bins; d += blockDim.x) sh.hist[d] = 0ull;
        __syncthreads();
        // n rounded up to whole warps, so every lane of a warp reaches the match
        const int end = (n + 31) & ~31;
        for (int i = threadIdx.x; i < end; i += blockDim.x) {
            const float l = i < n ? row[i] : NAN;
            const unsigned key = ordered_bits(l);
            const bool active = !isnan(l) && (key & mask) == prefix && kept_by(within, key, i);
            const unsigned long long w = MASS && active ? mass_units(l, mx, temperature) : 1ull;
            hist_add(sh.hist, active, (key >> shift) & (bins - 1), w, !MASS);
        }
        // the crossing bin, scanning bins from the top: thread t owns bins [per * g, per * g + per) of group g = last - t
        const int per = bins / CHOOSE_THREADS;
        const int g = CHOOSE_THREADS - 1 - threadIdx.x;
        __syncthreads();
        unsigned long long mine = 0;
        for (int b = 0; b < per; b++) mine += sh.hist[g * per + b];
        unsigned long long total;
        unsigned long long acc = above + block_exclusive(mine, sh.ured, total);
        if (threadIdx.x == 0) sh.digit = -1;
        __syncthreads();
        for (int b = per - 1; b >= 0; b--) {
            const unsigned long long h = sh.hist[g * per + b];
            if (acc < target && target <= acc + h) { sh.digit = g * per + b; sh.above = acc; }
            acc += h;
        }
        __syncthreads();
        const int d = sh.digit;
        above = sh.above;
        __syncthreads();
        if (d < 0) return within;   // the weights never reach the target
        prefix |= (unsigned)d << shift;
        mask |= (unsigned)(bins - 1) << shift;
    }
    // the elements at tau, by id: the j-th of them is the last one kept
    const unsigned tau = prefix;
    if (threadIdx.x == 0) { sh.tie_count = 0; sh.found = 0x7fffffff; }
    __syncthreads();
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        const float l = row[i];
        if (!isnan(l) && ordered_bits(l) == tau && kept_by(within, tau, i)) {
            const int at = atomicAdd(&sh.tie_count, 1);
            if (at < CHOOSE_TIES) sh.ties[at] = i;
            if (at == 0) sh.fred[0] = l;
        }
    }
    __syncthreads();
    const int count = sh.tie_count;
    const unsigned long long unit = MASS ? mass_units(sh.fred[0], mx, temperature) : 1ull;
    const long long j = (long long)((target - above + unit - 1) / unit);   // >= 1: target > above
    if (count <= CHOOSE_TIES) {
        if ((int)threadIdx.x < count) {
            const int id = sh.ties[threadIdx.x];
            int rank = 0;
            for (int o = 0; o < count; o++) rank += sh.ties[o] < id;
            if (rank + 1 == j) sh.found = id;
        }
    } else {
        // many equal logits: contiguous ranges per thread, so a prefix over threads counts by id
        const int per = (n + blockDim.x - 1) / blockDim.x;
        const int b = min(n, (int)threadIdx.x * per), e = min(n, b + per);
        int mine = 0;
        for (int i = b; i < e; i++) {
            const float l = row[i];
            if (!isnan(l) && ordered_bits(l) == tau && kept_by(within, tau, i)) mine++;
        }
        int total;
        const int before = block_exclusive(mine, sh.ired, total);
        if (j > before && j <= before + mine) {
            long long at = before;
            for (int i = b; i < e; i++) {
                const float l = row[i];
                if (!isnan(l) && ordered_bits(l) == tau && kept_by(within, tau, i) && ++at == j) { sh.found = i; break; }
            }
        }
    }
    __syncthreads();
    Cut c;
    c.tau = tau;
    c.id = sh.found;
    __syncthreads();
    return c;
}

// One block per choice. Outputs: token[c]; logprob[c] (of the target when there is one, else of
// the token; NaN when not asked for); top_ids/top_lp [c * max_top + rank].
extern "C" __global__ void __launch_bounds__(CHOOSE_THREADS) choose_tokens(
        const float* __restrict__ logits, long ldl, int vocab, int sample_vocab, const Choice* __restrict__ choices,
        int max_top, int* __restrict__ out_token, double* __restrict__ out_logprob, int* __restrict__ top_ids,
        double* __restrict__ top_lp) {
    __shared__ ChooseShared sh;
    const Choice ch = choices[blockIdx.x];
    const float* row = logits + (long)ch.row * ldl;
    const int n = min(sample_vocab, vocab);
    const Cut all = {0u, 0x7fffffff};

    // the greedy token: first index of the largest logit below n; NaN never wins. For greedy
    // choices this pass is the whole kernel
    float bv = -INFINITY; int bi = -1;
    thread_argmax(row, n, bv, bi);
    int token = block_best((double)bv, bi, sh.dred, sh.ired);
    if (token < 0) token = 0;
    const float mx = row[token];

    if (!(ch.temperature == 0.0 || ch.top_k == 1)) {
        const double temperature = ch.temperature;
        const int k = ch.top_k <= 0 || ch.top_k >= n ? n : ch.top_k;
        Cut cut = all;
        if (k < n) cut = radix_cut<false>(row, n, all, (unsigned long long)k, mx, temperature, sh);
        if (ch.top_p < 1.0) {
            unsigned long long kept = 0;
            for (int i = threadIdx.x; i < n; i += blockDim.x) {
                const float l = row[i];
                if (!isnan(l) && kept_by(cut, ordered_bits(l), i)) kept += mass_units(l, mx, temperature);
            }
            kept = block_sum_t(kept, sh.ured);
            const unsigned long long target = (unsigned long long)ceil(ch.top_p * (double)kept);
            cut = radix_cut<true>(row, n, cut, target, mx, temperature, sh);
        }
        double bs = 0.0; int bt = -1;
        for (int i = threadIdx.x; i < n; i += blockDim.x) {
            const float l = row[i];
            if (isnan(l) || !kept_by(cut, ordered_bits(l), i)) continue;
            best_merge(bs, bt, (double)l / temperature + gumbel_noise(ch.key, i), i);
        }
        const int drawn = block_best(bs, bt, sh.dred, sh.ired);
        token = drawn < 0 ? token : drawn;
    }
    if (threadIdx.x == 0) out_token[blockIdx.x] = token;
    if (ch.logprobs < 0 && ch.target < 0) {
        if (threadIdx.x == 0) out_logprob[blockIdx.x] = __longlong_as_double(0x7ff8000000000000LL);
        return;
    }
    // log-normaliser over the whole vocabulary, in double
    float m = -INFINITY;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) m = fmaxf(m, row[i]);
    m = block_max_f(m, sh.fred);
    double z = 0.0;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x) z += exp((double)row[i] - m);
    z = block_sum_t(z, sh.dred);
    const double logz = (double)m + log(z);
    if (threadIdx.x == 0) out_logprob[blockIdx.x] = (double)row[ch.target >= 0 ? ch.target : token] - logz;
    const int want = min(min(ch.logprobs, n), min(max_top, 32));
    if (want <= 0) return;
    // the top `want` tokens: a cut by rank, then the few kept ones ranked by comparison
    const Cut top = radix_cut<false>(row, n, all, (unsigned long long)want, mx, 1.0, sh);
    if (threadIdx.x == 0) sh.top_count = 0;
    __syncthreads();
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        const float l = row[i];
        if (isnan(l) || !kept_by(top, ordered_bits(l), i)) continue;
        const int at = atomicAdd(&sh.top_count, 1);
        if (at < 32) { sh.top_ids[at] = i; sh.top_vals[at] = l; }
    }
    __syncthreads();
    const int got = min(sh.top_count, 32);
    if ((int)threadIdx.x < got) {
        const int id = sh.top_ids[threadIdx.x];
        const float v = sh.top_vals[threadIdx.x];
        int rank = 0;
        for (int o = 0; o < got; o++) {
            const float w = sh.top_vals[o];
            const int oid = sh.top_ids[o];
            if (w > v || (w == v && oid < id)) rank++;
        }
        if (rank < want) {
            top_ids[(long)blockIdx.x * max_top + rank] = id;
            top_lp[(long)blockIdx.x * max_top + rank] = (double)v - logz;
        }
    }
}
