package dev.kimilinear.checkpoint;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** One open safetensors file; tensors map their own regions of it on first use. */
final class MappedFile implements TensorSource {
    private final Path path;
    private final FileChannel channel;
    private final long size;
    private volatile boolean closed;

    private MappedFile(Path path, FileChannel channel, long size) {
        this.path = path;
        this.channel = channel;
        this.size = size;
    }

    static MappedFile open(Path path) {
        try {
            FileChannel channel = FileChannel.open(path, StandardOpenOption.READ);
            return new MappedFile(path, channel, channel.size());
        } catch (IOException e) {
            throw new CheckpointException("cannot open safetensors file " + path + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Path path() {
        return path;
    }

    long size() {
        return size;
    }

    FileChannel channel() {
        return channel;
    }

    /** A little-endian read-only mapping of [offset, offset + length); length at most 2 GiB - 1. */
    @Override
    public MappedByteBuffer map(long offset, long length, String tensor) {
        if (closed) {
            throw new CheckpointException("tensor " + tensor + " of " + path
                    + " read after its checkpoint was closed");
        }
        try {
            MappedByteBuffer buffer = channel.map(FileChannel.MapMode.READ_ONLY, offset, length);
            buffer.order(ByteOrder.LITTLE_ENDIAN);
            return buffer;
        } catch (IOException e) {
            throw new CheckpointException("cannot map tensor " + tensor + " of " + path
                    + " (bytes " + offset + ".." + (offset + length) + "): " + e.getMessage(), e);
        }
    }

    @Override
    public boolean cached() {
        return true;
    }

    @Override
    public void close() {
        closed = true;
        try {
            channel.close();
        } catch (IOException e) {
            throw new CheckpointException("cannot close " + path + ": " + e.getMessage(), e);
        }
    }
}
