package dev.kimilinear.checkpoint;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The tensors of a safetensors checkpoint: one file, a directory with {@code model.safetensors},
 * or a directory sharded by {@code model.safetensors.index.json}. Headers are read and
 * validated on open; tensor data stays on disk and is memory-mapped on first use.
 */
public final class Checkpoint implements AutoCloseable {
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";

    /** Made bytes are read in windows of this size: large enough to fill threads, small enough to throw away. */
    static final long GENERATED_WINDOW_BYTES = 1L << 26;

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final Path source;
    private final Map<String, Tensor> tensors;
    private final Map<String, String> metadata;
    private final List<? extends TensorSource> files;

    private Checkpoint(Path source, Map<String, Tensor> tensors, Map<String, String> metadata,
                       List<? extends TensorSource> files) {
        this.source = source;
        this.tensors = tensors;
        this.metadata = metadata;
        this.files = files;
    }

    /**
     * Opens a single {@code .safetensors} file, or a directory holding {@code model.safetensors}
     * or {@code model.safetensors.index.json} and its shards.
     */
    public static Checkpoint open(Path dirOrFile) {
        return open(dirOrFile, Tensor.DEFAULT_WINDOW_BYTES);
    }

    static Checkpoint open(Path dirOrFile, long windowBytes) {
        if (Files.isDirectory(dirOrFile)) {
            Path single = dirOrFile.resolve(SINGLE_FILE);
            if (Files.isRegularFile(single)) {
                return openFile(single, windowBytes);
            }
            Path index = dirOrFile.resolve(INDEX_FILE);
            if (Files.isRegularFile(index)) {
                return openIndex(index, windowBytes);
            }
            throw new CheckpointException("checkpoint directory " + dirOrFile + " has neither " + SINGLE_FILE
                    + " nor " + INDEX_FILE);
        }
        if (!Files.isRegularFile(dirOrFile)) {
            throw new CheckpointException("checkpoint " + dirOrFile + " does not exist");
        }
        if (dirOrFile.getFileName().toString().endsWith(".index.json")) {
            return openIndex(dirOrFile, windowBytes);
        }
        return openFile(dirOrFile, windowBytes);
    }

    private static Checkpoint openFile(Path path, long windowBytes) {
        MappedFile file = MappedFile.open(path);
        try {
            SafetensorsHeader header = SafetensorsHeader.read(file);
            Map<String, Tensor> tensors = new TreeMap<>();
            for (SafetensorsHeader.Entry e : header.entries().values()) {
                tensors.put(e.name(), new Tensor(e.name(), e.dtype(), e.shape(), file,
                        header.dataStart() + e.begin(), windowBytes));
            }
            return new Checkpoint(path, Collections.unmodifiableMap(tensors), header.metadata(), List.of(file));
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private static Checkpoint openIndex(Path index, long windowBytes) {
        JsonNode root;
        try {
            root = JSON.readTree(index.toFile());
        } catch (IOException e) {
            throw new CheckpointException(index + ": malformed index JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(index + ": expected a JSON object with a weight_map");
        }
        JsonNode weightMap = root.get("weight_map");
        if (weightMap == null || !weightMap.isObject()) {
            throw new CheckpointException(index + ": missing weight_map (an object from tensor name to shard file)");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        JsonNode metadataNode = root.get("metadata");
        if (metadataNode != null && metadataNode.isObject()) {
            metadataNode.fields().forEachRemaining(e -> metadata.put(e.getKey(), e.getValue().asText()));
        }
        Path dir = index.toAbsolutePath().getParent();
        Map<String, MappedFile> shards = new LinkedHashMap<>();
        Map<String, SafetensorsHeader> headers = new LinkedHashMap<>();
        Map<String, Tensor> tensors = new TreeMap<>();
        try {
            for (Iterator<Map.Entry<String, JsonNode>> it = weightMap.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> entry = it.next();
                String name = entry.getKey();
                if (!entry.getValue().isTextual()) {
                    throw new CheckpointException(index + ": weight_map[" + name + "] must be a shard file name");
                }
                String shardName = entry.getValue().textValue();
                MappedFile shard = shards.get(shardName);
                if (shard == null) {
                    Path shardPath = dir.resolve(shardName).normalize();
                    if (!shardPath.startsWith(dir) || !Files.isRegularFile(shardPath)) {
                        throw new CheckpointException(index + ": shard " + shardName + " (for tensor " + name
                                + ") does not exist in " + dir);
                    }
                    shard = MappedFile.open(shardPath);
                    shards.put(shardName, shard);
                    headers.put(shardName, SafetensorsHeader.read(shard));
                }
                SafetensorsHeader header = headers.get(shardName);
                SafetensorsHeader.Entry e = header.entries().get(name);
                if (e == null) {
                    throw new CheckpointException(index + ": tensor " + name + " is listed in shard " + shardName
                            + " but " + shard.path() + " does not hold it");
                }
                tensors.put(name, new Tensor(name, e.dtype(), e.shape(), shard,
                        header.dataStart() + e.begin(), windowBytes));
            }
        } catch (RuntimeException e) {
            shards.values().forEach(MappedFile::close);
            throw e;
        }
        return new Checkpoint(index, Collections.unmodifiableMap(tensors),
                Collections.unmodifiableMap(metadata), List.copyOf(shards.values()));
    }

    /**
     * A checkpoint whose tensors exist nowhere: {@code generator} makes each tensor's bytes when
     * they are read, and nothing is kept (a seeded random model of any size). {@code label}
     * stands for the source in messages.
     */
    public static Checkpoint generated(Path label, List<TensorSpec> specs, TensorGenerator generator) {
        return generated(label, specs, generator, GENERATED_WINDOW_BYTES);
    }

    static Checkpoint generated(Path label, List<TensorSpec> specs, TensorGenerator generator, long windowBytes) {
        Map<String, TensorSpec> byName = new LinkedHashMap<>();
        for (TensorSpec spec : specs) {
            if (byName.put(spec.name(), spec) != null) {
                throw new CheckpointException(label + ": tensor " + spec.name() + " appears twice");
            }
        }
        GeneratedSource source = new GeneratedSource(label, byName, generator);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (TensorSpec spec : specs) {
            tensors.put(spec.name(), new Tensor(spec.name(), spec.dtype(), spec.shape(), source, 0, windowBytes));
        }
        return new Checkpoint(label, Collections.unmodifiableMap(tensors), Map.of(), List.of(source));
    }

    /** The file or index this checkpoint was opened from. */
    public Path source() {
        return source;
    }

    /** Tensor names, sorted. */
    public Set<String> names() {
        return tensors.keySet();
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** The {@code __metadata__} of a single file, or the {@code metadata} of an index. */
    public Map<String, String> metadata() {
        return metadata;
    }

    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new CheckpointException("tensor " + name + " is missing from checkpoint " + source);
        }
        return t;
    }

    /** The tensor, checked to be a weight (BF16, F16 or F32) of exactly {@code shape}. */
    public Tensor require(String name, long... shape) {
        Tensor t = requireShape(name, shape);
        requireWeightDtype(t);
        return t;
    }

    /** The tensor, checked to have exactly {@code shape}; any dtype. */
    public Tensor requireShape(String name, long... shape) {
        Tensor t = tensor(name);
        if (!t.hasShape(shape)) {
            throw new CheckpointException(t.file() + ": tensor " + name + " has shape "
                    + Arrays.toString(t.shape()) + "; expected " + Arrays.toString(shape));
        }
        return t;
    }

    /** Fails unless the tensor is stored as BF16, F16 or F32. */
    public static Tensor requireWeightDtype(Tensor t) {
        if (!t.dtype().isWeightFloat()) {
            throw new CheckpointException(t.file() + ": tensor " + t.name() + " has dtype " + t.dtype()
                    + "; expected BF16, F16 or F32");
        }
        return t;
    }

    /** The safetensors files this checkpoint reads. */
    public List<Path> files() {
        List<Path> paths = new ArrayList<>();
        for (TensorSource f : files) {
            paths.add(f.path());
        }
        return paths;
    }

    /** Releases the files; mappings already handed out stay readable until collected. */
    @Override
    public void close() {
        CheckpointException first = null;
        for (TensorSource f : files) {
            try {
                f.close();
            } catch (CheckpointException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public String toString() {
        return "Checkpoint[" + source + ", " + tensors.size() + " tensors]";
    }
}
