package dev.kimilinear.job;

import dev.kimilinear.cli.EvalCommand;
import dev.kimilinear.eval.records.MetricRecord;
import dev.kimilinear.eval.run.Invocation;
import dev.kimilinear.eval.run.RunFacts;
import dev.kimilinear.eval.run.RunFactsFile;
import dev.kimilinear.eval.records.RecordFormat;
import dev.kimilinear.eval.records.RecordIo;
import dev.kimilinear.job.config.JobConfig;
import dev.kimilinear.job.config.JobConfigException;
import dev.kimilinear.job.config.JobConfigReader;
import dev.kimilinear.job.config.ModelSpec;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The job end to end in local mode on the demo model: retried tasks, an interrupted run resumed,
 * quarantined input rows, scoring. Local[2,2] lets Spark retry a failed task once.
 */
class EvalJobSparkTest {
    private static final int PROMPTS = 8;
    private static final int SAMPLES = 2;

    @TempDir
    static Path dir;
    private static SparkSession spark;
    private static Path model;
    private static Path input;

    @BeforeAll
    static void start() throws Exception {
        model = dir.resolve("model");
        ModelPreparation.prepare(model, new ModelSpec.PrepareSpec(Path.of("../conf/demo/model-config.json"), 0, 4096, null),
                new PrintStream(new ByteArrayOutputStream()));
        input = dir.resolve("prompts.jsonl");
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < PROMPTS; i++) {
            lines.append(i % 2 == 0
                    ? "{\"key\": \"k" + i + "\", \"text\": \"Prompt number " + i + " says hello" + " again".repeat(i) + ".\"}\n"
                    : "{\"key\": \"k" + i + "\", \"messages\": [{\"role\": \"user\", \"content\": \"Question " + i + "?\"}]}\n");
        }
        lines.append("{\"key\": \"bad1\", \"title\": \"no text here\"}\n");
        lines.append("this line is not JSON\n");
        Files.writeString(input, lines);
        spark = SparkSession.builder().master("local[2,2]").appName("EvalJobSparkTest")
                .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
                .config("spark.ui.showConsoleProgress", "false").getOrCreate();
        spark.sparkContext().setLogLevel("ERROR");
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    private static JobConfig generateJob(Path out, String... overrides) {
        List<String> all = new ArrayList<>(List.of(overrides));
        return JobConfigReader.parse("test", """
                mode: generate
                model: {dir: %s, backend: cpu}
                engine: {max_batch_tokens: 256, prefill_chunk: 64, max_sequences: 8, max_model_length: 512}
                generate: {input: %s, id_column: key, dataset: unit}
                sampling: {max_tokens: 3, temperature: 0.7, seed: 3, n: %d}
                output: {dir: %s}
                partitions: {count: 3}
                """.formatted(model, input, SAMPLES, out), all);
    }

    private static JobResult run(JobConfig config) throws Exception {
        return EvalJob.prepare(config, new PrintStream(new ByteArrayOutputStream())).execute(spark);
    }

    private static Dataset<Row> generations(Path out) {
        return spark.read().parquet(out.resolve("generations").toString());
    }

    private static void assertOneRowPerPromptAndSample(Path out) {
        Dataset<Row> g = generations(out);
        assertEquals((long) PROMPTS * SAMPLES, g.count());
        assertEquals((long) PROMPTS * SAMPLES, g.select("id", "sample").distinct().count());
        assertEquals(PROMPTS, g.select("id").distinct().count());
        assertEquals(0, g.where("sample < 0 or sample >= " + SAMPLES).count());
    }

    @Test
    void aTaskRetriedAfterItCommittedLeavesOneRowPerSample() throws Exception {
        Path out = dir.resolve("retried");
        JobResult result = run(generateJob(out, "faults.after_commit=[0]"));
        assertEquals(PROMPTS, result.generatedNow());
        assertOneRowPerPromptAndSample(out);
        try (Stream<Path> files = Files.list(out.resolve("generations"))) {
            assertEquals(3, files.filter(p -> p.toString().endsWith(".parquet")).count());
        }
        assertEquals(2, result.quarantined());
        List<Row> errors = spark.read().json(out.resolve("errors").toString()).orderBy("row").collectAsList();
        assertEquals(List.of(9L, 10L), errors.stream().map(r -> r.getLong(r.fieldIndex("row"))).toList());
        assertTrue(errors.get(0).getString(errors.get(0).fieldIndex("reason")).equals("no prompt: column 'text' is empty and column 'messages' holds no messages"),
                errors.get(0).toString());
        assertTrue(Files.isRegularFile(out.resolve("config.yaml")));
        assertTrue(Files.readString(out.resolve("config.yaml")).contains("fingerprints:"));
        // dataset/: each generation beside the input row's own columns (key, and title of the rows that had one)
        Dataset<Row> dataset = spark.read().parquet(out.resolve("dataset").toString());
        assertEquals(List.of("key", "title", "prompt_id", "sample", "generation", "finish_reason", "prompt_tokens",
                "output_tokens", "error"), List.of(dataset.columns()));
        assertEquals((long) PROMPTS * SAMPLES, dataset.count());
        assertEquals(PROMPTS, dataset.select("key").distinct().count());
        Row first = dataset.filter("key = 'k0' and sample = 0").first();
        assertEquals("unit/default/k0", first.getString(first.fieldIndex("prompt_id")));
        assertTrue(first.isNullAt(first.fieldIndex("title")));
    }

    @Test
    void anInterruptedRunResumesWithOnlyWhatIsMissing() throws Exception {
        Path out = dir.resolve("resumed");
        assertThrows(Exception.class, () -> run(generateJob(out, "faults.always=[1]")));
        long committed = generations(out).select("id").distinct().count();
        assertTrue(committed > 0 && committed < PROMPTS, "committed before the failure: " + committed);

        JobResult resumed = run(generateJob(out));
        assertEquals(PROMPTS - committed, resumed.generatedNow());
        assertOneRowPerPromptAndSample(out);

        JobResult again = run(generateJob(out));
        assertEquals(0, again.generatedNow());
        assertOneRowPerPromptAndSample(out);
        // run.json keeps each finished invocation: what the resume found done, and that the last had nothing left
        RunFacts facts = RunFactsFile.read(out).orElseThrow();
        assertEquals(2, facts.invocations().size());
        assertEquals(committed, facts.invocations().get(0).resumedPrompts());
        assertEquals(PROMPTS - committed, facts.invocations().get(0).promptsGenerated());
        assertEquals(PROMPTS, facts.latest().resumedPrompts());
        assertEquals(0, facts.latest().samplesGenerated());
        assertEquals(facts, again.facts());

        IllegalStateException changed = assertThrows(IllegalStateException.class,
                () -> run(generateJob(out, "sampling.temperature=0.2")));
        assertTrue(changed.getMessage().contains("different sampling"), changed.getMessage());
    }

    @Test
    void anEvalJobScoresAndWritesMetrics() throws Exception {
        Path out = dir.resolve("eval");
        JobConfig config = JobConfigReader.parse("test", """
                model: {dir: %s, backend: cpu}
                engine: {max_batch_tokens: 512, prefill_chunk: 128, max_sequences: 8, max_model_length: 2048}
                sampling: {max_tokens: 3}
                benchmarks:
                  mmlu-pro: {input: ../conf/demo/mmlu-pro/test.json, shots: 0, limit: 3}
                  gpqa: {input: ../conf/demo/gpqa/gpqa_demo.csv, limit: 2}
                  ruler: {tasks: [niah_single_1, qa_1], lengths: [512], samples: 1, sampling: {max_tokens: 3}}
                output: {dir: %s}
                """.formatted(model, out), List.of());
        // the Spark UI names each job's stage (its group) and the benchmarks it works on
        java.util.Map<String, String> jobs = new java.util.concurrent.ConcurrentHashMap<>();
        org.apache.spark.scheduler.SparkListener names = new org.apache.spark.scheduler.SparkListener() {
            @Override
            public void onJobStart(org.apache.spark.scheduler.SparkListenerJobStart start) {
                String group = start.properties().getProperty("spark.jobGroup.id");
                String description = start.properties().getProperty("spark.job.description");
                if (group != null && description != null) {
                    jobs.put(group, description);
                }
            }
        };
        spark.sparkContext().addSparkListener(names);
        JobResult result;
        try {
            result = run(config);
            for (int i = 0; i < 50 && !(jobs.containsKey("generate") && jobs.containsKey("score")); i++) {
                Thread.sleep(100);   // the listener bus delivers after the jobs end
            }
        } finally {
            spark.sparkContext().removeSparkListener(names);
        }
        assertTrue(jobs.getOrDefault("generate", "").startsWith("generate: 6 prompts of mmlu-pro, gpqa, ruler"),
                jobs.toString());
        assertTrue(jobs.getOrDefault("score", "").startsWith("score: mmlu-pro, gpqa, ruler"), jobs.toString());
        assertEquals(6, result.prompts());
        Dataset<Row> scores = spark.read().parquet(out.resolve("scores").toString());
        assertEquals(6, scores.count());
        List<Row> overall = spark.read().parquet(out.resolve("metrics").toString())
                .where("subset = 'all' and metric = 'accuracy'").orderBy("benchmark").collectAsList();
        assertEquals(2, overall.size());
        assertEquals(2L, overall.get(0).getLong(overall.get(0).fieldIndex("n")));
        assertEquals(3L, overall.get(1).getLong(overall.get(1).fieldIndex("n")));

        // qa_1 has no SQuAD file: a metrics row says so, with no value, and the averages say what they cover
        String squad = "no SQuAD file: benchmarks.ruler.squad is not set";
        List<Row> skipped = spark.read().parquet(out.resolve("metrics").toString())
                .where("subset = 'qa_1@512'").collectAsList();
        assertEquals(1, skipped.size());
        assertTrue(skipped.get(0).isNullAt(skipped.get(0).fieldIndex("value")));
        assertEquals("not run", skipped.get(0).getString(skipped.get(0).fieldIndex("status")));
        assertEquals(squad, skipped.get(0).getString(skipped.get(0).fieldIndex("note")));
        List<MetricRecord> metrics = RecordIo.readMetrics(out.resolve("metrics"));
        MetricRecord average = metrics.stream().filter(m -> m.subset().equals("all@512")).findFirst().orElseThrow();
        assertTrue(average.note().startsWith("mean over 1 of 13 tasks; not run: qa_1; not in this run: niah_single_2"),
                average.note());
        assertTrue(result.metrics().stream().anyMatch(m -> !m.ran() && m.subset().equals("qa_1@512")));
        String report = Files.readString(out.resolve("report.html"));
        assertTrue(report.contains("not run (" + squad + ")"), report);
        assertTrue(report.contains("official mean not given: 12 of 13 tasks did not run"), report);

        // per-sample pages beside the report, streamed from the run's tables in the pages' order
        assertTrue(report.contains("<a href=\"samples/gpqa-1.html\">gpqa</a>"), report);
        String ruler = Files.readString(out.resolve("samples/ruler-1.html"));
        assertTrue(ruler.contains("niah_single_1@512") && ruler.contains("One of the special magic"), ruler);
        Row first = scores.orderBy("benchmark", "subset", "id", "sample").first();
        String gpqa = Files.readString(out.resolve("samples/gpqa-1.html"));
        assertTrue(gpqa.contains("<code>" + first.getString(0) + "</code>"), gpqa);

        // the run's facts, in run.json, the report and the result
        RunFacts facts = RunFactsFile.read(out).orElseThrow();
        assertEquals(facts, result.facts());
        Invocation run = facts.latest();
        assertEquals("local[2,2]", run.sparkMaster());
        assertEquals(0, run.executors());
        assertEquals(6, run.promptsGenerated());
        assertTrue(run.outputTokens() > 0 && run.promptTokens() > run.outputTokens() && run.generationSeconds() > 0,
                run.toString());
        assertTrue(run.scoringSeconds() > 0 && run.promptsSeconds() > 0, run.toString());
        assertTrue(run.devices().size() == 1 && run.devices().get(0).startsWith("cpu ("), run.devices().toString());
        assertTrue(facts.precision().startsWith("BF16 weights"), facts.precision());
        assertTrue(report.contains("<th class=\"l\">model fingerprint</th><td class=\"l\">" + facts.modelFingerprint()),
                report);
        assertTrue(report.contains("output tokens/s"), report);
    }

    /** Runs {@code kimi eval} in this class's session (the command leaves a session it did not start running). */
    private static int eval(Path config, StringBuilder printed, String... args) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        List<String> all = new ArrayList<>(List.of(config.toString()));
        all.addAll(List.of(args));
        java.io.StringWriter err = new java.io.StringWriter();
        CommandLine cli = new CommandLine(new EvalCommand(new PrintStream(bytes, true, StandardCharsets.UTF_8)));
        cli.setErr(new java.io.PrintWriter(err, true));
        int status = cli.execute(all.toArray(String[]::new));
        printed.setLength(0);
        printed.append(bytes.toString(StandardCharsets.UTF_8)).append(err);
        return status;
    }

    @Test
    void aNightlyRunExitsNonZeroOnlyAgainstABetterBaseline() throws Exception {
        Path out = dir.resolve("nightly");
        Path job = dir.resolve("nightly.yaml");
        Files.writeString(job, """
                name: nightly-test
                model: {dir: %s, backend: cpu}
                engine: {max_batch_tokens: 512, prefill_chunk: 128, max_sequences: 8, max_model_length: 2048}
                sampling: {max_tokens: 3}
                benchmarks:
                  gpqa: {input: ../conf/demo/gpqa/gpqa_demo.csv, limit: 3}
                  humaneval: {input: ../conf/demo/humaneval/problems.jsonl, limit: 2, sandbox: {parallelism: 2}}
                output: {dir: %s}
                """.formatted(model, out));
        StringBuilder printed = new StringBuilder();
        assertEquals(0, eval(job, printed), printed.toString());
        assertTrue(printed.toString().contains("humaneval: programs run sandboxed:"), printed.toString());
        String report = Files.readString(out.resolve("report.html"));
        assertTrue(report.contains("href=\"generations/\"") && report.contains("href=\"metrics/\""), report);
        assertTrue(printed.toString().contains("report:      " + out.resolve("report.html")), printed.toString());
        List<MetricRecord> metrics = RecordIo.readMetrics(out.resolve("metrics"));
        assertTrue(metrics.stream().anyMatch(m -> m.benchmark().equals("humaneval") && m.metric().equals("pass@1")),
                metrics.toString());

        Path same = dir.resolve("baseline-same");
        Files.createDirectories(same.resolve("metrics"));
        RecordIo.writeMetrics(same.resolve("metrics").resolve("part-00000.parquet"), RecordFormat.PARQUET, metrics);
        assertEquals(0, eval(job, printed, "--set", "compare.baseline=" + same), printed.toString());
        assertTrue(printed.toString().contains("verdict: no regression"), printed.toString());
        assertTrue(printed.toString().contains("0 generated now"), printed.toString());

        // the baseline answered everything right: each accuracy and pass@1 now reads as a drop beyond noise
        Path better = dir.resolve("baseline-better");
        Files.createDirectories(better.resolve("metrics"));
        List<MetricRecord> improved = metrics.stream().map(m -> m.metric().equals("accuracy") || m.metric().equals("pass@1")
                ? new MetricRecord(m.benchmark(), m.subset(), m.metric(), 1.0, m.n(), 1.0, 1.0) : m).toList();
        RecordIo.writeMetrics(better.resolve("metrics").resolve("part-00000.parquet"), RecordFormat.PARQUET, improved);
        assertEquals(EvalCommand.REGRESSION, eval(job, printed, "--set", "compare.baseline=" + better,
                "--set", "compare.max_drop=2"), printed.toString());
        assertTrue(printed.toString().contains("verdict: REGRESSION"), printed.toString());
        assertTrue(printed.toString().contains("gpqa"), printed.toString());
        assertTrue(Files.readString(out.resolve("report.html")).contains("Against the baseline"));

        // a sandbox that cannot run programs stops the job before any generation, naming why
        Path noPython = dir.resolve("nightly-no-python");
        assertEquals(EvalCommand.FAILED, eval(job, printed, "--set", "output.dir=" + noPython,
                "--set", "benchmarks.humaneval.sandbox.python=" + dir.resolve("no-python3")), printed.toString());
        assertTrue(printed.toString().contains("humaneval: the sandbox cannot run programs: python interpreter "
                + dir.resolve("no-python3") + " does not exist"), printed.toString());
        assertTrue(Files.isRegularFile(noPython.resolve("prompts").resolve("_SUCCESS")));
        assertTrue(Files.notExists(noPython.resolve("generations")), "nothing generated");

        assertEquals(EvalCommand.BAD_INPUT, eval(job, printed, "--set", "compare.baseline=" + dir.resolve("none")),
                printed.toString());
        assertTrue(printed.toString().contains("compare.baseline: " + dir.resolve("none") + " does not exist"),
                printed.toString());
    }

    @Test
    void badInputsFailBeforeSparkNamingTheKey() {
        JobConfigException missing = assertThrows(JobConfigException.class, () -> EvalJob.prepare(JobConfigReader.parse("t", """
                model: {dir: %s}
                benchmarks: {gpqa: {input: no/such.csv}}
                output: {dir: %s}
                """.formatted(model, dir.resolve("never")), List.of()), new PrintStream(new ByteArrayOutputStream())));
        assertTrue(missing.getMessage().contains("benchmarks.gpqa.input: no/such.csv does not exist"), missing.getMessage());
        // a RULER input file that is named but absent is an error, not a skipped task
        JobConfigException squad = assertThrows(JobConfigException.class, () -> EvalJob.prepare(JobConfigReader.parse("t", """
                model: {dir: %s}
                benchmarks: {ruler: {tasks: [qa_1], squad: no/squad.json}}
                output: {dir: %s}
                """.formatted(model, dir.resolve("never")), List.of()), new PrintStream(new ByteArrayOutputStream())));
        assertTrue(squad.getMessage().contains("benchmarks.ruler.squad: no/squad.json does not exist"), squad.getMessage());
        JobConfigException badModel = assertThrows(JobConfigException.class, () -> EvalJob.prepare(JobConfigReader.parse("t", """
                model: {dir: %s}
                benchmarks: {gpqa: {input: ../conf/demo/gpqa/gpqa_demo.csv}}
                output: {dir: %s}
                """.formatted(dir, dir.resolve("never")), List.of()), new PrintStream(new ByteArrayOutputStream())));
        assertTrue(badModel.getMessage().contains("model.dir: " + dir + " cannot be loaded"), badModel.getMessage());
        assertTrue(Files.notExists(dir.resolve("never")));
    }
}
