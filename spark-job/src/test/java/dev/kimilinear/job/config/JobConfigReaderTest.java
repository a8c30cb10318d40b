package dev.kimilinear.job.config;

import dev.kimilinear.model.WeightPrecision;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JobConfigReaderTest {
    private static final String MINIMAL = """
            model: {dir: models/m}
            benchmarks:
              gpqa: {input: data/gpqa.csv}
            output: {dir: runs/x}
            """;

    @Test
    void readsTheDemoJob() {
        JobConfig c = JobConfigReader.read(Path.of("../conf/jobs/demo.yaml"), List.of());
        assertEquals(JobMode.EVAL, c.mode());
        assertEquals(ModelSpec.Backend.CPU, c.model().backend());
        assertEquals(List.of("mmlu-pro", "gpqa", "humaneval", "ruler"), c.benchmarks().stream().map(BenchmarkSpec::name).toList());
        BenchmarkSpec humaneval = c.benchmarks().get(2);
        assertEquals(2, humaneval.sampling().n());
        assertEquals(0.8, humaneval.sampling().temperature());
        assertEquals(List.of(1536), c.benchmarks().get(3).ruler().lengths());
        assertEquals(5, c.benchmarks().get(0).shots());
    }

    @Test
    void overridesKeepTheirTypesAndSparkKeysKeepTheirDots() {
        JobConfig c = JobConfigReader.parse("t", MINIMAL, List.of("sampling.n=3", "sampling.stop=[\"\\n\", END]",
                "spark.conf.spark.executor.memory=8g", "benchmarks.gpqa.sampling.max_tokens=16", "model.backend=cuda"));
        assertEquals(3, c.sampling().n());
        assertEquals(List.of("\n", "END"), c.sampling().stop());
        assertEquals("8g", c.spark().conf().get("spark.executor.memory"));
        assertEquals(16, c.benchmarks().get(0).sampling().maxTokens());
        assertNull(c.benchmarks().get(0).sampling().n());
        assertEquals(ModelSpec.Backend.CUDA, c.model().backend());
    }

    @Test
    void everyProblemNamesItsKey() {
        JobConfigException e = assertThrows(JobConfigException.class, () -> JobConfigReader.parse("job.yaml", """
                model: {backend: tpu}
                sampling: {temprature: 0.5, max_tokens: many, top_p: 2}
                benchmarks:
                  mmlu-pro: {input: t.json}
                  squad: {input: s.json}
                output: {}
                """, List.of()));
        List<String> p = e.problems();
        assertTrue(p.contains("model.dir: is required (a path)"), p.toString());
        assertTrue(p.stream().anyMatch(s -> s.startsWith("model.backend: expected one of cpu, cuda, auto, found 'tpu'")), p.toString());
        assertTrue(p.stream().anyMatch(s -> s.startsWith("sampling.temprature: unknown key")), p.toString());
        assertTrue(p.stream().anyMatch(s -> s.startsWith("sampling.max_tokens: expected a whole number, found 'many'")), p.toString());
        assertTrue(p.stream().anyMatch(s -> s.startsWith("sampling.top_p: expected a number in [0.0, 1.0]")), p.toString());
        assertTrue(p.stream().anyMatch(s -> s.startsWith("benchmarks.squad: unknown benchmark")), p.toString());
        assertTrue(p.stream().anyMatch(s -> s.startsWith("benchmarks.mmlu-pro.validation: is required")), p.toString());
        assertTrue(p.contains("output.dir: is required (a path)"), p.toString());
        assertTrue(e.getMessage().startsWith("job.yaml: "), e.getMessage());
    }

    @Test
    void aHeldPartitionNeedsAFolderForItsMarker() {
        JobConfigException e = assertThrows(JobConfigException.class,
                () -> JobConfigReader.parse("t", MINIMAL, List.of("faults.hold=[2]")));
        assertTrue(e.problems().contains("faults.hold_dir: required with faults.hold: the folder where a held task "
                + "writes its marker"), e.problems().toString());
        JobConfig c = JobConfigReader.parse("t", MINIMAL, List.of("faults.hold=[2]", "faults.hold_dir=holds"));
        assertEquals(List.of(2), c.faults().hold());
        assertEquals(Path.of("holds").toAbsolutePath().toString(), c.faults().holdDir());
        assertTrue(JobConfigWriter.toYaml(JobConfigWriter.toTree(c)).contains("hold_dir"));
    }

    @Test
    void badOverridesAndBadYamlAreReported() {
        JobConfigException e = assertThrows(JobConfigException.class,
                () -> JobConfigReader.parse("t", MINIMAL, List.of("sampling", "model.dir.x=1")));
        assertTrue(e.problems().get(0).contains("expected key=value"), e.problems().toString());
        assertTrue(e.problems().get(1).contains("'model.dir' is a single value"), e.problems().toString());
        JobConfigException yaml = assertThrows(JobConfigException.class, () -> JobConfigReader.parse("t", "a: [", List.of()));
        assertTrue(yaml.getMessage().contains("not valid YAML"), yaml.getMessage());
        JobConfigException missing = assertThrows(JobConfigException.class,
                () -> JobConfigReader.read(Path.of("no/such/job.yaml"), List.of()));
        assertTrue(missing.getMessage().contains("job config file not found"), missing.getMessage());
    }

    @Test
    void generateModeNeedsAnInputAndNoBenchmarks() {
        JobConfigException e = assertThrows(JobConfigException.class, () -> JobConfigReader.parse("t", MINIMAL
                + "mode: generate\n", List.of()));
        assertTrue(e.problems().contains("generate.input: is required (a path)"), e.problems().toString());
        assertTrue(e.problems().stream().anyMatch(s -> s.startsWith("benchmarks: a generate job")), e.problems().toString());
    }

    @Test
    void theNightlyJobComparesWithItsBaselineAndTheSandboxIsConfigurable() {
        JobConfig nightly = JobConfigReader.read(Path.of("../conf/jobs/nightly.yaml"), List.of());
        assertEquals(Path.of("/shared/kimi/runs/baseline"), nightly.compare().baseline());
        assertEquals(2.0, nightly.compare().maxDropPoints());
        BenchmarkSpec humaneval = nightly.benchmarks().stream().filter(b -> b.name().equals("humaneval")).findFirst()
                .orElseThrow();
        assertEquals(new SandboxSpec(10.0, 0, true, null), humaneval.sandbox());
        assertNull(nightly.benchmarks().get(0).sandbox());

        JobConfig ruler = JobConfigReader.read(Path.of("../conf/jobs/ruler-long.yaml"),
                List.of("benchmarks.ruler.lengths=[131072,1048576]"));
        BenchmarkSpec.RulerSpec long13 = ruler.benchmarks().get(0).ruler();
        assertEquals(13, long13.tasks().size());
        assertEquals(List.of(131072, 1048576), long13.lengths());
        assertEquals(Path.of("/shared/benchmarks/ruler/squad-dev-v2.0.json"), long13.squad());
        assertEquals(Path.of("/shared/benchmarks/ruler/hotpotqa-dev-distractor-v1.json"), long13.hotpotqa());

        JobConfig defaults = JobConfigReader.parse("t", MINIMAL.replace("gpqa: {input: data/gpqa.csv}",
                "humaneval: {input: h.jsonl}"), List.of("benchmarks.humaneval.sandbox.timeout_seconds=2.5"));
        assertEquals(new SandboxSpec(2.5, 0, true, null), defaults.benchmarks().get(0).sandbox());
        JobConfigException e = assertThrows(JobConfigException.class, () -> JobConfigReader.parse("t",
                MINIMAL.replace("gpqa: {input: data/gpqa.csv}", "humaneval: {input: h.jsonl, sandbox: {threads: 2, "
                        + "timeout_seconds: 0}}"), List.of()));
        assertTrue(e.problems().stream().anyMatch(p -> p.startsWith("benchmarks.humaneval.sandbox.threads: unknown key")),
                e.problems().toString());
        assertTrue(e.problems().stream().anyMatch(p -> p.startsWith("benchmarks.humaneval.sandbox.timeout_seconds: "
                + "expected a number in")), e.problems().toString());
    }

    @Test
    void theWeightPrecisionIsReadWrittenAndCheckedByName() {
        JobConfig unset = JobConfigReader.parse("t", MINIMAL, List.of());
        assertNull(unset.model().precision(), "unset: what the checkpoint stores");
        assertEquals(WeightPrecision.BF16, unset.model().weights(), "a directory still to be made is bf16");
        JobConfig fp8 = JobConfigReader.parse("t", MINIMAL, List.of("model.precision=fp8"));
        assertEquals(WeightPrecision.FP8, fp8.model().precision());
        assertEquals(WeightPrecision.FP8, fp8.model().weights());
        String yaml = JobConfigWriter.toYaml(JobConfigWriter.toTree(fp8));
        assertTrue(yaml.contains("precision: \"fp8\"") || yaml.contains("precision: fp8"), yaml);
        assertEquals(fp8, JobConfigReader.parse("t", yaml, List.of()));
        JobConfigException e = assertThrows(JobConfigException.class,
                () -> JobConfigReader.parse("job.yaml", MINIMAL, List.of("model.precision=int4")));
        assertTrue(e.problems().stream().anyMatch(s -> s.startsWith("model.precision: expected one of bf16, fp8, found 'int4'")),
                e.problems().toString());
    }

    @Test
    void gpusPerEngineIsReadWrittenAndChecked() {
        assertEquals(1, JobConfigReader.parse("t", MINIMAL, List.of()).model().gpusPerEngine());
        JobConfig two = JobConfigReader.parse("t", MINIMAL, List.of("model.gpus_per_engine=2", "model.backend=cuda"));
        assertEquals(2, two.model().gpusPerEngine());
        String yaml = JobConfigWriter.toYaml(JobConfigWriter.toTree(two));
        assertTrue(yaml.contains("gpus_per_engine: 2"), yaml);
        assertEquals(two, JobConfigReader.parse("t", yaml, List.of()));
        JobConfigException zero = assertThrows(JobConfigException.class,
                () -> JobConfigReader.parse("job.yaml", MINIMAL, List.of("model.gpus_per_engine=0")));
        assertTrue(zero.problems().stream().anyMatch(s -> s.startsWith("model.gpus_per_engine: expected a number in")),
                zero.problems().toString());
        JobConfigException cpu = assertThrows(JobConfigException.class, () -> JobConfigReader.parse("job.yaml", MINIMAL,
                List.of("model.gpus_per_engine=2", "model.backend=cpu")));
        assertTrue(cpu.problems().stream().anyMatch(s -> s.startsWith("model.gpus_per_engine: is 2 with backend cpu")),
                cpu.problems().toString());
    }

    @Test
    void elasticReplicasAreReadWrittenAndChecked() {
        assertEquals(false, JobConfigReader.parse("t", MINIMAL, List.of()).model().elastic());
        JobConfig elastic = JobConfigReader.parse("t", MINIMAL,
                List.of("model.gpus_per_engine=2", "model.backend=cuda", "model.multi_gpu=elastic"));
        assertTrue(elastic.model().elastic());
        String yaml = JobConfigWriter.toYaml(JobConfigWriter.toTree(elastic));
        assertTrue(yaml.contains("multi_gpu: \"elastic\""), yaml);
        assertEquals(elastic, JobConfigReader.parse("t", yaml, List.of()));
        JobConfigException one = assertThrows(JobConfigException.class, () -> JobConfigReader.parse("job.yaml",
                MINIMAL, List.of("model.backend=cuda", "model.multi_gpu=elastic")));
        assertTrue(one.problems().stream().anyMatch(s -> s.startsWith("model.multi_gpu: is elastic with"
                + " gpus_per_engine 1")), one.problems().toString());
        JobConfigException other = assertThrows(JobConfigException.class, () -> JobConfigReader.parse("job.yaml",
                MINIMAL, List.of("model.gpus_per_engine=2", "model.backend=cuda", "model.multi_gpu=replicas")));
        assertTrue(other.problems().stream().anyMatch(s -> s.startsWith("model.multi_gpu: expected one of pipeline,"
                + " elastic")), other.problems().toString());
    }

    @Test
    void writtenConfigReadsBackTheSame() {
        for (Path file : List.of(Path.of("../conf/jobs/demo.yaml"), Path.of("../conf/jobs/nightly.yaml"),
                Path.of("../conf/jobs/generate-demo.yaml"), Path.of("../conf/jobs/ruler-long.yaml"))) {
            JobConfig c = JobConfigReader.read(file, List.of("faults.after_commit=[0]"));
            String yaml = JobConfigWriter.toYaml(JobConfigWriter.toTree(c));
            JobConfig back = JobConfigReader.parse(c.source(), yaml, List.of());
            assertEquals(c, back, yaml);
        }
    }
}
