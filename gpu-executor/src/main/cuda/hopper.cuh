// Hopper (sm_90a) helpers shared by the wgmma kernel families: stage handover through
// mbarriers, 16-byte copies into shared memory, and the shared-memory matrix descriptor of
// the 128-byte swizzled K-major layout that wgmma reads. Defined only in the sm_90a build.
#pragma once
#include "common.cuh"

#if defined(__CUDA_ARCH__) && defined(__CUDA_ARCH_FEAT_SM90_ALL)
__device__ __forceinline__ void hopper_bar_init(unsigned bar, unsigned count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" :: "r"(bar), "r"(count) : "memory");
}
__device__ __forceinline__ void hopper_bar_arrive(unsigned bar) {
    asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" :: "r"(bar) : "memory");
}
__device__ __forceinline__ void hopper_bar_wait(unsigned bar, unsigned parity) {
    unsigned done = 0;
    while (!done)
        asm volatile("{\n .reg .pred p;\n mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
                     " selp.u32 %0, 1, 0, p;\n}\n" : "=r"(done) : "r"(bar), "r"(parity) : "memory");
}
__device__ __forceinline__ void hopper_cp16(unsigned dst, const void* src, int bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" :: "r"(dst), "l"(src), "r"(bytes) : "memory");
}
// Shared-memory matrix descriptor: K-major rows of 128 bytes, 128-byte swizzle, 8-row groups
// 1024 bytes apart (the leading-dimension offset is unused in this layout). In a row of 64 bf16,
// 16-byte chunk c of row r sits at chunk c ^ (r % 8); a k-step of 16 elements adds 2 (32 bytes).
__device__ __forceinline__ uint64_t hopper_desc(unsigned addr) {
    return (uint64_t)((addr & 0x3FFFF) >> 4) | (1ull << 16) | ((uint64_t)(1024 >> 4) << 32) | (1ull << 62);
}
// Byte offset of 16-byte chunk c of row r in a 128-byte swizzled tile.
__device__ __forceinline__ unsigned hopper_swizzled(int r, int c) { return r * 128 + ((c ^ (r & 7)) << 4); }

// Tensor maps (TMA) built on the device: the host's cuTensorMapEncodeTiled has no JCuda
// binding, but an sm_90a kernel may write every field of a zeroed map itself (tensormap.replace).
// A 2-D map of a row-major matrix [rows, cols] of 1-byte (u8, for e4m3) or bf16 elements, rows
// pitchBytes apart (a multiple of 16), read in boxes of boxCols x boxRows whose 128-byte rows land
// in the 128-byte swizzle wgmma reads (chunk c of row r at c ^ (r % 8): the layout hopper_desc
// describes); elements outside the matrix read as zeros. Built by the whole calling warp in a
// 128-byte-aligned scratch of shared memory, then copied with a release of the tensor-map proxy
// to globalMap (64-byte aligned); tma_acquire must follow in each thread that uses it.
#define TMA_ELEM_U8 0
#define TMA_ELEM_BF16 10
template <int ELEM>
__device__ __forceinline__ void tma_map_build(unsigned smemMap, void* globalMap, const void* base, unsigned cols,
                                              unsigned rows, unsigned long long pitchBytes, unsigned boxCols,
                                              unsigned boxRows) {
    const int lane = threadIdx.x & 31;
    asm volatile("st.shared.u32 [%0], 0;\n" :: "r"(smemMap + 4 * lane) : "memory");
    __syncwarp();
    if (lane == 0) {
#if defined(__CUDACC_VER_MAJOR__) && (__CUDACC_VER_MAJOR__ < 12 || (__CUDACC_VER_MAJOR__ == 12 && __CUDACC_VER_MINOR__ < 8))
        pitchBytes >>= 4;   // ptxas of PTX ISA 8.5 and before takes the stride in 16-byte units
#endif
        asm volatile("tensormap.replace.tile.global_address.shared::cta.b1024.b64 [%0], %1;\n"
                     :: "r"(smemMap), "l"(base) : "memory");
        asm volatile("tensormap.replace.tile.rank.shared::cta.b1024.b32 [%0], 1;\n" :: "r"(smemMap) : "memory");
        asm volatile("tensormap.replace.tile.box_dim.shared::cta.b1024.b32 [%0], 0, %1;\n"
                     :: "r"(smemMap), "r"(boxCols) : "memory");
        asm volatile("tensormap.replace.tile.box_dim.shared::cta.b1024.b32 [%0], 1, %1;\n"
                     :: "r"(smemMap), "r"(boxRows) : "memory");
        asm volatile("tensormap.replace.tile.global_dim.shared::cta.b1024.b32 [%0], 0, %1;\n"
                     :: "r"(smemMap), "r"(cols) : "memory");
        asm volatile("tensormap.replace.tile.global_dim.shared::cta.b1024.b32 [%0], 1, %1;\n"
                     :: "r"(smemMap), "r"(rows) : "memory");
        asm volatile("tensormap.replace.tile.global_stride.shared::cta.b1024.b64 [%0], 0, %1;\n"
                     :: "r"(smemMap), "l"(pitchBytes) : "memory");
        asm volatile("tensormap.replace.tile.element_stride.shared::cta.b1024.b32 [%0], 0, 1;\n"
                     :: "r"(smemMap) : "memory");
        asm volatile("tensormap.replace.tile.element_stride.shared::cta.b1024.b32 [%0], 1, 1;\n"
                     :: "r"(smemMap) : "memory");
        if constexpr (ELEM != 0)
            asm volatile("tensormap.replace.tile.elemtype.shared::cta.b1024.b32 [%0], %1;\n"
                         :: "r"(smemMap), "n"(ELEM) : "memory");
        asm volatile("tensormap.replace.tile.swizzle_mode.shared::cta.b1024.b32 [%0], 3;\n"
                     :: "r"(smemMap) : "memory");
    }
    __syncwarp();
    asm volatile("tensormap.cp_fenceproxy.global.shared::cta.tensormap::generic.release.gpu.sync.aligned [%0], [%1], 128;\n"
                 :: "l"(globalMap), "r"(smemMap) : "memory");
}
// Makes a map written by tma_map_build visible to this thread's tensor copies.
__device__ __forceinline__ void tma_acquire(const void* globalMap) {
    asm volatile("fence.proxy.tensormap::generic.acquire.gpu [%0], 128;\n" :: "l"(globalMap) : "memory");
    // ptxas may omit the fence's wait without a bulk-group wait after it
    asm volatile("cp.async.bulk.commit_group;\n" ::: "memory");
    asm volatile("cp.async.bulk.wait_group.read 0;\n" ::: "memory");
}
// Arrives once on a stage's mbarrier and tells it to expect `bytes` more from tensor copies.
__device__ __forceinline__ void tma_expect(unsigned bar, unsigned bytes) {
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" :: "r"(bar), "r"(bytes) : "memory");
}
// The box at (column col, row row) of the map into shared memory at dst (1024-byte aligned for
// the swizzle), completing its bytes on mbarrier bar.
__device__ __forceinline__ void tma_load_2d(unsigned dst, const void* map, int col, int row, unsigned bar) {
    asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];\n"
                 :: "r"(dst), "l"(map), "r"(col), "r"(row), "r"(bar) : "memory");
}
#endif
