package dev.kimilinear.cuda;

import dev.kimilinear.checkpoint.DType;
import dev.kimilinear.checkpoint.HalfFloats;
import dev.kimilinear.checkpoint.Tensor;
import dev.kimilinear.model.WeightPrecision;
import jcuda.driver.CUdeviceptr;

import java.util.ArrayList;
import java.util.List;

/**
 * Uploads checkpoint tensors once: matrices as bf16 (several stacked into one buffer when a
 * single product should cover them), vectors as fp32. Owns every buffer it made.
 */
final class DeviceWeights implements AutoCloseable {
    private final CudaContext ctx;
    private final List<DeviceBuffer> buffers = new ArrayList<>();
    private final DequantScratch scratch;
    private final ActivationCodes activationCodes;
    private long bytes;

    /** {@code maxActivationRows}: the most rows one product of a forward step multiplies (routed rows included). */
    DeviceWeights(CudaContext ctx, int maxActivationRows) {
        this.ctx = ctx;
        this.scratch = new DequantScratch(ctx);
        this.activationCodes = new ActivationCodes(ctx, maxActivationRows);
    }

    static short[] bf16(Tensor t) {
        if (t.dtype() == DType.BF16) {
            return t.toRawShorts();
        }
        float[] f = t.toFloats();
        short[] s = new short[f.length];
        for (int i = 0; i < f.length; i++) {
            s[i] = HalfFloats.floatToBf16(f[i]);
        }
        return s;
    }

    /** Matrices stacked by rows into one bf16 buffer (all must share the column count). */
    CUdeviceptr stack(Tensor... parts) {
        long total = 0;
        for (Tensor t : parts) {
            total += t.numel();
        }
        DeviceBuffer b = allocate(total * 2);
        uploadBf16(b, parts);
        return b.ptr();
    }

    /** Batches of parts read (or made) this many at a time: the experts of a layer are 512 small parts. */
    private static final int PARALLEL_PARTS = 32;

    /**
     * The parts' bf16 rows, one after another, into {@code b}: read in parallel a batch at a time
     * (a random model's weights are made as they are read, so this is most of its loading time),
     * uploaded in order.
     */
    private static void uploadBf16(DeviceBuffer b, Tensor[] parts) {
        long off = 0;
        for (int first = 0; first < parts.length; first += PARALLEL_PARTS) {
            int n = Math.min(PARALLEL_PARTS, parts.length - first);
            int base = first;
            short[][] rows = java.util.stream.IntStream.range(0, n).parallel()
                    .mapToObj(i -> bf16(parts[base + i])).toArray(short[][]::new);
            for (short[] r : rows) {
                b.upload(r, off);
                off += r.length * 2L;
            }
        }
    }

    /**
     * A linear weight: the parts stacked by rows (one product covers them), in bf16 or as e4m3
     * with a scale per row: an FP8 checkpoint's codes and scales as they are, else quantised here
     * on the device from the bf16 rows. An FP8 checkpoint's weights in bf16 are its dequantised values.
     */
    LinearWeight linear(WeightPrecision precision, Tensor... parts) {
        return experts(precision, 1, parts);
    }

    /**
     * A stack of {@code experts} matrices of equal shape, each made of consecutive parts
     * (parts.length / experts of them, stacked by rows).
     */
    LinearWeight experts(WeightPrecision precision, int experts, Tensor... parts) {
        long total = 0;
        for (Tensor t : parts) {
            if (t.rank() != 2 || t.dim(1) != parts[0].dim(1)) {
                throw new CudaException("weight " + t.name() + ": expected a matrix of " + parts[0].dim(1) + " columns, "
                        + "found shape " + java.util.Arrays.toString(t.shape()));
            }
            total += t.dim(0);
        }
        int cols = (int) parts[0].dim(1);
        int rows = (int) (total / experts);
        if (precision == WeightPrecision.BF16) {
            return new Bf16Weight(stack(parts), rows, cols, experts);
        }
        DeviceBuffer q = allocate(total * cols);
        DeviceBuffer scales = allocate(total * 4);
        if (java.util.Arrays.stream(parts).allMatch(t -> t.dtype() == DType.F8_E4M3 && t.scale() != null)) {
            // an FP8 checkpoint: its codes and scales as they are
            long codeOff = 0;
            long scaleOff = 0;
            for (Tensor t : parts) {
                java.nio.ByteBuffer codes = t.buffer();
                byte[] bytes = new byte[codes.remaining()];
                codes.get(bytes);
                q.upload(bytes, codeOff);
                codeOff += bytes.length;
                float[] rowScales = t.scale().toFloats();
                if (rowScales.length != t.dim(0)) {
                    throw new CudaException("weight " + t.name() + ": " + rowScales.length + " scales for " + t.dim(0)
                            + " rows");
                }
                scales.upload(rowScales, scaleOff);
                scaleOff += 4L * rowScales.length;
            }
            return fp8Weight(q, scales, rows, cols, experts, total);
        }
        try (DeviceBuffer staged = DeviceBuffer.allocate(ctx, total * cols * 2)) {
            uploadBf16(staged, parts);
            GemmFp8Kernel.quantize(ctx, staged.ptr(), cols, (int) total, cols, q.ptr(), cols, scales.ptr());
            ctx.synchronize();   // the staged rows are freed next
        }
        return fp8Weight(q, scales, rows, cols, experts, total);
    }

    /**
     * On sm_90 an e4m3 weight's products read its codes (prefill with e4m3 activations), so only
     * off sm_90, or with rows not of whole 16-byte loads, does it need the widened bf16 scratch.
     */
    private Fp8Weight fp8Weight(DeviceBuffer q, DeviceBuffer scales, int rows, int cols, int experts, long total) {
        if (Fp8Weight.direct(ctx, cols)) {
            activationCodes.reserve(cols);
        } else {
            scratch.reserve(total * cols * 2);
        }
        return new Fp8Weight(q.ptr(), scales.ptr(), rows, cols, experts, scratch, activationCodes);
    }

    /** Where e4m3 weights are widened for products that take bf16 (allocated by {@link #finish}). */
    DequantScratch scratch() {
        return scratch;
    }

    /** Called once every weight is uploaded: allocates what the weights asked for. */
    void finish() {
        scratch.allocate();
        activationCodes.allocate();
        bytes += scratch.bytes() + activationCodes.bytes();
    }

    CUdeviceptr bf16Array(short[] data) {
        DeviceBuffer b = allocate((long) data.length * 2);
        b.upload(data, 0);
        return b.ptr();
    }

    /** fp32 vectors concatenated. */
    CUdeviceptr floats(Tensor... parts) {
        long total = 0;
        for (Tensor t : parts) {
            total += t.numel();
        }
        DeviceBuffer b = allocate(total * 4);
        long off = 0;
        for (Tensor t : parts) {
            b.upload(t.toFloats(), off);
            off += t.numel() * 4;
        }
        return b.ptr();
    }

    DeviceBuffer allocate(long n) {
        DeviceBuffer b = DeviceBuffer.allocate(ctx, n);
        buffers.add(b);
        bytes += n;
        return b;
    }

    long bytes() {
        return bytes;
    }

    @Override
    public void close() {
        for (DeviceBuffer b : buffers) {
            b.close();
        }
        buffers.clear();
        scratch.close();
        activationCodes.close();
    }
}
