package dev.kimilinear.model;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kimilinear.checkpoint.AtomicFiles;
import dev.kimilinear.checkpoint.Checkpoint;
import dev.kimilinear.checkpoint.CheckpointException;
import dev.kimilinear.checkpoint.DType;
import dev.kimilinear.checkpoint.Fp8Quantizer;
import dev.kimilinear.checkpoint.ShardedSafetensorsWriter;
import dev.kimilinear.checkpoint.Tensor;
import dev.kimilinear.checkpoint.TensorSpec;
import dev.kimilinear.checkpoint.TensorWriter;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * Writes the FP8 checkpoint of a bf16 one in the compressed-tensors layout: each linear
 * layer's weight ({@link ModelWeights#linearWeights}) becomes {@code <name>} F8_E4M3 [out, in]
 * plus {@code <name>_scale} F32 [out, 1], quantised by {@link Fp8Quantizer}; every other tensor
 * is copied as it is; config.json gains the quantization_config; the other files of the
 * directory (tokenizer, generation_config.json) are copied.
 */
public final class Fp8CheckpointConverter {
    /** Rows quantised per task: small enough to spread one expert's matrix over the cores. */
    private static final int ROWS_PER_TASK = 256;

    /** What was written: parameters, bytes of safetensors, files, and how many weights became e4m3. */
    public record Result(Path dir, long parameters, long bytes, int quantized, List<String> files) {
    }

    private Fp8CheckpointConverter() {
    }

    /**
     * Converts the model directory {@code in} into {@code out}, which must not already hold a
     * checkpoint; config.json comes last, so its presence means the weights are complete.
     */
    public static Result convert(Path in, Path out, long maxShardBytes) {
        Path configJson = in.resolve("config.json");
        KimiLinearConfig config = KimiLinearConfig.load(configJson);
        if (Fp8QuantizationConfig.load(configJson) != null) {
            throw new ConfigException(configJson + ": field " + Fp8QuantizationConfig.FIELD
                    + " is present; expected an unquantised (bf16) checkpoint to quantise");
        }
        for (String existing : List.of("config.json", Checkpoint.SINGLE_FILE, Checkpoint.INDEX_FILE)) {
            if (Files.exists(out.resolve(existing))) {
                throw new CheckpointException("output directory " + out + " already holds " + existing
                        + "; expected a new or empty directory");
            }
        }
        List<String> files = new ArrayList<>();
        long parameters = 0;
        long bytes = 0;
        int quantized;
        try (Checkpoint source = Checkpoint.open(in)) {
            ModelWeights weights = ModelWeights.bind(config, source);
            Set<String> linear = new HashSet<>();
            for (Tensor t : weights.linearWeights()) {
                linear.add(t.name());
            }
            quantized = linear.size();
            List<TensorSpec> specs = new ArrayList<>();
            for (String name : source.names()) {
                Tensor t = source.tensor(name);
                if (linear.contains(name)) {
                    specs.add(TensorSpec.of(name, DType.F8_E4M3, t.shape()));
                    specs.add(TensorSpec.of(name + ModelWeightsBinder.SCALE_SUFFIX, DType.F32, t.dim(0), 1));
                } else {
                    specs.add(TensorSpec.of(name, t.dtype(), t.shape()));
                }
            }
            for (TensorSpec s : specs) {
                parameters += s.numel();
                bytes += s.byteSize();
            }
            try (ShardedSafetensorsWriter writer = ShardedSafetensorsWriter.open(out, specs,
                    Map.of("format", "pt"), maxShardBytes)) {
                for (String name : source.names()) {
                    Tensor t = source.tensor(name);
                    if (linear.contains(name)) {
                        Fp8Quantizer.Quantized q = quantize(t);
                        writer.writeBytes(name, q.codes(), 0, q.codes().length);
                        writer.writeFloats(name + ModelWeightsBinder.SCALE_SUFFIX, q.scales(), 0, q.scales().length);
                    } else {
                        copy(t, writer);
                    }
                }
                writer.commit();
                files.addAll(writer.shardNames());
                if (writer.shardNames().size() > 1) {
                    files.add(Checkpoint.INDEX_FILE);
                }
            }
        }
        files.addAll(copyOtherFiles(in, out));
        writeConfig(configJson, out.resolve("config.json"));
        files.add("config.json");
        return new Result(out, parameters, bytes, quantized, List.copyOf(files));
    }

    /** Fp8Quantizer's codes and scales, rows quantised in parallel (each row is independent). */
    static Fp8Quantizer.Quantized quantize(Tensor t) {
        int rows = (int) t.dim(0);
        int cols = (int) t.dim(1);
        float[] values = t.toFloats();
        byte[] codes = new byte[values.length];
        float[] scales = new float[rows];
        IntStream.range(0, (rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK).parallel().forEach(task -> {
            int first = task * ROWS_PER_TASK;
            int count = Math.min(ROWS_PER_TASK, rows - first);
            float[] block = new float[count * cols];
            System.arraycopy(values, first * cols, block, 0, block.length);
            Fp8Quantizer.Quantized q = Fp8Quantizer.quantize(block, count, cols);
            System.arraycopy(q.codes(), 0, codes, first * cols, block.length);
            System.arraycopy(q.scales(), 0, scales, first, count);
        });
        return new Fp8Quantizer.Quantized(codes, scales, rows, cols);
    }

    /** The tensor's values exactly as stored. */
    private static void copy(Tensor t, TensorWriter writer) {
        String name = t.name();
        switch (t.dtype()) {
            case BF16, F16 -> {
                short[] raw = t.toRawShorts();
                writer.writeShorts(name, raw, 0, raw.length);
            }
            case F32 -> {
                float[] values = t.toFloats();
                writer.writeFloats(name, values, 0, values.length);
            }
            case I32, I64 -> {
                int[] values = t.toInts();
                writer.writeInts(name, values, 0, values.length);
            }
            case F8_E4M3, I8, U8, BOOL -> {
                ByteBuffer buffer = t.buffer();
                byte[] raw = new byte[buffer.remaining()];
                buffer.get(raw);
                writer.writeBytes(name, raw, 0, raw.length);
            }
            default -> throw new CheckpointException(t.file() + ": tensor " + name + " has dtype " + t.dtype()
                    + "; the converter copies BF16, F16, F32, I32, I64 and one-byte tensors");
        }
    }

    /** Every regular file but the safetensors, their index and config.json: tokenizer, generation config. */
    private static List<String> copyOtherFiles(Path in, Path out) {
        List<String> copied = new ArrayList<>();
        try (Stream<Path> listing = Files.list(in)) {
            for (Path f : listing.sorted().toList()) {
                String name = f.getFileName().toString();
                if (!Files.isRegularFile(f) || name.endsWith(".safetensors") || name.equals(Checkpoint.INDEX_FILE)
                        || name.equals("config.json")) {
                    continue;
                }
                Files.copy(f, out.resolve(name), StandardCopyOption.REPLACE_EXISTING);
                copied.add(name);
            }
        } catch (IOException e) {
            throw new CheckpointException("cannot copy the files of " + in + " to " + out + ": " + e.getMessage(), e);
        }
        return copied;
    }

    /** The source config.json as it is spelled, plus the quantization_config. */
    private static void writeConfig(Path source, Path target) {
        ObjectMapper json = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
                .enable(SerializationFeature.INDENT_OUTPUT);
        try {
            JsonNode root = json.readTree(source.toFile());
            ObjectNode config = (ObjectNode) root;
            config.set(Fp8QuantizationConfig.FIELD, Fp8QuantizationConfig.written().toJson());
            AtomicFiles.writeString(target, json.writeValueAsString(config) + "\n");
        } catch (IOException e) {
            throw new CheckpointException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }
}
