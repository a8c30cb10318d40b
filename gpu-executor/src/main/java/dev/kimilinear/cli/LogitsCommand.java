package dev.kimilinear.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kimilinear.checkpoint.Checkpoint;
import dev.kimilinear.checkpoint.DType;
import dev.kimilinear.checkpoint.SafetensorsWriter;
import dev.kimilinear.checkpoint.Tensor;
import dev.kimilinear.checkpoint.TensorData;
import dev.kimilinear.cuda.ActivationPrecision;
import dev.kimilinear.engine.Backend;
import dev.kimilinear.engine.BackendKind;
import dev.kimilinear.engine.LogitsRecorder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code logits}: the logits of a token sequence (every prompt position, then greedy decode
 * steps), written in the parity fixtures' schema so any checkpoint can be checked against any
 * implementation.
 */
@Command(name = "logits", mixinStandardHelpOptions = true,
        description = "Prefill logits of a token sequence and greedy decode steps, as safetensors.")
public final class LogitsCommand implements Callable<Integer> {

    @picocli.CommandLine.Mixin
    ModelOptions target;

    @Option(names = "--input-ids", paramLabel = "FILE", required = true,
            description = "safetensors with an int32 'input_ids' tensor, or a JSON array of ids")
    Path inputIds;

    @Option(names = "--decode-steps", paramLabel = "N", defaultValue = "0",
            description = "greedy steps: row 0 from the prefill, then N-1 decode steps (default: ${DEFAULT-VALUE})")
    int decodeSteps;

    @Option(names = "--precision", paramLabel = "split|bf16", defaultValue = "split",
            description = "cuda activations: split (fp32-faithful, for parity checks) or bf16 (the serving mode)"
                    + " (default: ${DEFAULT-VALUE})")
    String precision;

    @Option(names = "--row-stride", paramLabel = "N", defaultValue = "1",
            description = "prefill logits of positions 0, N, 2N, ... and the last only (long prompts; their"
                    + " positions go in 'prefill_rows') (default: ${DEFAULT-VALUE})")
    int rowStride;

    @Option(names = "--out", paramLabel = "OUT.safetensors", required = true, description = "output file")
    Path out;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        try {
            if (decodeSteps < 0) {
                throw new IllegalArgumentException("--decode-steps must be >= 0, got " + decodeSteps);
            }
            int[] ids = readIds(inputIds);
            long start = System.nanoTime();
            LogitsRecorder.Recording rec;
            ActivationPrecision p = ActivationPrecision.parse(precision);
            try (Backend b = target.open(p)) {
                for (int id : ids) {
                    if (id < 0 || id >= b.config().vocabSize()) {
                        throw new IllegalArgumentException(inputIds + ": token id " + id
                                + " outside the model's vocabulary [0, " + b.config().vocabSize() + ")");
                    }
                }
                rec = LogitsRecorder.record(b, ids, decodeSteps, b.maxBatchTokens(), rowStride);
            }
            Map<String, TensorData> tensors = new LinkedHashMap<>();
            tensors.put("input_ids", TensorData.i32(ids, ids.length));
            tensors.put("prefill_logits", TensorData.f32(rec.prefillLogits(), rec.prefillRows().length, rec.vocab()));
            if (rowStride > 1) {
                tensors.put("prefill_rows", TensorData.i32(rec.prefillRows(), rec.prefillRows().length));
            }
            if (decodeSteps > 0) {
                tensors.put("decode_logits", TensorData.f32(rec.decodeLogits(), decodeSteps, rec.vocab()));
                tensors.put("generated_ids", TensorData.i32(rec.generatedIds(), decodeSteps));
            }
            BackendKind kind = target.kind();
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("backend", kind.label());
            if (kind == BackendKind.CUDA) {
                metadata.put("precision", p.label());
                metadata.put("weights", target.heldWeights().label());
            }
            SafetensorsWriter.write(out, tensors, metadata);
            spec.commandLine().getOut().printf(Locale.ROOT, "%d prompt tokens, %d decode steps on %s in %.2f s -> %s%n",
                    ids.length, decodeSteps, target.kind().label(), (System.nanoTime() - start) / 1e9, out);
            return 0;
        } catch (RuntimeException | IOException e) {
            err.println("kimi logits: " + e.getMessage());
            return 1;
        }
    }

    /** A safetensors file with an int 'input_ids' tensor, or a JSON array of non-negative ints. */
    static int[] readIds(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": no such file");
        }
        if (file.getFileName().toString().endsWith(".safetensors")) {
            try (Checkpoint c = Checkpoint.open(file)) {
                if (!c.contains("input_ids")) {
                    throw new IOException(file + ": no 'input_ids' tensor (found " + c.names() + ")");
                }
                Tensor t = c.tensor("input_ids");
                if (t.dtype() != DType.I32 && t.dtype() != DType.I64) {
                    throw new IOException(file + ": 'input_ids' is " + t.dtype() + ", expected I32 or I64");
                }
                return t.toInts();
            }
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new IOException(file + ": neither safetensors nor a JSON array of token ids: " + e.getMessage());
        }
        if (root == null || !root.isArray() || root.isEmpty()) {
            throw new IOException(file + ": expected a non-empty JSON array of token ids");
        }
        int[] ids = new int[root.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode n = root.get(i);
            if (!n.canConvertToInt() || !n.isIntegralNumber()) {
                throw new IOException(file + ": element " + i + " is " + n + ", expected an integer token id");
            }
            ids[i] = n.intValue();
        }
        return ids;
    }

    public static void main(String[] args) {
        System.exit(new picocli.CommandLine(new LogitsCommand()).execute(args));
    }
}
