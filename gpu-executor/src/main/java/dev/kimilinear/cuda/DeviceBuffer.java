package dev.kimilinear.cuda;

import jcuda.Pointer;
import jcuda.Sizeof;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

/** A block of device memory, freed on close. Copies are synchronous with the context's stream. */
public final class DeviceBuffer implements AutoCloseable {
    private final CudaContext ctx;
    private final CUdeviceptr ptr;
    private final long bytes;
    private boolean freed;

    private DeviceBuffer(CudaContext ctx, long bytes) {
        this.ctx = ctx;
        this.bytes = bytes;
        this.ptr = new CUdeviceptr();
        ctx.bind();
        CudaStatus.check(JCudaDriver.cuMemAlloc(ptr, Math.max(bytes, 256)),
                "cuMemAlloc(" + bytes + " bytes) on " + ctx.device());
    }

    public static DeviceBuffer allocate(CudaContext ctx, long bytes) {
        return new DeviceBuffer(ctx, bytes);
    }

    public static DeviceBuffer of(CudaContext ctx, float[] data) {
        DeviceBuffer b = new DeviceBuffer(ctx, (long) data.length * Sizeof.FLOAT);
        b.upload(data);
        return b;
    }

    public static DeviceBuffer of(CudaContext ctx, int[] data) {
        DeviceBuffer b = new DeviceBuffer(ctx, (long) data.length * Sizeof.INT);
        b.upload(data);
        return b;
    }

    /** bf16 bit patterns. */
    public static DeviceBuffer ofBf16(CudaContext ctx, short[] data) {
        DeviceBuffer b = new DeviceBuffer(ctx, (long) data.length * Sizeof.SHORT);
        b.upload(data, 0);
        return b;
    }

    public CUdeviceptr ptr() {
        return ptr;
    }

    /** The address {@code byteOffset} bytes in. */
    public CUdeviceptr at(long byteOffset) {
        if (byteOffset < 0 || byteOffset > bytes) {
            throw new IndexOutOfBoundsException("offset " + byteOffset + " outside a buffer of " + bytes + " bytes");
        }
        return ptr.withByteOffset(byteOffset);
    }

    public long bytes() {
        return bytes;
    }

    public void upload(float[] data) {
        copyIn(Pointer.to(data), (long) data.length * Sizeof.FLOAT, 0);
    }

    public void upload(int[] data) {
        copyIn(Pointer.to(data), (long) data.length * Sizeof.INT, 0);
    }

    public void upload(short[] data, long byteOffset) {
        copyIn(Pointer.to(data), (long) data.length * Sizeof.SHORT, byteOffset);
    }

    public void upload(byte[] data, long byteOffset) {
        copyIn(Pointer.to(data), data.length, byteOffset);
    }

    public byte[] toBytes() {
        byte[] out = new byte[(int) bytes];
        copyOut(Pointer.to(out), out.length, 0);
        return out;
    }

    public void upload(float[] data, long byteOffset) {
        copyIn(Pointer.to(data), (long) data.length * Sizeof.FLOAT, byteOffset);
    }

    private void copyIn(Pointer src, long n, long byteOffset) {
        if (byteOffset + n > bytes) {
            throw new IllegalArgumentException("copy of " + n + " bytes at " + byteOffset + " into a buffer of " + bytes);
        }
        ctx.bind();
        ctx.stream().synchronize();
        CudaStatus.check(JCudaDriver.cuMemcpyHtoD(ptr.withByteOffset(byteOffset), src, n), "cuMemcpyHtoD(" + n + " bytes)");
    }

    public float[] toFloats() {
        return readFloats(0, (int) (bytes / Sizeof.FLOAT));
    }

    public float[] readFloats(long byteOffset, int count) {
        float[] out = new float[count];
        copyOut(Pointer.to(out), (long) count * Sizeof.FLOAT, byteOffset);
        return out;
    }

    public int[] toInts() {
        return readInts(0, (int) (bytes / Sizeof.INT));
    }

    public int[] readInts(long byteOffset, int count) {
        int[] out = new int[count];
        copyOut(Pointer.to(out), (long) count * Sizeof.INT, byteOffset);
        return out;
    }

    public byte[] readBytes(long byteOffset, int count) {
        byte[] out = new byte[count];
        copyOut(Pointer.to(out), count, byteOffset);
        return out;
    }

    public short[] toShorts() {
        short[] out = new short[(int) (bytes / Sizeof.SHORT)];
        copyOut(Pointer.to(out), (long) out.length * Sizeof.SHORT, 0);
        return out;
    }

    private void copyOut(Pointer dst, long n, long byteOffset) {
        if (byteOffset + n > bytes) {
            throw new IllegalArgumentException("copy of " + n + " bytes at " + byteOffset + " out of a buffer of " + bytes);
        }
        ctx.bind();
        ctx.stream().synchronize();
        CudaStatus.check(JCudaDriver.cuMemcpyDtoH(dst, ptr.withByteOffset(byteOffset), n), "cuMemcpyDtoH(" + n + " bytes)");
    }

    /** Fills with quiet NaN (fp32 words, or bf16 halves), so any element left unwritten shows. */
    public void poison() {
        ctx.bind();
        CudaStatus.check(JCudaDriver.cuMemsetD32Async(ptr, 0x7fc00000, bytes / 4, ctx.rawStream()), "cuMemsetD32(poison)");
    }

    public void poisonBf16() {
        ctx.bind();
        CudaStatus.check(JCudaDriver.cuMemsetD16Async(ptr, (short) 0x7fc0, bytes / 2, ctx.rawStream()), "cuMemsetD16(poison)");
    }

    public void zero() {
        zero(0, bytes);
    }

    public void zero(long byteOffset, long n) {
        ctx.bind();
        CudaStatus.check(JCudaDriver.cuMemsetD8Async(at(byteOffset), (byte) 0, n, ctx.rawStream()), "cuMemsetD8(zero)");
    }

    /** Device-to-device copy on the stream. */
    public static void copy(CudaContext ctx, CUdeviceptr dst, CUdeviceptr src, long n) {
        ctx.bind();
        CudaStatus.check(JCudaDriver.cuMemcpyDtoDAsync(dst, src, n, ctx.rawStream()), "cuMemcpyDtoD(" + n + " bytes)");
    }

    @Override
    public void close() {
        if (!freed) {
            freed = true;
            ctx.bind();
            ctx.stream().synchronize();
            CudaStatus.check(JCudaDriver.cuMemFree(ptr), "cuMemFree(" + bytes + " bytes)");
        }
    }
}
