package dev.kimilinear.checkpoint;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * One tensor of a safetensors file: its header entry plus lazily memory-mapped bytes.
 * Reads never copy the file into the heap except into the arrays the caller asks for.
 * Tensors over 2 GiB are mapped in windows, so {@link #readFloats} works for any size.
 * An F8_E4M3 weight may carry its per-row scale ({@link #withScale}); its float reads are
 * then the dequantised values, so every consumer of floats reads an FP8 checkpoint as is.
 */
public final class Tensor {
    static final long DEFAULT_WINDOW_BYTES = 1L << 30;
    private static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private final String name;
    private final DType dtype;
    private final long[] shape;
    private final long numel;
    private final TensorSource file;
    private final long fileOffset;
    private final long byteLength;
    private final long windowBytes;
    // window i covers bytes [i * windowBytes, min((i + 1) * windowBytes, byteLength)); elements never straddle
    private final AtomicReferenceArray<ByteBuffer> windows;
    private volatile ByteBuffer whole;
    private volatile LastWindow lastWindow;

    /** The window of made bytes read last (not kept otherwise). */
    private record LastWindow(int index, ByteBuffer bytes) {
    }
    // the per-row scale of an F8_E4M3 weight, and its values once read
    private final Tensor scale;
    private volatile float[] rowScales;

    Tensor(String name, DType dtype, long[] shape, TensorSource file, long fileOffset, long windowBytes) {
        this(name, dtype, shape, file, fileOffset, windowBytes, null);
    }

    private Tensor(String name, DType dtype, long[] shape, TensorSource file, long fileOffset, long windowBytes,
                   Tensor scale) {
        this.scale = scale;
        this.name = name;
        this.dtype = dtype;
        this.shape = shape.clone();
        this.numel = numelOf(shape);
        this.file = file;
        this.fileOffset = fileOffset;
        this.byteLength = numel * dtype.size();
        if (windowBytes % 8 != 0 || windowBytes <= 0) {
            throw new IllegalArgumentException("window must be a positive multiple of 8 bytes: " + windowBytes);
        }
        this.windowBytes = windowBytes;
        this.windows = new AtomicReferenceArray<>((int) ((byteLength + windowBytes - 1) / windowBytes));
    }

    static long numelOf(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public String name() {
        return name;
    }

    /**
     * This F8_E4M3 [rows, cols] weight with its per-row scale attached (F32, BF16 or F16 of
     * shape [rows, 1] or [rows]): its float reads become code x scale of the row. The bytes
     * ({@link #buffer}) stay the e4m3 codes.
     */
    public Tensor withScale(Tensor rowScale) {
        if (dtype != DType.F8_E4M3 || shape.length != 2) {
            throw new CheckpointException(file.path() + ": tensor " + name + " is " + dtype + Arrays.toString(shape)
                    + "; a row scale belongs to an F8_E4M3 weight of rank 2");
        }
        if (!rowScale.dtype.isWeightFloat()) {
            throw new CheckpointException(rowScale.file() + ": tensor " + rowScale.name + " has dtype "
                    + rowScale.dtype + "; expected F32, BF16 or F16 (the scale of " + name + ")");
        }
        if (!rowScale.hasShape(shape[0], 1) && !rowScale.hasShape(shape[0])) {
            throw new CheckpointException(rowScale.file() + ": tensor " + rowScale.name + " has shape "
                    + Arrays.toString(rowScale.shape) + "; expected [" + shape[0] + ", 1] or [" + shape[0]
                    + "] (one scale per row of " + name + " " + Arrays.toString(shape) + ")");
        }
        return new Tensor(name, dtype, shape, file, fileOffset, windowBytes, rowScale);
    }

    /** The per-row scale of an F8_E4M3 weight, or null when none is attached. */
    public Tensor scale() {
        return scale;
    }

    public DType dtype() {
        return dtype;
    }

    /** The shape, outermost first; a copy. */
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int i) {
        if (i < 0 || i >= shape.length) {
            throw new IndexOutOfBoundsException("dimension " + i + " of tensor " + name + " with shape "
                    + Arrays.toString(shape));
        }
        return shape[i];
    }

    public long numel() {
        return numel;
    }

    /** Size of the tensor's data in bytes. */
    public long byteSize() {
        return byteLength;
    }

    /** The safetensors file that holds this tensor. */
    public Path file() {
        return file.path();
    }

    /** True when the shape equals {@code expected} exactly. */
    public boolean hasShape(long... expected) {
        return Arrays.equals(shape, expected);
    }

    /**
     * The tensor's bytes: read-only, little-endian, position 0, memory-mapped.
     * Tensors of 2 GiB or more do not fit one buffer; read them with {@link #readFloats}.
     */
    public ByteBuffer buffer() {
        if (byteLength > Integer.MAX_VALUE) {
            throw new CheckpointException("tensor " + name + " of " + file.path() + " is " + byteLength
                    + " bytes, more than one ByteBuffer holds (2 GiB); read it in pieces with readFloats");
        }
        ByteBuffer mapped;
        if (windows.length() == 0) {
            mapped = ByteBuffer.allocate(0);
        } else if (windows.length() == 1) {
            mapped = window(0, false);
        } else {
            mapped = whole;
            if (mapped == null) {
                mapped = file.map(fileOffset, byteLength, name);
                if (file.cached()) {
                    whole = mapped;
                }
            }
        }
        return mapped.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Element {@code index} (row-major) widened to float; BF16, F16, F32, F64 (narrowed) and
     * F8_E4M3 (times its row's scale when one is attached).
     */
    public float getFloat(long index) {
        requireFloat("getFloat");
        if (index < 0 || index >= numel) {
            throw new IndexOutOfBoundsException("element " + index + " of tensor " + name + " with "
                    + numel + " elements");
        }
        long byteOffset = index * dtype.size();
        ByteBuffer w = window((int) (byteOffset / windowBytes), true);
        int at = (int) (byteOffset % windowBytes);
        switch (dtype) {
            case BF16:
                return HalfFloats.bf16ToFloat(w.getShort(at));
            case F16:
                return HalfFloats.f16ToFloat(w.getShort(at));
            case F32:
                return w.getFloat(at);
            case F8_E4M3: {
                float value = Fp8E4m3.decode(w.get(at));
                return scale == null ? value : value * rowScales()[(int) (index / rowLength())];
            }
            default:
                return (float) w.getDouble(at);
        }
    }

    /**
     * Elements [start, start + count) widened to float into {@code dst[dstOff ..]}; an F8_E4M3
     * weight with a scale gives code x scale of each element's row.
     */
    public void readFloats(long start, float[] dst, int dstOff, int count) {
        requireFloat("readFloats");
        checkRange(start, count, dst.length, dstOff);
        int size = dtype.size();
        long elementsPerWindow = windowBytes / size;
        long index = start;
        int out = dstOff;
        int left = count;
        while (left > 0) {
            int windowIndex = (int) (index / elementsPerWindow);
            int inWindow = (int) (index % elementsPerWindow);
            // a read that takes a window whole does not keep it (a whole model streams through)
            boolean partial = inWindow > 0 || left < elementsPerWindow && index + left < numel;
            ByteBuffer w = window(windowIndex, partial);
            int n = Math.min(left, w.capacity() / size - inWindow);
            switch (dtype) {
                case F32:
                    w.asFloatBuffer().get(inWindow, dst, out, n);
                    break;
                case BF16: {
                    ShortBuffer s = w.asShortBuffer();
                    for (int i = 0; i < n; i++) {
                        dst[out + i] = Float.intBitsToFloat(s.get(inWindow + i) << 16);
                    }
                    break;
                }
                case F16: {
                    ShortBuffer s = w.asShortBuffer();
                    for (int i = 0; i < n; i++) {
                        dst[out + i] = HalfFloats.f16ToFloat(s.get(inWindow + i));
                    }
                    break;
                }
                case F8_E4M3:
                    readE4m3(w, inWindow, index, dst, out, n);
                    break;
                default: {
                    DoubleBuffer d = w.asDoubleBuffer();
                    for (int i = 0; i < n; i++) {
                        dst[out + i] = (float) d.get(inWindow + i);
                    }
                }
            }
            index += n;
            out += n;
            left -= n;
        }
    }

    private void readE4m3(ByteBuffer w, int inWindow, long index, float[] dst, int out, int n) {
        if (scale == null) {
            for (int i = 0; i < n; i++) {
                dst[out + i] = Fp8E4m3.decode(w.get(inWindow + i));
            }
            return;
        }
        float[] scales = rowScales();
        long cols = rowLength();
        int done = 0;
        while (done < n) {
            long at = index + done;
            int row = (int) (at / cols);
            int inRow = (int) Math.min(n - done, cols - at % cols);
            float s = scales[row];
            for (int i = 0; i < inRow; i++) {
                dst[out + done + i] = Fp8E4m3.decode(w.get(inWindow + done + i)) * s;
            }
            done += inRow;
        }
    }

    private long rowLength() {
        return shape[1];
    }

    /** The scale of each row, read once; a scale that is not a finite number is an error naming it. */
    private float[] rowScales() {
        float[] scales = rowScales;
        if (scales == null) {
            scales = scale.toFloats();
            for (int r = 0; r < scales.length; r++) {
                if (!Float.isFinite(scales[r])) {
                    throw new CheckpointException(scale.file() + ": tensor " + scale.name + " row " + r + " is "
                            + scales[r] + "; expected a finite scale for row " + r + " of " + name);
                }
            }
            rowScales = scales;
        }
        return scales;
    }

    /** All elements widened to float. */
    public float[] toFloats() {
        float[] out = new float[arrayLength("toFloats")];
        readFloats(0, out, 0, out.length);
        return out;
    }

    /** All elements of an integer tensor (I8, U8, I16, I32, or I64 within int range). */
    public int[] toInts() {
        if (!dtype.isInteger()) {
            throw new CheckpointException("tensor " + name + " of " + file.path() + " is " + dtype
                    + "; toInts reads I8, U8, I16, I32 or I64");
        }
        int[] out = new int[arrayLength("toInts")];
        int size = dtype.size();
        long elementsPerWindow = windowBytes / size;
        int done = 0;
        while (done < out.length) {
            int windowIndex = (int) (done / elementsPerWindow);
            ByteBuffer w = window(windowIndex, false);
            int inWindow = (int) (done % elementsPerWindow);
            int n = Math.min(out.length - done, w.capacity() / size - inWindow);
            switch (dtype) {
                case I32:
                    w.asIntBuffer().get(inWindow, out, done, n);
                    break;
                case I64:
                    for (int i = 0; i < n; i++) {
                        long v = w.getLong((inWindow + i) * 8);
                        if (v != (int) v) {
                            throw new CheckpointException("tensor " + name + " of " + file.path() + ": element "
                                    + (done + i) + " = " + v + " does not fit an int");
                        }
                        out[done + i] = (int) v;
                    }
                    break;
                case I16:
                    for (int i = 0; i < n; i++) {
                        out[done + i] = w.getShort((inWindow + i) * 2);
                    }
                    break;
                case I8:
                    for (int i = 0; i < n; i++) {
                        out[done + i] = w.get(inWindow + i);
                    }
                    break;
                default:
                    for (int i = 0; i < n; i++) {
                        out[done + i] = w.get(inWindow + i) & 0xFF;
                    }
            }
            done += n;
        }
        return out;
    }

    /** The raw 16-bit patterns of a BF16 or F16 tensor, e.g. for a device upload. */
    public short[] toRawShorts() {
        if (dtype != DType.BF16 && dtype != DType.F16) {
            throw new CheckpointException("tensor " + name + " of " + file.path() + " is " + dtype
                    + "; toRawShorts reads BF16 or F16");
        }
        short[] out = new short[arrayLength("toRawShorts")];
        long elementsPerWindow = windowBytes / 2;
        int done = 0;
        while (done < out.length) {
            ByteBuffer w = window((int) (done / elementsPerWindow), false);
            int inWindow = (int) (done % elementsPerWindow);
            int n = Math.min(out.length - done, w.capacity() / 2 - inWindow);
            w.asShortBuffer().get(inWindow, out, done, n);
            done += n;
        }
        return out;
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape) + (scale == null ? "" : " scaled by " + scale.name)
                + " in " + file.path();
    }

    /**
     * Window i. Made bytes (a generated source) are not kept, except, where {@code keep}, the window
     * read last, so that element-wise and piecewise reads stay cheap; whole reads pass false, or
     * every tensor of a model larger than the heap would hold its last window.
     */
    private ByteBuffer window(int i, boolean keep) {
        ByteBuffer w = windows.get(i);
        if (w == null) {
            if (!file.cached()) {
                // made bytes are not kept, except the window read last (element-wise reads stay cheap)
                LastWindow last = lastWindow;
                if (last != null && last.index() == i) {
                    return last.bytes();
                }
            }
            long begin = i * windowBytes;
            long length = Math.min(windowBytes, byteLength - begin);
            w = file.map(fileOffset + begin, length, name);
            if (!file.cached()) {
                if (keep) {
                    lastWindow = new LastWindow(i, w);
                }
            } else if (!windows.compareAndSet(i, null, w)) {
                w = windows.get(i);
            }
        }
        return w;
    }

    private void requireFloat(String operation) {
        if (!dtype.isFloat()) {
            throw new CheckpointException("tensor " + name + " of " + file.path() + " is " + dtype
                    + "; " + operation + " reads " + DType.floatNames());
        }
    }

    private int arrayLength(String operation) {
        if (numel > MAX_ARRAY) {
            throw new CheckpointException("tensor " + name + " of " + file.path() + " has " + numel
                    + " elements, more than one Java array holds; " + operation
                    + " cannot read it (use readFloats in pieces)");
        }
        return (int) numel;
    }

    private void checkRange(long start, int count, int dstLength, int dstOff) {
        if (start < 0 || count < 0 || start + count > numel) {
            throw new IndexOutOfBoundsException("elements [" + start + ", " + (start + count) + ") of tensor "
                    + name + " with " + numel + " elements");
        }
        if (dstOff < 0 || dstOff + count > dstLength) {
            throw new IndexOutOfBoundsException("destination [" + dstOff + ", " + (dstOff + count)
                    + ") of an array of length " + dstLength);
        }
    }
}
