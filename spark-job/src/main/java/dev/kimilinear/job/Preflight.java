package dev.kimilinear.job;

import dev.kimilinear.eval.compare.RunMetrics;
import dev.kimilinear.job.config.BenchmarkSpec;
import dev.kimilinear.job.config.JobConfig;
import dev.kimilinear.job.config.JobConfigException;
import dev.kimilinear.model.KimiLinearConfig;
import dev.kimilinear.tokenizer.KimiTokenizer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What must hold before Spark starts: inputs exist and are readable, the model directory loads
 * (config and tokenizer; made first when the config says how), the output directory can be
 * written. Reports every problem with the key that named the path.
 */
final class Preflight {
    private Preflight() {
    }

    static KimiTokenizer check(JobConfig config, PrintStream out) {
        List<String> problems = new ArrayList<>();
        for (BenchmarkSpec b : config.benchmarks()) {
            String key = "benchmarks." + b.name();
            readable(problems, key + ".input", b.input());
            readable(problems, key + ".validation", b.validation());
            readable(problems, key + ".prompts", b.prompts());
            if (b.ruler() != null) {
                readable(problems, key + ".essay", b.ruler().essay());
                readable(problems, key + ".squad", b.ruler().squad());
                readable(problems, key + ".hotpotqa", b.ruler().hotpotqa());
            }
        }
        if (config.generate() != null) {
            readable(problems, "generate.input", config.generate().input());
        }
        readable(problems, "spark.defaults", config.spark().defaultsFile());
        if (config.compare() != null) {
            baseline(problems, config);
        }
        Path outputs = config.outputDir().toAbsolutePath();
        if (Files.exists(outputs) && !(Files.isDirectory(outputs) && Files.isWritable(outputs))) {
            problems.add("output.dir: " + config.outputDir() + " is not a writable directory");
        }
        if (config.model().prepare() != null) {
            readable(problems, "model.prepare.config", config.model().prepare().config());
            readable(problems, "model.prepare.corpus", config.model().prepare().corpus());
        }
        if (!problems.isEmpty()) {
            throw new JobConfigException(config.source(), problems);
        }
        Path model = config.model().dir();
        try {
            if (config.model().prepare() != null) {
                ModelPreparation.prepare(model, config.model().prepare(), out);
            }
        } catch (IOException | RuntimeException e) {
            throw new JobConfigException(config.source(), List.of("model.prepare: cannot build " + model + ": " + e.getMessage()));
        }
        if (!Files.isDirectory(model)) {
            throw new JobConfigException(config.source(), List.of("model.dir: " + model + " is not a directory"));
        }
        try {
            KimiLinearConfig.load(model.resolve("config.json"));
            return KimiTokenizer.load(model);
        } catch (RuntimeException e) {
            throw new JobConfigException(config.source(), List.of("model.dir: " + model + " cannot be loaded: " + e.getMessage()));
        }
    }

    /** The baseline must be another run whose metrics can be read now, not after hours of generation. */
    private static void baseline(List<String> problems, JobConfig config) {
        Path baseline = config.compare().baseline();
        if (!Files.exists(baseline)) {
            problems.add("compare.baseline: " + baseline + " does not exist (run the baseline job first)");
            return;
        }
        Path output = config.outputDir().toAbsolutePath().normalize();
        if (baseline.toAbsolutePath().normalize().equals(output)) {
            problems.add("compare.baseline: " + baseline + " is this job's output.dir; compare with another run");
            return;
        }
        try {
            if (RunMetrics.load(baseline).isEmpty()) {
                problems.add("compare.baseline: " + RunMetrics.locate(baseline) + " holds no metrics");
            }
        } catch (IOException | RuntimeException e) {
            problems.add("compare.baseline: " + baseline + " has no readable metrics (expected a run directory with "
                    + "metrics/, or a metrics file): " + e.getMessage());
        }
    }

    private static void readable(List<String> problems, String key, Path path) {
        if (path == null) {
            return;
        }
        if (!Files.exists(path)) {
            problems.add(key + ": " + path + " does not exist");
        } else if (!Files.isReadable(path)) {
            problems.add(key + ": " + path + " is not readable");
        }
    }
}
