package dev.kimilinear.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes one safetensors file: tensors are declared first (the header needs every offset),
 * then their data is streamed in declaration order through a small staging buffer, into a
 * temporary file beside the target that is renamed over it on {@link #commit()}.
 */
public final class SafetensorsWriter implements TensorWriter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int STAGING_BYTES = 1 << 20;

    private final Path target;
    private final Path temp;
    private final FileChannel channel;
    private final List<TensorSpec> specs;
    private final ByteBuffer staging = ByteBuffer.allocateDirect(STAGING_BYTES).order(ByteOrder.LITTLE_ENDIAN);
    private int current;
    private long writtenInCurrent;
    private boolean committed;
    private boolean closed;

    private SafetensorsWriter(Path target, Path temp, FileChannel channel, List<TensorSpec> specs) {
        this.target = target;
        this.temp = temp;
        this.channel = channel;
        this.specs = specs;
    }

    /** Declares {@code tensors} (in the order their data will follow) and writes the header. */
    public static SafetensorsWriter open(Path target, List<TensorSpec> tensors, Map<String, String> metadata) {
        List<TensorSpec> specs = List.copyOf(tensors);
        Set<String> seen = new HashSet<>();
        for (TensorSpec s : specs) {
            if (!seen.add(s.name())) {
                throw new IllegalArgumentException("tensor " + s.name() + " declared twice for " + target);
            }
        }
        byte[] header = headerBytes(specs, metadata);
        Path temp = null;
        FileChannel channel = null;
        try {
            temp = AtomicFiles.createTemp(target);
            channel = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
            ByteBuffer prefix = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
            prefix.putLong(header.length).put(header).flip();
            while (prefix.hasRemaining()) {
                channel.write(prefix);
            }
            return new SafetensorsWriter(target, temp, channel, specs);
        } catch (IOException e) {
            closeQuietly(channel);
            AtomicFiles.deleteQuietly(temp);
            throw new CheckpointException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }

    /** Writes small in-memory tensors, in the map's order, with {@code __metadata__} {"format": "pt"}. */
    public static void write(Path target, Map<String, TensorData> tensors) {
        write(target, tensors, Map.of("format", "pt"));
    }

    public static void write(Path target, Map<String, TensorData> tensors, Map<String, String> metadata) {
        List<TensorSpec> specs = new ArrayList<>();
        tensors.forEach((name, data) -> specs.add(data.spec(name)));
        try (SafetensorsWriter w = open(target, specs, metadata)) {
            tensors.forEach((name, data) -> data.writeTo(w, name));
            w.commit();
        }
    }

    /** Header JSON padded with spaces so the data starts 8-byte aligned. */
    static byte[] headerBytes(List<TensorSpec> specs, Map<String, String> metadata) {
        ObjectNode root = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode meta = root.putObject(SafetensorsHeader.METADATA_KEY);
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (TensorSpec s : specs) {
            ObjectNode entry = root.putObject(s.name());
            entry.put("dtype", s.dtype().safetensorsName());
            ArrayNode shape = entry.putArray("shape");
            for (long d : s.shape()) {
                shape.add(d);
            }
            long end = offset + s.byteSize();
            entry.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = new byte[padded];
        System.arraycopy(json, 0, out, 0, json.length);
        for (int i = json.length; i < padded; i++) {
            out[i] = ' ';
        }
        return out;
    }

    /** Bytes the file will have for these tensors and metadata. */
    static long fileSize(List<TensorSpec> specs, Map<String, String> metadata) {
        long size = 8 + headerBytes(specs, metadata).length;
        for (TensorSpec s : specs) {
            size += s.byteSize();
        }
        return size;
    }

    public Path target() {
        return target;
    }

    @Override
    public void writeFloats(String name, float[] src, int off, int len) {
        TensorSpec spec = begin(name, len, src.length, off);
        if (spec == null) {
            return;
        }
        switch (spec.dtype()) {
            case F32:
                for (int i = 0; i < len; i++) {
                    room(4).putFloat(src[off + i]);
                }
                break;
            case BF16:
                for (int i = 0; i < len; i++) {
                    room(2).putShort(HalfFloats.floatToBf16(src[off + i]));
                }
                break;
            case F16:
                for (int i = 0; i < len; i++) {
                    room(2).putShort(HalfFloats.floatToF16(src[off + i]));
                }
                break;
            case F8_E4M3:
                for (int i = 0; i < len; i++) {
                    room(1).put(Fp8E4m3.encode(src[off + i]));
                }
                break;
            default:
                throw wrongType(spec, "floats");
        }
        advance(len);
    }

    @Override
    public void writeShorts(String name, short[] src, int off, int len) {
        TensorSpec spec = begin(name, len, src.length, off);
        if (spec == null) {
            return;
        }
        if (spec.dtype() != DType.BF16 && spec.dtype() != DType.F16) {
            throw wrongType(spec, "raw 16-bit values");
        }
        for (int i = 0; i < len; i++) {
            room(2).putShort(src[off + i]);
        }
        advance(len);
    }

    @Override
    public void writeInts(String name, int[] src, int off, int len) {
        TensorSpec spec = begin(name, len, src.length, off);
        if (spec == null) {
            return;
        }
        switch (spec.dtype()) {
            case I32:
                for (int i = 0; i < len; i++) {
                    room(4).putInt(src[off + i]);
                }
                break;
            case I64:
                for (int i = 0; i < len; i++) {
                    room(8).putLong(src[off + i]);
                }
                break;
            default:
                throw wrongType(spec, "ints");
        }
        advance(len);
    }

    @Override
    public void writeBytes(String name, byte[] src, int off, int len) {
        TensorSpec spec = begin(name, len, src.length, off);
        if (spec == null) {
            return;
        }
        if (spec.dtype().size() != 1) {
            throw wrongType(spec, "bytes (F8_E4M3, I8, U8 or BOOL take bytes)");
        }
        for (int i = 0; i < len; i++) {
            room(1).put(src[off + i]);
        }
        advance(len);
    }

    @Override
    public void commit() {
        ensureOpen();
        skipEmptyTensors();
        if (current < specs.size()) {
            TensorSpec s = specs.get(current);
            throw new CheckpointException(target + ": tensor " + s + " has " + writtenInCurrent + " of "
                    + s.numel() + " elements written; cannot commit an incomplete file");
        }
        try {
            flush();
            channel.force(true);
            channel.close();
            AtomicFiles.moveIntoPlace(temp, target);
            committed = true;
        } catch (IOException e) {
            throw new CheckpointException("cannot write " + target + ": " + e.getMessage(), e);
        } finally {
            close();
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (!committed) {
            closeQuietly(channel);
            AtomicFiles.deleteQuietly(temp);
        }
    }

    /** The tensor the data goes to, or null for an empty write. */
    private TensorSpec begin(String name, int len, int srcLength, int off) {
        ensureOpen();
        if (off < 0 || len < 0 || off + len > srcLength) {
            throw new IndexOutOfBoundsException("source range [" + off + ", " + (off + len) + ") of an array of "
                    + srcLength);
        }
        if (len == 0) {
            // nothing to place; only the name must be one of ours
            if (specs.stream().noneMatch(s -> s.name().equals(name))) {
                throw new IllegalStateException(target + ": no tensor " + name + " was declared");
            }
            return null;
        }
        skipEmptyTensors();
        if (current >= specs.size()) {
            throw new IllegalStateException(target + ": data for " + name + " after every declared tensor is complete");
        }
        TensorSpec spec = specs.get(current);
        if (!spec.name().equals(name)) {
            throw new IllegalStateException(target + ": data for " + name + " while tensor " + spec.name()
                    + " is next in declaration order (" + writtenInCurrent + " of " + spec.numel() + " written)");
        }
        if (writtenInCurrent + len > spec.numel()) {
            throw new IllegalStateException(target + ": " + (writtenInCurrent + len) + " elements written to "
                    + spec + ", more than its " + spec.numel());
        }
        return spec;
    }

    private void advance(int len) {
        writtenInCurrent += len;
        if (writtenInCurrent == specs.get(current).numel()) {
            current++;
            writtenInCurrent = 0;
        }
    }

    private void skipEmptyTensors() {
        while (current < specs.size() && writtenInCurrent == 0 && specs.get(current).numel() == 0) {
            current++;
        }
    }

    private ByteBuffer room(int bytes) {
        if (staging.remaining() < bytes) {
            flush();
        }
        return staging;
    }

    private void flush() {
        staging.flip();
        try {
            while (staging.hasRemaining()) {
                channel.write(staging);
            }
        } catch (IOException e) {
            throw new CheckpointException("cannot write " + target + ": " + e.getMessage(), e);
        }
        staging.clear();
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("writer for " + target + " is closed");
        }
    }

    private IllegalArgumentException wrongType(TensorSpec spec, String what) {
        return new IllegalArgumentException(target + ": tensor " + spec + " cannot be written from " + what);
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // the write already failed or was abandoned; the temp file is removed next
            }
        }
    }
}
