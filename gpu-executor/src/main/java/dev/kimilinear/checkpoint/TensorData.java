package dev.kimilinear.checkpoint;

import java.util.Arrays;

/**
 * A small in-memory tensor to write: values plus the dtype they are stored as.
 * Exactly one of floats, shorts (raw 16-bit patterns), ints, bytes (raw one-byte codes) is non-null.
 */
public record TensorData(DType dtype, long[] shape, float[] floats, short[] shorts, int[] ints, byte[] bytes) {
    public TensorData {
        shape = shape.clone();
        int given = (floats != null ? 1 : 0) + (shorts != null ? 1 : 0) + (ints != null ? 1 : 0)
                + (bytes != null ? 1 : 0);
        if (given != 1) {
            throw new IllegalArgumentException("exactly one of floats, shorts, ints, bytes must be given");
        }
        long length = floats != null ? floats.length : shorts != null ? shorts.length
                : ints != null ? ints.length : bytes.length;
        if (length != Tensor.numelOf(shape)) {
            throw new IllegalArgumentException(length + " values do not fill shape " + Arrays.toString(shape));
        }
    }

    /** F32 from floats. */
    public static TensorData f32(float[] values, long... shape) {
        return new TensorData(DType.F32, shape, values, null, null, null);
    }

    /** BF16 rounded to nearest even from floats. */
    public static TensorData bf16(float[] values, long... shape) {
        return new TensorData(DType.BF16, shape, values, null, null, null);
    }

    /** BF16 from raw bit patterns. */
    public static TensorData bf16Bits(short[] bits, long... shape) {
        return new TensorData(DType.BF16, shape, null, bits, null, null);
    }

    /** F16 rounded to nearest even from floats. */
    public static TensorData f16(float[] values, long... shape) {
        return new TensorData(DType.F16, shape, values, null, null, null);
    }

    /** I32 from ints. */
    public static TensorData i32(int[] values, long... shape) {
        return new TensorData(DType.I32, shape, null, null, values, null);
    }

    /** F8_E4M3 from raw codes, e.g. those of {@link Fp8Quantizer}. */
    public static TensorData f8e4m3Codes(byte[] codes, long... shape) {
        return new TensorData(DType.F8_E4M3, shape, null, null, null, codes);
    }

    public TensorSpec spec(String name) {
        return new TensorSpec(name, dtype, shape);
    }

    /** Streams the values into {@code writer} as tensor {@code name}. */
    void writeTo(TensorWriter writer, String name) {
        if (floats != null) {
            writer.writeFloats(name, floats, 0, floats.length);
        } else if (shorts != null) {
            writer.writeShorts(name, shorts, 0, shorts.length);
        } else if (ints != null) {
            writer.writeInts(name, ints, 0, ints.length);
        } else {
            writer.writeBytes(name, bytes, 0, bytes.length);
        }
    }
}
