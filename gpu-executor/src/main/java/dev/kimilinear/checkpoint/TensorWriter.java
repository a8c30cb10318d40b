package dev.kimilinear.checkpoint;

/**
 * Streams the data of tensors declared up front, in declaration order; a tensor's data may
 * arrive in several calls. Nothing is visible at the target until {@link #commit()}; closing
 * without a commit removes what was written.
 */
public interface TensorWriter extends AutoCloseable {
    /** Appends values to tensor {@code name}, stored as its declared F32, BF16, F16 or F8_E4M3 (nearest, saturating). */
    void writeFloats(String name, float[] src, int off, int len);

    /** Appends raw 16-bit patterns to a BF16 or F16 tensor. */
    void writeShorts(String name, short[] src, int off, int len);

    /** Appends values to an I32 or I64 tensor. */
    void writeInts(String name, int[] src, int off, int len);

    /** Appends raw bytes to a one-byte tensor: F8_E4M3 codes, I8, U8 or BOOL. */
    void writeBytes(String name, byte[] src, int off, int len);

    /** Checks every tensor is complete, then moves the output into place atomically. */
    void commit();

    /** Discards the output unless committed. */
    @Override
    void close();
}
