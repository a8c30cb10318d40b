package dev.kimilinear.job;

import dev.kimilinear.data.record.ErrorRecord;
import dev.kimilinear.data.record.ErrorsFile;
import dev.kimilinear.data.record.PromptRecord;
import dev.kimilinear.eval.compare.RunComparison;
import dev.kimilinear.eval.compare.RunMetrics;
import dev.kimilinear.eval.records.MetricRecord;
import dev.kimilinear.eval.report.HtmlReport;
import dev.kimilinear.eval.report.samples.SampleIndex;
import dev.kimilinear.eval.report.samples.SamplePages;
import dev.kimilinear.eval.run.Invocation;
import dev.kimilinear.eval.run.PrecisionDifference;
import dev.kimilinear.eval.run.RunFacts;
import dev.kimilinear.eval.run.RunFactsFile;
import dev.kimilinear.job.report.SampleRows;
import dev.kimilinear.job.run.Precision;
import dev.kimilinear.eval.ruler.RulerCoverage;
import dev.kimilinear.job.config.BenchmarkSpec;
import dev.kimilinear.job.config.CompareSpec;
import dev.kimilinear.job.config.JobConfig;
import dev.kimilinear.job.config.JobConfigWriter;
import dev.kimilinear.job.config.JobMode;
import dev.kimilinear.job.config.SamplingOverride;
import dev.kimilinear.job.config.SandboxSpec;
import dev.kimilinear.job.generation.ExactPartitioner;
import dev.kimilinear.job.generation.GenerationTask;
import dev.kimilinear.job.generation.GenerationTotals;
import dev.kimilinear.job.progress.LiveCounters;
import dev.kimilinear.job.progress.ProgressLine;
import dev.kimilinear.job.generation.LengthBalancer;
import dev.kimilinear.job.generation.PartitionSummary;
import dev.kimilinear.job.generation.ResidentEngines;
import dev.kimilinear.job.prompts.GenerateInput;
import dev.kimilinear.job.prompts.PromptResolver;
import dev.kimilinear.job.prompts.PromptRows;
import dev.kimilinear.job.prompts.PromptWork;
import dev.kimilinear.job.run.Fingerprints;
import dev.kimilinear.job.run.RunDirectory;
import dev.kimilinear.job.run.RunFingerprints;
import dev.kimilinear.job.run.RunManifest;
import dev.kimilinear.job.scoring.EvalRows;
import dev.kimilinear.job.scoring.ResidentSandboxes;
import dev.kimilinear.job.scoring.ScoringStage;
import dev.kimilinear.tokenizer.ChatMessage;
import dev.kimilinear.tokenizer.KimiTokenizer;

import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import scala.Tuple2;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The job: prompt records (benchmark adapters, or any prompts file in generate mode) ->
 * partitions balanced by prompt length -> each executor's resident engine -> generations
 * committed per partition -> scores and metrics -> report. Rerunning into the same run directory
 * generates only the prompts that have no committed generations yet.
 */
public final class EvalJob {
    private static final int MAX_LINKED_PARTS = 12;
    private final JobConfig config;
    private final PrintStream out;
    private final RunDirectory run;
    private final KimiTokenizer tokenizer;
    private final PromptSet promptSet;
    private final RunFingerprints fingerprints;
    /** Building the prompt records before Spark starts; writing them adds to it. */
    private final double promptsSeconds;

    private EvalJob(JobConfig config, PrintStream out, KimiTokenizer tokenizer, PromptSet promptSet,
                    RunFingerprints fingerprints, double promptsSeconds) {
        this.config = config;
        this.promptsSeconds = promptsSeconds;
        this.out = out;
        this.run = new RunDirectory(config.outputDir());
        this.tokenizer = tokenizer;
        this.promptSet = promptSet;
        this.fingerprints = fingerprints;
    }

    /**
     * Everything that can be checked without Spark: config values, inputs, the model directory
     * (built first when the config says how), the prompts of an eval job, and whether the run
     * directory may be resumed. Throws with a message that names the key or file at fault.
     */
    public static EvalJob prepare(JobConfig config, PrintStream out) throws IOException {
        KimiTokenizer tokenizer = Preflight.check(config, out);
        PromptSet prompts = null;
        Map<String, String> inputs = new LinkedHashMap<>();
        String promptsFingerprint;
        long promptsStart = System.nanoTime();
        if (config.mode() == JobMode.EVAL) {
            prompts = PromptSet.build(config, tokenizer);
            if (prompts.records().isEmpty()) {
                throw new IllegalArgumentException(config.source() + ": the benchmarks gave no usable prompts ("
                        + prompts.errors().size() + " rows rejected" + (prompts.errors().isEmpty() ? ""
                        : "; first: " + prompts.errors().get(0).source() + " row " + prompts.errors().get(0).row()
                        + ": " + prompts.errors().get(0).reason()) + ")");
            }
            inputs.putAll(prompts.inputHashes());
            promptsFingerprint = prompts.fingerprint();
        } else {
            String input = Fingerprints.of(config.generate().input());
            inputs.put("generate:" + config.generate().input(), input);
            promptsFingerprint = Fingerprints.ofText(input + "\n" + JobConfigWriter.toYaml(
                    (com.fasterxml.jackson.databind.node.ObjectNode) JobConfigWriter.toTree(config).get("generate")));
        }
        var tree = JobConfigWriter.toTree(config);
        String sampling = Fingerprints.ofText(JobConfigWriter.toYaml((com.fasterxml.jackson.databind.node.ObjectNode)
                tree.get("sampling")) + samplingOverrides(config));
        RunFingerprints fingerprints = new RunFingerprints(Fingerprints.of(config.model().dir()),
                config.model().weights(), promptsFingerprint, sampling, inputs);
        RunDirectory run = new RunDirectory(config.outputDir());
        RunManifest.checkResumable(run, fingerprints);
        return new EvalJob(config, out, tokenizer, prompts, fingerprints, seconds(promptsStart));
    }

    private static String samplingOverrides(JobConfig config) {
        StringBuilder text = new StringBuilder();
        for (BenchmarkSpec b : config.benchmarks()) {
            text.append(b.name()).append('=').append(b.sampling()).append('\n');
        }
        return text.toString();
    }

    public RunDirectory run() {
        return run;
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    public JobResult execute(SparkSession spark) throws IOException {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        String started = ZonedDateTime.now().truncatedTo(ChronoUnit.SECONDS).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
        RunManifest.write(run, JobConfigWriter.toTree(config), fingerprints);
        List<String> notes = new ArrayList<>();

        long writeStart = System.nanoTime();
        long quarantined = writePrompts(spark, sc);
        double promptsTime = promptsSeconds + seconds(writeStart);
        Dataset<Row> prompts = spark.read().schema(PromptRows.SCHEMA).parquet(run.prompts().toString());
        long promptCount = prompts.count();

        SandboxSpec sandbox = sandbox();
        if (sandbox != null) {
            stage(sc, "check: the HumanEval sandbox where scoring tasks run");
            for (String isolation : ScoringStage.prepareSandboxes(sc, sandbox)) {
                notes.add("humaneval: programs run sandboxed: " + isolation);
            }
        }

        GenerationTotals generation = generate(spark, sc, prompts, notes);

        Dataset<Row> generations = readGenerations(spark);
        stage(sc, "check: one committed row per prompt and sample");
        long samples = generations.count();
        long distinct = generations.select("id", "sample").distinct().count();
        if (distinct != samples) {
            throw new IllegalStateException(run.generations() + ": " + (samples - distinct)
                    + " rows repeat a (id, sample) pair; the directory was changed by hand");
        }

        if (config.mode() == JobMode.GENERATE) {
            stage(sc, "write dataset: each generation beside its input row's own columns");
            writeDataset(spark, prompts, generations);
        }

        List<MetricRecord> metrics = List.of();
        RunComparison comparison = null;
        RunFacts facts = null;
        double scoringSeconds = 0;
        if (config.mode() == JobMode.EVAL) {
            long scoreStart = System.nanoTime();
            stage(sc, "score: " + what() + " generations against references");
            // the scoring tasks' live count, as generation has (HumanEval's sandbox takes minutes)
            LongAccumulator scoredLive = sc.sc().longAccumulator("samples scored (live)");
            LiveCounters scoring = LiveCounters.of(List.of(scoredLive));
            ScoringStage.Outcome outcome;
            sc.sc().addSparkListener(scoring);
            try (ProgressLine progress = ProgressLine.start(out, "score", "samples", generations.count(),
                    () -> scoring.value(scoredLive), null, System.console() != null)) {
                outcome = ScoringStage.run(prompts, generations, sc.defaultParallelism(),
                        sandbox == null ? SandboxSpec.DEFAULTS : sandbox, scoredLive);
            } finally {
                sc.sc().removeSparkListener(scoring);
            }
            notes.addAll(outcome.notes());
            // tasks that could not run sit among the scored ones, so no reader can miss them
            metrics = RulerCoverage.withNotRun(outcome.metrics(), promptSet.notRun());
            stage(sc, "write scores and metrics");
            spark.createDataFrame(outcome.scores().stream().map(EvalRows::score).toList(), EvalRows.SCORES)
                    .coalesce(1).write().mode(SaveMode.Overwrite).parquet(run.scores().toString());
            spark.createDataFrame(metrics.stream().map(EvalRows::metric).toList(), EvalRows.METRICS)
                    .coalesce(1).write().mode(SaveMode.Overwrite).parquet(run.metrics().toString());
            scoringSeconds = seconds(scoreStart);
            if (config.compare() != null) {
                comparison = compare(metrics);
                PrecisionDifference.against(Precision.of(config.model().dir(), config.model().backend(),
                        fingerprints.weights()), config.compare().baseline()).ifPresent(notes::add);
            }
            facts = recordFacts(spark, started, promptCount, samples, quarantined, promptsTime, generation,
                    scoringSeconds);
            if (config.report()) {
                stage(sc, "report: per-sample pages of " + what());
                List<SampleIndex> pages = SamplePages.write(run.root(), outcome.scores(),
                        SampleRows.inPageOrder(spark, run, generations));
                writeReport(facts, metrics, comparison, pages);
            }
            if (comparison != null && comparison.deltas().isEmpty()) {
                throw new IllegalStateException("compare.baseline: no metric of this run is in "
                        + config.compare().baseline() + " (same benchmark, subset and metric needed); "
                        + "nothing to check for a regression");
            }
        }
        if (facts == null) {
            facts = recordFacts(spark, started, promptCount, samples, quarantined, promptsTime, generation,
                    scoringSeconds);
        }
        if (spark.sparkContext().isLocal()) {
            ResidentEngines.closeAll();
            ResidentSandboxes.closeAll();
        }
        return new JobResult(run, promptCount, generation.prompts(), samples, quarantined, metrics, notes, comparison,
                facts);
    }

    /**
     * Adds this invocation to the run's facts (run.json), keeping what earlier invocations of a
     * resumed run recorded, and returns them.
     */
    private RunFacts recordFacts(SparkSession spark, String started, long prompts, long samples, long quarantined,
                                 double promptsTime, GenerationTotals generation, double scoringSeconds)
            throws IOException {
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        // the status tracker lists the driver beside the executors
        int executors = sc.sc().isLocal() ? 0 : Math.max(0, sc.sc().statusTracker().getExecutorInfos().length - 1);
        Invocation now = new Invocation(started, sc.master(), executors, sc.defaultParallelism(), generation.devices(),
                generation.resumedPrompts(), generation.prompts(), generation.samples(), generation.promptTokens(),
                generation.outputTokens(), promptsTime, generation.seconds(), scoringSeconds, quarantined);
        List<Invocation> earlier = RunFactsFile.read(run.root())
                .filter(f -> f.modelFingerprint().equals(fingerprints.model()))
                .map(RunFacts::invocations).orElse(List.of());
        RunFacts facts = new RunFacts(config.model().dir().toAbsolutePath().normalize().toString(), fingerprints.model(),
                Precision.of(config.model().dir(), config.model().backend(), fingerprints.weights()),
                config.model().backend().name().toLowerCase(Locale.ROOT), prompts, samples, earlier).with(now);
        RunFactsFile.write(run.root(), facts);
        return facts;
    }

    /**
     * Names the Spark jobs that follow, in the UI and the event log: the job group is the stage
     * (the description's words before its colon), the description says what they do.
     */
    private static void stage(JavaSparkContext sc, String description) {
        int colon = description.indexOf(':');
        sc.setJobGroup(colon > 0 ? description.substring(0, colon) : description, description, false);
    }

    /** What the job's prompts are: its benchmarks, or the generate job's dataset. */
    private String what() {
        if (config.mode() == JobMode.GENERATE) {
            return config.generate().dataset();
        }
        return String.join(", ", config.benchmarks().stream().map(BenchmarkSpec::name).toList());
    }

    /**
     * dataset/: every generation with the input row's other columns, unchanged in name and type,
     * so a generated dataset keeps its ids and metadata. Generation fields whose names an input
     * column already has are prefixed with "kimi_".
     */
    private void writeDataset(SparkSession spark, Dataset<Row> prompts, Dataset<Row> generations) {
        StructType extras = GenerateInput.extrasSchema(spark, config.generate());
        Set<String> taken = new HashSet<>(List.of(extras.fieldNames()));
        Dataset<Row> inputs = prompts.select(functions.col("id").as("_prompt"),
                functions.from_json(functions.col("reference"), extras).as("_input"));
        Dataset<Row> joined = generations.join(inputs, generations.col("id").equalTo(inputs.col("_prompt")));
        List<Column> columns = new ArrayList<>();
        for (StructField f : extras.fields()) {
            columns.add(joined.col("_input").getField(f.name()).as(f.name()));
        }
        String[][] fields = {{"id", "prompt_id"}, {"sample", "sample"}, {"text", "generation"},
                {"finish_reason", "finish_reason"}, {"prompt_tokens", "prompt_tokens"},
                {"output_tokens", "output_tokens"}, {"error", "error"}};
        for (String[] f : fields) {
            columns.add(generations.col(f[0]).as(taken.contains(f[1]) ? "kimi_" + f[1] : f[1]));
        }
        joined.select(columns.toArray(new Column[0])).coalesce(1).write().mode(SaveMode.Overwrite)
                .parquet(run.dataset().toString());
    }

    /** The HumanEval sandbox settings when this eval job scores HumanEval; null otherwise. */
    private SandboxSpec sandbox() {
        if (config.mode() != JobMode.EVAL) {
            return null;
        }
        return config.benchmarks().stream().filter(b -> b.name().equals(BenchmarkSpec.HUMANEVAL)).findFirst()
                .map(BenchmarkSpec::sandbox).orElse(null);
    }

    /** The metrics against the baseline run's, with the evaluation module's interval-aware verdicts. */
    private RunComparison compare(List<MetricRecord> metrics) throws IOException {
        Path baseline = config.compare().baseline();
        List<MetricRecord> base;
        try {
            base = RunMetrics.load(baseline);
        } catch (RuntimeException e) {
            throw new IllegalStateException("compare.baseline: cannot read the metrics of " + baseline + ": "
                    + e.getMessage());
        }
        double maxDrop = config.compare().maxDropPoints() == null ? CompareSpec.DEFAULT_MAX_DROP_POINTS
                : config.compare().maxDropPoints();
        return RunComparison.of(metrics, base, maxDrop);
    }

    /** report.html in the run directory, linking the run's outputs by paths relative to it. */
    private void writeReport(RunFacts facts, List<MetricRecord> metrics, RunComparison comparison,
                             List<SampleIndex> pages) throws IOException {
        List<HtmlReport.Link> links = new ArrayList<>();
        links.add(link(run.config(), "config.yaml: the resolved config with model, prompt and sampling fingerprints"));
        links.add(link(run.root().resolve(RunFactsFile.NAME), "run.json: where and how long each invocation ran"));
        links.add(link(run.prompts(), "prompts/: prompt records (Parquet)"));
        links.add(link(run.generations(), "generations/: one row per prompt and sample (Parquet)"));
        links.add(link(run.scores(), "scores/: one row per sample (Parquet)"));
        links.add(link(run.metrics(), "metrics/: per benchmark and subset, with 95% intervals (Parquet)"));
        if (Files.isDirectory(run.errors())) {
            links.add(link(run.errors(), "errors/: input rows that could not become prompts"));
        }
        for (Path table : List.of(run.prompts(), run.generations(), run.scores(), run.metrics())) {
            List<Path> parts = parquetFiles(table);
            // a run of many partitions links its tables' directories only
            if (parts.size() <= MAX_LINKED_PARTS) {
                for (Path part : parts) {
                    links.add(link(part, run.root().relativize(part).toString()));
                }
            }
        }
        String dir = String.valueOf(run.root().getFileName());
        String title = "Evaluation report: " + config.name() + (dir.equals(config.name()) ? "" : " (run " + dir + ")")
                + (comparison == null ? "" : ", against the baseline "
                + config.compare().baseline().toAbsolutePath().normalize().getFileName());
        HtmlReport.write(run.report(), title, facts, metrics, comparison, links, pages);
    }

    private HtmlReport.Link link(Path target, String label) {
        String href = run.root().relativize(target).toString().replace('\\', '/');
        return new HtmlReport.Link(label, Files.isDirectory(target) ? href + "/" : href);
    }

    private static List<Path> parquetFiles(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".parquet")).sorted().toList();
        }
    }

    /** Writes prompts/ (once per run directory) and the quarantined rows; returns how many were quarantined. */
    private long writePrompts(SparkSession spark, JavaSparkContext sc) throws IOException {
        boolean present = Files.isRegularFile(run.prompts().resolve("_SUCCESS"));
        if (config.mode() == JobMode.EVAL) {
            List<ErrorRecord> errors = promptSet.errors();
            if (!errors.isEmpty()) {
                Files.createDirectories(run.errors());
                ErrorsFile.write(run.errors().resolve(ErrorsFile.FILE_NAME), errors);
            }
            if (!present) {
                stage(sc, "write prompts: " + promptSet.records().size() + " prompt records");
                List<Row> rows = new ArrayList<>();
                for (PromptRecord r : promptSet.records()) {
                    rows.add(PromptRows.toRow(r));
                }
                spark.createDataFrame(rows, PromptRows.SCHEMA).coalesce(1).write().mode(SaveMode.Overwrite)
                        .parquet(run.prompts().toString());
            }
            return errors.size();
        }
        if (present) {
            return countErrors(spark);
        }
        stage(sc, "read prompts: " + config.generate().input());
        GenerateInput.Split split = GenerateInput.read(spark, config.generate());
        split.prompts().write().mode(SaveMode.Overwrite).parquet(run.prompts().toString());
        stage(sc, "quarantine malformed input rows");
        split.errors().coalesce(1).write().mode(SaveMode.Overwrite).json(run.errors().toString());
        return countErrors(spark);
    }

    private long countErrors(SparkSession spark) {
        if (!Files.isDirectory(run.errors())) {
            return 0;
        }
        return spark.read().schema(GenerateInput.ERRORS).json(run.errors().toString()).count();
    }

    private Dataset<Row> readGenerations(SparkSession spark) throws IOException {
        if (!hasParquet(run.generations())) {
            return spark.createDataFrame(List.of(), EvalRows.GENERATIONS);
        }
        return spark.read().schema(EvalRows.GENERATIONS).parquet(run.generations().toString());
    }

    private static boolean hasParquet(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.anyMatch(p -> p.getFileName().toString().endsWith(".parquet"));
        }
    }

    /** Generates every prompt that has no committed generations yet. */
    private GenerationTotals generate(SparkSession spark, JavaSparkContext sc, Dataset<Row> prompts,
                                      List<String> notes) throws IOException {
        cleanStaging();
        Dataset<Row> todo = prompts;
        Dataset<Row> done = readGenerations(spark);
        if (hasParquet(run.generations())) {
            stage(sc, "resume: find prompts without committed generations");
            todo = prompts.join(done.select("id").distinct(), prompts.col("id").equalTo(done.col("id")), "left_anti");
        }
        Map<String, SamplingOverride> overrides = new HashMap<>();
        for (BenchmarkSpec b : config.benchmarks()) {
            overrides.put(b.name(), b.sampling());
        }
        PromptResolver resolver = new PromptResolver(config.sampling(), overrides);
        JavaRDD<Row> todoRows = todo.toJavaRDD();
        stage(sc, "plan: measure the prompts left to generate");
        String modelDir = config.model().dir().toAbsolutePath().toString();
        List<Tuple2<String, Long>> costs = todoRows.map(row -> {
            PromptWork w = resolver.resolve(row);
            return new Tuple2<>(w.id(), cost(ResidentEngines.tokenizer(modelDir), w));
        }).collect();
        long resumed = hasParquet(run.generations()) ? prompts.count() - costs.size() : 0;
        if (costs.isEmpty()) {
            notes.add("every prompt already has its generations in " + run.generations() + "; nothing generated");
            return GenerationTotals.nothing(resumed);
        }
        int partitions = config.partitions().count() > 0 ? config.partitions().count()
                : sc.defaultParallelism() * config.partitions().perSlot();
        partitions = Math.max(1, Math.min(partitions, costs.size()));
        long[] costArray = new long[costs.size()];
        for (int i = 0; i < costArray.length; i++) {
            costArray[i] = costs.get(i)._2();
        }
        int[] assignment = LengthBalancer.assign(costArray, partitions);
        Map<String, Integer> byId = new HashMap<>();
        for (int i = 0; i < assignment.length; i++) {
            byId.put(costs.get(i)._1(), assignment[i]);
        }
        Broadcast<Map<String, Integer>> plan = sc.broadcast(byId);

        String pass = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT))
                + "-" + Long.toHexString(Double.doubleToLongBits(Math.random()) & 0xffff);
        GenerationTask.Counters counters = new GenerationTask.Counters(
                sc.sc().longAccumulator("prompts generated"), sc.sc().longAccumulator("samples generated"),
                sc.sc().longAccumulator("prompt tokens"), sc.sc().longAccumulator("output tokens"),
                sc.sc().longAccumulator("failed samples"), sc.sc().longAccumulator("prompts done (live)"),
                sc.sc().longAccumulator("output tokens (live)"));
        LiveCounters live = LiveCounters.of(List.of(counters.promptsLive(), counters.outputTokensLive()));
        GenerationTask task = new GenerationTask(modelDir, config.model().backend(), config.model().weights(),
                config.engine(), config.model().gpusPerEngine(), config.model().elastic(),
                run.generations(), run.staging(), pass, config.faults(), counters);
        JavaPairRDD<Integer, PromptWork> keyed = todoRows
                .map(resolver::resolve)
                .mapToPair(w -> new Tuple2<>(plan.value().get(w.id()), w))
                .partitionBy(new ExactPartitioner(partitions));
        Files.createDirectories(run.generations());
        stage(sc, String.format(Locale.ROOT, "generate: %d prompts of %s in %d partitions balanced by length, "
                + "model %s", costs.size(), what(), partitions, config.model().dir()));
        long start = System.nanoTime();
        List<PartitionSummary> summaries;
        sc.sc().addSparkListener(live);
        try (ProgressLine progress = ProgressLine.start(out, "generate", "prompts", costs.size(),
                () -> live.value(counters.promptsLive()), () -> live.value(counters.outputTokensLive()),
                System.console() != null)) {
            summaries = keyed.mapPartitionsWithIndex(task, true).collect();
        } finally {
            sc.sc().removeSparkListener(live);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        plan.destroy();
        cleanStaging();
        long outputTokens = summaries.stream().mapToLong(PartitionSummary::outputTokens).sum();
        long promptTokens = summaries.stream().mapToLong(PartitionSummary::promptTokens).sum();
        int failed = summaries.stream().mapToInt(PartitionSummary::failedSamples).sum();
        out.printf(Locale.ROOT, "generated %d prompts (%d samples) in %d partitions: %d prompt tokens, %d output tokens "
                        + "in %.1f s (%.1f output tokens/s)%n", costs.size(),
                summaries.stream().mapToInt(PartitionSummary::samples).sum(), summaries.size(), promptTokens,
                outputTokens, seconds, outputTokens / Math.max(seconds, 1e-9));
        // Model loading happens in the first task of each executor: its share said apart, since a
        // nightly run pays it once while the generating part scales with the prompts.
        double loading = summaries.stream().mapToLong(PartitionSummary::engineLoadNanos).max().orElse(0) / 1e9;
        if (loading > 0.05 * seconds) {
            out.printf(Locale.ROOT, "  of which %.1f s creating resident engines (loading the model): %.1f output "
                    + "tokens/s generating%n", loading, outputTokens / Math.max(seconds - loading, 1e-9));
        }
        if (failed > 0) {
            notes.add(failed + " samples ended with an engine error (finish_reason error; see the error column)");
        }
        List<String> devices = summaries.stream().map(PartitionSummary::device).distinct().sorted().toList();
        return new GenerationTotals(resumed, costs.size(), summaries.stream().mapToInt(PartitionSummary::samples).sum(),
                promptTokens, outputTokens, seconds, devices);
    }

    private void cleanStaging() throws IOException {
        if (!Files.isDirectory(run.staging())) {
            return;
        }
        try (Stream<Path> files = Files.list(run.staging())) {
            for (Path p : files.toList()) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(run.staging());
    }

    /** Work of a prompt for balancing: its tokens plus the most tokens its samples may generate. */
    static long cost(KimiTokenizer tokenizer, PromptWork w) {
        int promptTokens;
        if (w.isChat()) {
            List<ChatMessage> messages = new ArrayList<>();
            for (PromptWork.Message m : w.messages()) {
                messages.add(new ChatMessage(m.role(), m.content()));
            }
            promptTokens = tokenizer.encodeChat(messages, true).length;
        } else {
            promptTokens = tokenizer.count(w.text());
        }
        return promptTokens + (long) w.sampling().n() * w.sampling().maxTokens();
    }
}
