package dev.kimilinear.checkpoint;

import java.nio.ByteBuffer;

/** Makes a tensor's bytes on request, the same bytes every time (a seeded random model). */
@FunctionalInterface
public interface TensorGenerator {
    /**
     * Fills {@code dst} (little-endian, {@code dst.remaining()} bytes, whole elements) with the
     * tensor's bytes from {@code byteOffset} on.
     */
    void fill(TensorSpec tensor, long byteOffset, ByteBuffer dst);
}
