package dev.kimilinear.job.config;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;

/**
 * A parsed config back as a YAML tree in the reader's keys, every default spelt out: what a run
 * directory records as the config it ran with. {@link JobConfigReader} reads it back to the same
 * record.
 */
public final class JobConfigWriter {
    private JobConfigWriter() {
    }

    public static ObjectNode toTree(JobConfig c) {
        ObjectNode root = JobConfigReader.YAML.createObjectNode();
        root.put("name", c.name());
        root.put("mode", c.mode().name().toLowerCase(Locale.ROOT));

        ObjectNode model = root.putObject("model");
        model.put("dir", text(c.model().dir()));
        model.put("backend", c.model().backend().name().toLowerCase(Locale.ROOT));
        if (c.model().precision() != null) {
            model.put("precision", c.model().precision().label());
        }
        if (c.model().gpusPerEngine() != 1) {
            model.put("gpus_per_engine", c.model().gpusPerEngine());
        }
        if (c.model().elastic()) {
            model.put("multi_gpu", "elastic");
        }
        if (c.model().prepare() != null) {
            ModelSpec.PrepareSpec p = c.model().prepare();
            ObjectNode prepare = model.putObject("prepare");
            prepare.put("config", text(p.config()));
            prepare.put("seed", p.seed());
            prepare.put("vocab_size", p.vocabSize());
            if (p.corpus() != null) {
                prepare.put("corpus", text(p.corpus()));
            }
        }

        EngineSpec e = c.engine();
        ObjectNode engine = root.putObject("engine");
        engine.put("max_batch_tokens", e.maxBatchTokens());
        engine.put("prefill_chunk", e.prefillChunk());
        engine.put("max_sequences", e.maxSequences());
        engine.put("memory_budget_bytes", e.memoryBudgetBytes());
        engine.put("max_model_length", e.maxModelLength());
        engine.put("page_size", e.pageSize());

        SamplingSpec s = c.sampling();
        ObjectNode sampling = root.putObject("sampling");
        sampling.put("max_tokens", s.maxTokens());
        sampling.put("temperature", s.temperature());
        sampling.put("top_p", s.topP());
        sampling.put("top_k", s.topK());
        sampling.put("seed", s.seed());
        sampling.put("n", s.n());
        strings(sampling.putArray("stop"), s.stop());

        if (!c.benchmarks().isEmpty()) {
            ObjectNode benchmarks = root.putObject("benchmarks");
            for (BenchmarkSpec b : c.benchmarks()) {
                benchmarks.set(b.name(), benchmark(b));
            }
        }
        if (c.generate() != null) {
            GenerateSpec g = c.generate();
            ObjectNode generate = root.putObject("generate");
            generate.put("input", text(g.input()));
            if (g.textColumn() != null) {
                generate.put("column", g.textColumn());
            }
            generate.put("messages_column", g.messagesColumn());
            if (g.idColumn() != null) {
                generate.put("id_column", g.idColumn());
            }
            generate.put("dataset", g.dataset());
        }
        root.putObject("output").put("dir", text(c.outputDir()));
        ObjectNode partitions = root.putObject("partitions");
        partitions.put("count", c.partitions().count());
        partitions.put("per_slot", c.partitions().perSlot());

        ObjectNode spark = root.putObject("spark");
        if (c.spark().master() != null) {
            spark.put("master", c.spark().master());
        }
        if (c.spark().defaultsFile() != null) {
            spark.put("defaults", text(c.spark().defaultsFile()));
        }
        ObjectNode conf = spark.putObject("conf");
        new TreeMap<>(c.spark().conf()).forEach(conf::put);

        if (c.compare() != null) {
            ObjectNode compare = root.putObject("compare");
            compare.put("baseline", text(c.compare().baseline()));
            if (c.compare().maxDropPoints() != null) {
                compare.put("max_drop", c.compare().maxDropPoints());
            }
        }
        root.put("report", c.report());
        if (c.faults().any()) {
            ObjectNode faults = root.putObject("faults");
            ints(faults.putArray("after_commit"), c.faults().afterCommit());
            ints(faults.putArray("always"), c.faults().always());
            if (!c.faults().hold().isEmpty()) {
                ints(faults.putArray("hold"), c.faults().hold());
                faults.put("hold_dir", c.faults().holdDir());
            }
        }
        return root;
    }

    private static ObjectNode benchmark(BenchmarkSpec b) {
        ObjectNode node = JobConfigReader.YAML.createObjectNode();
        if (b.input() != null) {
            node.put("input", text(b.input()));
        }
        if (b.validation() != null) {
            node.put("validation", text(b.validation()));
        }
        if (b.prompts() != null) {
            node.put("prompts", text(b.prompts()));
        }
        node.put("limit", b.limit());
        if (b.seed() != null) {
            node.put("seed", b.seed());
        }
        if (b.name().equals(BenchmarkSpec.MMLU_PRO)) {
            node.put("shots", b.shots());
        }
        if (b.name().equals(BenchmarkSpec.MMLU_PRO) || b.name().equals(BenchmarkSpec.HUMANEVAL)) {
            node.put("chat", b.chat());
        }
        if (b.name().equals(BenchmarkSpec.GPQA)) {
            node.put("repeats", b.repeats());
        }
        if (b.ruler() != null) {
            strings(node.putArray("tasks"), b.ruler().tasks());
            ArrayNode lengths = node.putArray("lengths");
            b.ruler().lengths().forEach(lengths::add);
            node.put("samples", b.ruler().samples());
            if (b.ruler().essay() != null) {
                node.put("essay", text(b.ruler().essay()));
            }
            if (b.ruler().squad() != null) {
                node.put("squad", text(b.ruler().squad()));
            }
            if (b.ruler().hotpotqa() != null) {
                node.put("hotpotqa", text(b.ruler().hotpotqa()));
            }
        }
        if (b.sandbox() != null) {
            SandboxSpec s = b.sandbox();
            ObjectNode sandbox = node.putObject("sandbox");
            sandbox.put("timeout_seconds", s.timeoutSeconds());
            sandbox.put("parallelism", s.parallelism());
            sandbox.put("official_guard", s.officialGuard());
            if (s.python() != null) {
                sandbox.put("python", s.python());
            }
        }
        SamplingOverride o = b.sampling();
        if (!o.equals(SamplingOverride.NONE)) {
            ObjectNode sampling = node.putObject("sampling");
            if (o.maxTokens() != null) {
                sampling.put("max_tokens", o.maxTokens());
            }
            if (o.temperature() != null) {
                sampling.put("temperature", o.temperature());
            }
            if (o.n() != null) {
                sampling.put("n", o.n());
            }
            if (o.stop() != null) {
                strings(sampling.putArray("stop"), o.stop());
            }
        }
        return node;
    }

    private static void strings(ArrayNode array, List<String> values) {
        values.forEach(array::add);
    }

    private static void ints(ArrayNode array, List<Integer> values) {
        values.forEach(array::add);
    }

    private static String text(Path path) {
        return path.toString();
    }

    /** The tree as YAML text. */
    public static String toYaml(ObjectNode tree) {
        try {
            return JobConfigReader.YAML.writerWithDefaultPrettyPrinter().writeValueAsString(tree);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot write the config as YAML", e);
        }
    }

}
