package dev.kimilinear.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes a checkpoint directory: {@code model.safetensors} when everything fits one shard of
 * at most {@code maxShardBytes}, else {@code model-0000i-of-0000N.safetensors} plus
 * {@code model.safetensors.index.json}. Shards are written one after another, each to a
 * temporary file renamed into place; the index comes last.
 */
public final class ShardedSafetensorsWriter implements TensorWriter {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path dir;
    private final Map<String, String> metadata;
    private final List<List<TensorSpec>> shards;
    private final List<String> shardNames;
    private int shardIndex = -1;
    private int tensorInShard;
    private long writtenInTensor;
    private SafetensorsWriter open;
    private boolean finished;

    private ShardedSafetensorsWriter(Path dir, Map<String, String> metadata, List<List<TensorSpec>> shards) {
        this.dir = dir;
        this.metadata = Map.copyOf(metadata);
        this.shards = shards;
        this.shardNames = new ArrayList<>();
        int n = shards.size();
        for (int i = 0; i < n; i++) {
            shardNames.add(n == 1 ? Checkpoint.SINGLE_FILE
                    : String.format("model-%05d-of-%05d.safetensors", i + 1, n));
        }
    }

    /**
     * Plans shards in declaration order: a shard is closed when the next tensor would take
     * it past {@code maxShardBytes} (a single larger tensor gets a shard of its own).
     */
    public static ShardedSafetensorsWriter open(Path dir, List<TensorSpec> tensors, Map<String, String> metadata,
                                                long maxShardBytes) {
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("max shard size must be positive: " + maxShardBytes);
        }
        List<List<TensorSpec>> shards = new ArrayList<>();
        List<TensorSpec> shard = new ArrayList<>();
        long bytes = 0;
        for (TensorSpec s : tensors) {
            if (!shard.isEmpty() && bytes + s.byteSize() > maxShardBytes) {
                shards.add(shard);
                shard = new ArrayList<>();
                bytes = 0;
            }
            shard.add(s);
            bytes += s.byteSize();
        }
        shards.add(shard);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new CheckpointException("cannot create checkpoint directory " + dir + ": " + e.getMessage(), e);
        }
        return new ShardedSafetensorsWriter(dir, metadata, shards);
    }

    /** The file names this writer produces, shards first. */
    public List<String> shardNames() {
        return List.copyOf(shardNames);
    }

    @Override
    public void writeFloats(String name, float[] src, int off, int len) {
        if (len == 0) {
            requireDeclared(name);
            return;
        }
        writerFor(name, len).writeFloats(name, src, off, len);
    }

    @Override
    public void writeShorts(String name, short[] src, int off, int len) {
        if (len == 0) {
            requireDeclared(name);
            return;
        }
        writerFor(name, len).writeShorts(name, src, off, len);
    }

    @Override
    public void writeInts(String name, int[] src, int off, int len) {
        if (len == 0) {
            requireDeclared(name);
            return;
        }
        writerFor(name, len).writeInts(name, src, off, len);
    }

    @Override
    public void writeBytes(String name, byte[] src, int off, int len) {
        if (len == 0) {
            requireDeclared(name);
            return;
        }
        writerFor(name, len).writeBytes(name, src, off, len);
    }

    @Override
    public void commit() {
        while (shardIndex < shards.size() - 1 || open != null) {
            if (open != null) {
                open.commit();
                open = null;
            } else {
                openNextShard();
            }
        }
        if (shards.size() > 1) {
            writeIndex();
        }
        finished = true;
    }

    @Override
    public void close() {
        if (open != null) {
            open.close();
            open = null;
        }
        finished = true;
    }

    private SafetensorsWriter writerFor(String name, int len) {
        if (finished) {
            throw new IllegalStateException("writer for " + dir + " is closed");
        }
        // move to the shard that holds the next tensor once the previous one is complete
        while (open == null || (tensorInShard >= shards.get(shardIndex).size())) {
            if (open != null) {
                open.commit();
                open = null;
            }
            if (shardIndex + 1 >= shards.size()) {
                throw new IllegalStateException(dir + ": data for " + name + " after every declared tensor is complete");
            }
            openNextShard();
        }
        List<TensorSpec> shard = shards.get(shardIndex);
        TensorSpec spec = shard.get(tensorInShard);
        if (spec.name().equals(name)) {
            writtenInTensor += len;
            if (writtenInTensor >= spec.numel()) {
                tensorInShard++;
                writtenInTensor = 0;
                skipEmptyTensors();
            }
        }
        return open;
    }

    private void requireDeclared(String name) {
        for (List<TensorSpec> shard : shards) {
            for (TensorSpec s : shard) {
                if (s.name().equals(name)) {
                    return;
                }
            }
        }
        throw new IllegalStateException(dir + ": no tensor " + name + " was declared");
    }

    private void openNextShard() {
        shardIndex++;
        tensorInShard = 0;
        writtenInTensor = 0;
        open = SafetensorsWriter.open(dir.resolve(shardNames.get(shardIndex)), shards.get(shardIndex), metadata);
        skipEmptyTensors();
    }

    /** Empty tensors get no data calls; step over them. */
    private void skipEmptyTensors() {
        List<TensorSpec> shard = shards.get(shardIndex);
        while (tensorInShard < shard.size() && shard.get(tensorInShard).numel() == 0) {
            tensorInShard++;
        }
    }

    private void writeIndex() {
        ObjectNode root = JSON.createObjectNode();
        long total = 0;
        ObjectNode weightMap = JSON.createObjectNode();
        for (int i = 0; i < shards.size(); i++) {
            for (TensorSpec s : shards.get(i)) {
                weightMap.put(s.name(), shardNames.get(i));
                total += s.byteSize();
            }
        }
        root.putObject("metadata").put("total_size", total);
        root.set("weight_map", weightMap);
        try {
            AtomicFiles.writeString(dir.resolve(Checkpoint.INDEX_FILE), JSON.writeValueAsString(root) + "\n");
        } catch (IOException e) {
            throw new CheckpointException("cannot write " + dir.resolve(Checkpoint.INDEX_FILE) + ": " + e.getMessage(), e);
        }
    }
}
