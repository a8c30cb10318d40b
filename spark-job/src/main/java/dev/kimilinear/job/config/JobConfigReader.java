package dev.kimilinear.job.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.kimilinear.model.WeightPrecision;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads a job config from YAML, applies {@code key=value} overrides and checks every value,
 * reporting all problems at once, each naming its key. Relative paths stay relative: they are
 * resolved against the working directory the job runs in.
 */
public final class JobConfigReader {
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private static final List<String> RULER_TASKS = List.of("niah_single_1", "niah_single_2", "niah_single_3",
            "niah_multikey_1", "niah_multikey_2", "niah_multikey_3", "niah_multivalue", "niah_multiquery",
            "vt", "cwe", "fwe", "qa_1", "qa_2");

    private JobConfigReader() {
    }

    public static JobConfig read(Path file, List<String> overrides) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new JobConfigException(file.toString(), List.of("job config file not found"));
        } catch (IOException e) {
            throw new JobConfigException(file.toString(), List.of("cannot read the job config: " + e.getMessage()));
        }
        return parse(file.toString(), text, overrides);
    }

    public static JobConfig parse(String source, String yaml, List<String> overrides) {
        JsonNode tree;
        try {
            tree = YAML.readTree(yaml);
        } catch (JsonProcessingException e) {
            throw new JobConfigException(source, List.of("not valid YAML: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")")));
        }
        if (tree == null || tree.isMissingNode() || tree.isNull()) {
            tree = YAML.createObjectNode();
        }
        if (!tree.isObject()) {
            throw new JobConfigException(source, List.of("expected a mapping of keys at the top level"));
        }
        List<String> problems = new ArrayList<>();
        for (String override : overrides) {
            Overrides.apply((ObjectNode) tree, override, problems);
        }
        if (!problems.isEmpty()) {
            throw new JobConfigException(source, problems);
        }
        JobConfig config = bind(source, new ConfigNode(tree, "", problems));
        if (!problems.isEmpty()) {
            throw new JobConfigException(source, problems);
        }
        return config;
    }

    private static JobConfig bind(String source, ConfigNode root) {
        String name = root.string("name", "job");
        JobMode mode = JobMode.valueOf(root.choice("mode", "eval", List.of("eval", "generate")).toUpperCase(Locale.ROOT));
        ModelSpec model = model(root.child("model"));
        EngineSpec engine = engine(root.child("engine"));
        SamplingSpec sampling = sampling(root.child("sampling"));

        List<BenchmarkSpec> benchmarks = new ArrayList<>();
        ConfigNode benchmarksNode = root.child("benchmarks");
        for (String benchmark : benchmarksNode.names()) {
            ConfigNode b = benchmarksNode.child(benchmark);
            if (!BenchmarkSpec.NAMES.contains(benchmark)) {
                benchmarksNode.problem(benchmark, "unknown benchmark; expected one of " + String.join(", ", BenchmarkSpec.NAMES));
                continue;
            }
            benchmarks.add(benchmark(benchmark, b));
        }
        GenerateSpec generate = null;
        if (root.has("generate") || mode == JobMode.GENERATE) {
            generate = generate(root.child("generate"));
        }
        if (mode == JobMode.EVAL && benchmarks.isEmpty()) {
            root.problem("benchmarks", "an eval job needs at least one benchmark (" + String.join(", ", BenchmarkSpec.NAMES) + ")");
        }
        if (mode == JobMode.EVAL && generate != null) {
            root.problem("generate", "only a job with mode: generate reads a prompts file this way; eval jobs use benchmarks");
        }
        if (mode == JobMode.GENERATE && !benchmarks.isEmpty()) {
            root.problem("benchmarks", "a generate job takes its prompts from generate.input, not from benchmarks");
        }

        ConfigNode output = root.child("output");
        Path outputDir = output.requiredPath("dir");
        output.rejectUnknown();

        ConfigNode partitionsNode = root.child("partitions");
        PartitionSpec partitions = new PartitionSpec(
                (int) partitionsNode.integer("count", 0, 0, 1_000_000),
                (int) partitionsNode.integer("per_slot", 2, 1, 1000));
        partitionsNode.rejectUnknown();

        ConfigNode sparkNode = root.child("spark");
        SparkSpec spark = new SparkSpec(sparkNode.string("master", null), sparkNode.path("defaults", null),
                sparkNode.stringMap("conf"));
        sparkNode.rejectUnknown();

        CompareSpec compare = null;
        if (root.has("compare")) {
            ConfigNode c = root.child("compare");
            compare = new CompareSpec(c.requiredPath("baseline"), c.optionalDecimal("max_drop", 0, 100));
            c.rejectUnknown();
            if (mode == JobMode.GENERATE) {
                root.problem("compare", "a generate job has no scores to compare");
            }
        } else {
            root.child("compare");
        }
        boolean report = root.bool("report", mode == JobMode.EVAL);

        ConfigNode faultsNode = root.child("faults");
        List<Integer> hold = faultsNode.integers("hold", List.of(), 0);
        Path holdDir = faultsNode.path("hold_dir", null);
        if (!hold.isEmpty() && holdDir == null) {
            faultsNode.problem("hold_dir", "required with faults.hold: the folder where a held task writes its marker");
        }
        FaultSpec faults = new FaultSpec(faultsNode.integers("after_commit", List.of(), 0),
                faultsNode.integers("always", List.of(), 0), holdDir == null ? List.of() : hold,
                holdDir == null ? null : holdDir.toAbsolutePath().toString());
        faultsNode.rejectUnknown();

        root.rejectUnknown();
        return new JobConfig(source, name, mode, model, engine, sampling, benchmarks, generate, outputDir,
                partitions, spark, compare, report, faults);
    }

    private static ModelSpec model(ConfigNode m) {
        Path dir = m.requiredPath("dir");
        ModelSpec.Backend backend = ModelSpec.Backend.valueOf(
                m.choice("backend", "auto", List.of("cpu", "cuda", "auto")).toUpperCase(Locale.ROOT));
        String precisionName = m.choice("precision", null, List.of("bf16", "fp8"));
        WeightPrecision precision = precisionName == null ? null : WeightPrecision.parse(precisionName);
        // one engine over this many of the executor's GPUs, as pipeline stages
        int gpus = (int) m.integer("gpus_per_engine", 1, 1, 64);
        if (gpus > 1 && backend == ModelSpec.Backend.CPU) {
            m.problem("gpus_per_engine", "is " + gpus + " with backend cpu; several GPUs per engine need backend cuda"
                    + " or auto");
        }
        // several GPUs: one pipeline (a model larger than one GPU), or replicas that pool under pressure
        boolean elastic = "elastic".equals(m.choice("multi_gpu", "pipeline", List.of("pipeline", "elastic")));
        if (elastic && gpus < 2) {
            m.problem("multi_gpu", "is elastic with gpus_per_engine " + gpus + "; replicas need 2 GPUs or more");
        }
        if (elastic && backend == ModelSpec.Backend.CPU) {
            m.problem("multi_gpu", "is elastic with backend cpu; replicas on GPUs need backend cuda or auto");
        }
        ModelSpec.PrepareSpec prepare = null;
        if (m.has("prepare")) {
            ConfigNode p = m.child("prepare");
            prepare = new ModelSpec.PrepareSpec(p.requiredPath("config"), p.integer("seed", 0, Long.MIN_VALUE, Long.MAX_VALUE),
                    (int) p.integer("vocab_size", 4096, 256 + 16, 1 << 20), p.path("corpus", null));
            p.rejectUnknown();
        } else {
            m.child("prepare");
        }
        m.rejectUnknown();
        return new ModelSpec(dir, backend, precision, gpus, elastic, prepare);
    }

    private static EngineSpec engine(ConfigNode e) {
        EngineSpec spec = new EngineSpec(
                (int) e.integer("max_batch_tokens", 2048, 16, 1 << 20),
                (int) e.integer("prefill_chunk", 512, 16, 1 << 20),
                (int) e.integer("max_sequences", 64, 1, 1 << 16),
                e.integer("memory_budget_bytes", 0, 0, Long.MAX_VALUE),
                (int) e.integer("max_model_length", 8192, 16, 1 << 24),
                (int) e.integer("page_size", 64, 1, 1 << 16));
        e.rejectUnknown();
        if (spec.prefillChunk() > spec.maxBatchTokens()) {
            e.problem("prefill_chunk", "must not exceed engine.max_batch_tokens (" + spec.maxBatchTokens() + "), found "
                    + spec.prefillChunk());
        }
        return spec;
    }

    private static SamplingSpec sampling(ConfigNode s) {
        SamplingSpec spec = new SamplingSpec(
                (int) s.integer("max_tokens", 256, 1, 1 << 24),
                s.decimal("temperature", 0.0, 0.0, 100.0),
                s.decimal("top_p", 1.0, 0.0, 1.0),
                (int) s.integer("top_k", 0, 0, 1 << 24),
                s.integer("seed", 0, Long.MIN_VALUE, Long.MAX_VALUE),
                (int) s.integer("n", 1, 1, 10_000),
                s.strings("stop", List.of()));
        s.rejectUnknown();
        if (spec.topP() == 0.0) {
            s.problem("top_p", "must be above 0 (1 keeps every token)");
        }
        return spec;
    }

    private static SamplingOverride samplingOverride(ConfigNode s) {
        SamplingOverride o = new SamplingOverride(s.optionalInteger("max_tokens", 1, 1 << 24),
                s.optionalDecimal("temperature", 0.0, 100.0), s.optionalInteger("n", 1, 10_000),
                s.strings("stop", null));
        s.rejectUnknown();
        return o;
    }

    private static BenchmarkSpec benchmark(String name, ConfigNode b) {
        Path prompts = b.path("prompts", null);
        boolean ruler = name.equals(BenchmarkSpec.RULER);
        Path input = b.path("input", null);
        Path validation = name.equals(BenchmarkSpec.MMLU_PRO) ? b.path("validation", null) : null;
        int limit = (int) b.integer("limit", 0, 0, Integer.MAX_VALUE);
        boolean mmlu = name.equals(BenchmarkSpec.MMLU_PRO);
        Long seed = b.has("seed") ? b.integer("seed", 0, Long.MIN_VALUE, Long.MAX_VALUE) : null;
        if (seed == null) {
            b.child("seed");
        }
        int shots = mmlu ? (int) b.integer("shots", 5, 0, 20) : 0;
        boolean chat = (mmlu || name.equals(BenchmarkSpec.HUMANEVAL)) && b.bool("chat", false);
        int repeats = name.equals(BenchmarkSpec.GPQA) ? (int) b.integer("repeats", 1, 1, 100) : 1;
        BenchmarkSpec.RulerSpec rulerSpec = null;
        if (ruler) {
            List<String> tasks = b.strings("tasks", List.of("niah_single_1"));
            for (String task : tasks) {
                if (!RULER_TASKS.contains(task)) {
                    b.problem("tasks", "unknown RULER task '" + task + "'; expected some of " + String.join(", ", RULER_TASKS));
                }
            }
            rulerSpec = new BenchmarkSpec.RulerSpec(tasks, b.integers("lengths", List.of(4096), 512),
                    (int) b.integer("samples", 10, 1, 1_000_000), b.path("essay", null), b.path("squad", null),
                    b.path("hotpotqa", null));
        }
        SamplingOverride sampling = b.has("sampling") ? samplingOverride(b.child("sampling")) : SamplingOverride.NONE;
        if (!b.has("sampling")) {
            b.child("sampling");
        }
        SandboxSpec sandbox = name.equals(BenchmarkSpec.HUMANEVAL) ? sandbox(b.child("sandbox")) : null;
        b.rejectUnknown();
        if (prompts != null && input != null) {
            b.problem("prompts", "give either prompts (prompt records written earlier) or input (the native file), not both");
        }
        if (mmlu && shots > 0 && input != null && validation == null) {
            b.problem("validation", "is required for the " + shots + "-shot prompt (the validation split's worked "
                    + "examples); or set shots: 0");
        }
        if (!ruler && prompts == null && input == null) {
            b.problem("input", "is required (the benchmark's native file), unless prompts names prompt records");
        }
        if (ruler && input != null) {
            b.problem("input", "RULER is generated; use prompts for records generated earlier");
        }
        return new BenchmarkSpec(name, input, validation, prompts, limit, seed, shots, chat, repeats, rulerSpec, sampling,
                sandbox);
    }

    private static SandboxSpec sandbox(ConfigNode s) {
        SandboxSpec d = SandboxSpec.DEFAULTS;
        SandboxSpec spec = new SandboxSpec(s.decimal("timeout_seconds", d.timeoutSeconds(), 0.1, 3600),
                (int) s.integer("parallelism", d.parallelism(), 0, 1024), s.bool("official_guard", d.officialGuard()),
                s.string("python", d.python()));
        s.rejectUnknown();
        return spec;
    }

    private static GenerateSpec generate(ConfigNode g) {
        if (g.has("column") && g.has("text_column")) {
            g.problem("column", "give the prompt column once: generate.column (text_column is its older name)");
        }
        String column = g.has("column") ? g.string("column", null) : g.string("text_column", null);
        GenerateSpec spec = new GenerateSpec(g.requiredPath("input"), column,
                g.string("messages_column", "messages"), g.string("id_column", null), g.string("dataset", "dataset"));
        g.rejectUnknown();
        if (spec.dataset() != null && spec.dataset().contains("/")) {
            g.problem("dataset", "is the first part of every id and must not contain '/'");
        }
        return spec;
    }
}
