package dev.kimilinear.checkpoint;

import java.nio.ByteBuffer;
import java.nio.file.Path;

/** Where a tensor's bytes come from: a mapped safetensors file, or bytes made on request. */
interface TensorSource extends AutoCloseable {
    /** What to name in messages: the file, or what makes the bytes. */
    Path path();

    /** Little-endian bytes [offset, offset + length) of the source; length at most 2 GiB - 1. */
    ByteBuffer map(long offset, long length, String tensor);

    /** Whether a tensor may keep what {@link #map} returned (a mapping costs no heap; made bytes do). */
    boolean cached();

    @Override
    void close();
}
