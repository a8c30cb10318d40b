package dev.kimilinear.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * The bf16 buffer e4m3 weights are widened into for the products that do not read e4m3
 * directly: one for the whole model, as large as its largest such weight (every expert of a
 * layer), allocated once the weights are known.
 */
final class DequantScratch implements AutoCloseable {
    private final CudaContext ctx;
    private long bytes;
    private DeviceBuffer buffer;

    DequantScratch(CudaContext ctx) {
        this.ctx = ctx;
    }

    /** Asks for room for a weight of this many bf16 bytes (before {@link #allocate}). */
    void reserve(long bf16Bytes) {
        if (buffer != null) {
            throw new IllegalStateException("the dequantisation scratch is already allocated");
        }
        bytes = Math.max(bytes, bf16Bytes);
    }

    void allocate() {
        if (buffer == null && bytes > 0) {
            buffer = DeviceBuffer.allocate(ctx, bytes);
        }
    }

    long bytes() {
        return bytes;
    }

    CUdeviceptr ptr() {
        if (buffer == null) {
            throw new IllegalStateException("the dequantisation scratch is used before it is allocated");
        }
        return buffer.ptr();
    }

    @Override
    public void close() {
        if (buffer != null) {
            buffer.close();
            buffer = null;
        }
    }
}
