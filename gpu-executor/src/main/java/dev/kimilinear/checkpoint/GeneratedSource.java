package dev.kimilinear.checkpoint;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Map;

/**
 * The bytes of a checkpoint that exists nowhere: each read makes them anew, and nothing is kept,
 * so a model larger than host memory streams through tensor by tensor.
 */
final class GeneratedSource implements TensorSource {
    private final Path label;
    private final Map<String, TensorSpec> specs;
    private final TensorGenerator generator;

    GeneratedSource(Path label, Map<String, TensorSpec> specs, TensorGenerator generator) {
        this.label = label;
        this.specs = specs;
        this.generator = generator;
    }

    @Override
    public Path path() {
        return label;
    }

    @Override
    public ByteBuffer map(long offset, long length, String tensor) {
        TensorSpec spec = specs.get(tensor);
        if (spec == null || offset < 0 || offset + length > spec.byteSize()) {
            throw new CheckpointException(label + ": no bytes " + offset + ".." + (offset + length) + " of tensor "
                    + tensor);
        }
        ByteBuffer dst = ByteBuffer.allocate((int) length).order(ByteOrder.LITTLE_ENDIAN);
        generator.fill(spec, offset, dst);
        dst.clear();
        return dst.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public boolean cached() {
        return false;
    }

    @Override
    public void close() {
    }
}
