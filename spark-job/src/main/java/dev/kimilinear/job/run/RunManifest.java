package dev.kimilinear.job.run;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.kimilinear.model.WeightPrecision;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code config.yaml} of a run directory: the resolved config and the fingerprints. A run
 * directory resumes only what the same model, prompts and sampling would produce.
 */
public final class RunManifest {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private RunManifest() {
    }

    /** Throws when the directory holds generations made from something else. */
    public static void checkResumable(RunDirectory run, RunFingerprints now) throws IOException {
        if (!Files.isRegularFile(run.config())) {
            return;
        }
        JsonNode old = YAML.readTree(run.config().toFile());
        JsonNode fingerprints = old == null ? null : old.get("fingerprints");
        if (fingerprints == null) {
            throw new IllegalStateException(run.config() + ": has no fingerprints; it was not written by an eval job. "
                    + "Choose another output.dir");
        }
        List<String> differ = new ArrayList<>();
        compare(differ, "model", fingerprints, now.model());
        // runs recorded before the weight precision was fingerprinted ran bf16 weights
        JsonNode weights = fingerprints.get("weights");
        String oldWeights = weights == null ? WeightPrecision.BF16.label() : weights.asText();
        if (!oldWeights.equals(now.weights().label())) {
            differ.add("weight precision (" + oldWeights + " then, " + now.weights().label() + " now)");
        }
        compare(differ, "prompts", fingerprints, now.prompts());
        compare(differ, "sampling", fingerprints, now.sampling());
        if (!differ.isEmpty() && hasGenerations(run)) {
            throw new IllegalStateException(run.root() + " already holds generations from a different "
                    + String.join(", ", differ) + " (see " + run.config() + "); resuming would mix them. "
                    + "Choose another output.dir, or delete that directory to start over");
        }
    }

    private static boolean hasGenerations(RunDirectory run) throws IOException {
        if (!Files.isDirectory(run.generations())) {
            return false;
        }
        try (var files = Files.list(run.generations())) {
            return files.anyMatch(p -> p.getFileName().toString().endsWith(".parquet"));
        }
    }

    private static void compare(List<String> differ, String key, JsonNode fingerprints, String now) {
        JsonNode old = fingerprints.get(key);
        if (old == null || !old.asText().equals(now)) {
            differ.add(key);
        }
    }

    public static void write(RunDirectory run, ObjectNode config, RunFingerprints fingerprints) throws IOException {
        ObjectNode root = config.deepCopy();
        ObjectNode f = root.putObject("fingerprints");
        f.put("model", fingerprints.model());
        f.put("weights", fingerprints.weights().label());
        f.put("prompts", fingerprints.prompts());
        f.put("sampling", fingerprints.sampling());
        ObjectNode inputs = f.putObject("inputs");
        fingerprints.inputs().forEach(inputs::put);
        Files.createDirectories(run.root());
        Path tmp = Files.createTempFile(run.root(), ".config.yaml.", ".tmp");
        try {
            Files.writeString(tmp, "# the resolved job config of this run, with content hashes (SHA-256) of its inputs\n"
                    + YAML.writerWithDefaultPrettyPrinter().writeValueAsString(root));
            Files.move(tmp, run.config(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
