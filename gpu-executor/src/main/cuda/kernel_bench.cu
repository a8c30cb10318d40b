// What the kernel benchmark needs on the device. A timed run is queued behind bench_delay, so
// the host's enqueueing of the start event, the kernels and the end event happens while the
// GPU is busy: the events then time the kernels alone, not the host's launch latency.
#include "common.cuh"

extern "C" __global__ void bench_delay(long long ns) {
    long long t0, t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t0));
    do {
        asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    } while (t - t0 < ns);
}
