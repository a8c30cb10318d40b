package dev.kimilinear.job.cluster;

import dev.kimilinear.cli.EvalCommand;
import dev.kimilinear.eval.records.GenerationRecord;
import dev.kimilinear.eval.records.MetricRecord;
import dev.kimilinear.eval.records.RecordIo;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The eval job submitted as its application jar ({@code spark-submit --deploy-mode client}) to a
 * standalone master with two workers of one core, each executor in its own JVM: one resident
 * engine per executor JVM, partitions on both executors, an executor SIGKILLed in the middle of a
 * partition (Spark reruns the task elsewhere), and a driver SIGKILLed mid-run whose rerun into the
 * same directory generates only what is missing. Every run ends with the generations and metrics
 * of an undisturbed run with the same seed. Runs after package (the jar must exist); logs of every
 * JVM stay under target/it/standalone-cluster/.
 */
@Tag("standalone-cluster")
class StandaloneClusterIT {
    private static final int SAMPLES = 2;
    private static final int PARTITIONS = 4;
    private static final long RUN_SECONDS = 240;
    private static final Pattern SUMMARY = Pattern.compile("(\\d+) prompts, (\\d+) generated now");

    private static Path dir;
    private static Path appJar;
    private static SparkHome home;
    private static Path job;
    private static StandaloneCluster cluster;
    private static int prompts;
    private static Map<String, GenerationRecord> referenceGenerations;
    private static List<MetricRecord> referenceMetrics;
    private final List<JavaProcess> drivers = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        appJar = Path.of(property("kimi.appJar")).toAbsolutePath();
        assertTrue(Files.isRegularFile(appJar), appJar + " does not exist: this test runs after package "
                + "(mvn verify), against the application jar");
        dir = Path.of(property("kimi.itDir")).toAbsolutePath().resolve("standalone-cluster");
        deleteTree(dir);
        Files.createDirectories(dir);
        home = SparkHome.layOut(dir.resolve("spark-home"), appJar);
        job = writeJob();
        cluster = StandaloneCluster.start(home, dir.resolve("cluster"), 2, 1, "1g");
        runReference(dir.resolve("run-undisturbed"));
        cluster.awaitWorkers();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (cluster != null) {
            cluster.close();
        }
    }

    @AfterEach
    void killDrivers() throws InterruptedException {
        for (JavaProcess driver : drivers) {
            driver.close();
        }
    }

    private static String property(String name) {
        String value = System.getProperty(name);
        if (value == null) {
            throw new IllegalStateException("system property " + name + " is not set; the spark-job build's "
                    + "integration-tests execution sets it (mvn verify)");
        }
        return value;
    }

    /** A small eval job: a few dozen prompts of three benchmarks, two seeded samples each, four partitions. */
    private static Path writeJob() throws IOException {
        Path root = Path.of("..").toAbsolutePath().normalize();
        Path file = dir.resolve("job.yaml");
        Files.writeString(file, """
                name: standalone-cluster-it
                model:
                  dir: %1$s/model
                  backend: cpu
                  prepare: {config: %2$s/conf/demo/model-config.json, vocab_size: 4096}
                engine: {max_batch_tokens: 512, prefill_chunk: 128, max_sequences: 8, max_model_length: 2048}
                sampling: {max_tokens: 4, temperature: 0.7, seed: 11, n: %3$d}
                benchmarks:
                  mmlu-pro: {input: %2$s/conf/demo/mmlu-pro/test.json, shots: 0, limit: 10, sampling: {n: %3$d, max_tokens: 4}}
                  gpqa: {input: %2$s/conf/demo/gpqa/gpqa_demo.csv, limit: 5, sampling: {n: %3$d, max_tokens: 4}}
                  ruler: {tasks: [fwe], lengths: [512], samples: 12, sampling: {n: %3$d, max_tokens: 4}}
                output: {dir: %1$s/unset}
                partitions: {count: %4$d}
                report: false
                """.formatted(dir, root, SAMPLES, PARTITIONS));
        return file;
    }

    /** The undisturbed run: the same job in this JVM, local mode, whose outputs every cluster run must match. */
    private static void runReference(Path out) throws IOException {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        PrintStream stream = new PrintStream(printed, true, StandardCharsets.UTF_8);
        CommandLine cli = new CommandLine(new EvalCommand(stream));
        cli.setErr(new PrintWriter(stream, true));
        int status = cli.execute(job.toString(), "--set", "output.dir=" + out, "--set", "spark.master=local[2]");
        Files.write(dir.resolve("undisturbed-local.log"), printed.toByteArray());
        assertEquals(0, status, "the undisturbed local run failed:\n" + printed.toString(StandardCharsets.UTF_8));
        prompts = RecordIo.readPrompts(out.resolve("prompts")).size();
        assertTrue(prompts >= 24, "a few dozen prompts expected, the job made " + prompts);
        referenceGenerations = byPromptAndSample(RecordIo.readGenerations(out.resolve("generations")));
        referenceMetrics = sorted(RecordIo.readMetrics(out.resolve("metrics")));
        assertEquals(prompts * SAMPLES, referenceGenerations.size());
    }

    private JavaProcess submit(String name, Path out, String... sets) throws IOException {
        List<String> all = new ArrayList<>(List.of("output.dir=" + out));
        all.addAll(List.of(sets));
        JavaProcess driver = SubmittedDriver.start(name, home, cluster, appJar, job, all, dir);
        drivers.add(driver);
        return driver;
    }

    @Test
    void anExecutorKilledMidPartitionIsReplacedAndTheRunMatchesAnUndisturbedOne() throws Exception {
        Path out = dir.resolve("run-executor-killed");
        Path holds = dir.resolve("holds-executor-killed");
        int heldPartition = 2;
        JavaProcess driver = submit("executor-killed", out, "faults.hold=[" + heldPartition + "]",
                "faults.hold_dir=" + holds);
        HoldMarker held = HoldMarker.await(holds, heldPartition, driver, RUN_SECONDS);
        assertTrue(cluster.isExecutor(held.pid()), "the held task runs in pid " + held.pid()
                + ", which is no executor of the cluster's workers");
        assertTrue(held.samplesDone() >= 1 && held.samplesDone() < held.samples(),
                "held in the middle of its partition: " + held);
        ProcessHandle executor = ProcessHandle.of(held.pid()).orElseThrow();
        executor.destroyForcibly();   // SIGKILL
        executor.onExit().get(30, TimeUnit.SECONDS);

        assertEquals(0, driver.waitFor(RUN_SECONDS), "the job did not finish after its executor was killed\n"
                + driver.logTail(80));
        assertSummary(driver, prompts);

        List<ExecutorLog> logs = ExecutorLog.ofApplication(cluster.workDirs(), SubmittedDriver.applicationId(driver));
        assertOneEnginePerExecutorThatGenerated(logs);
        ExecutorLog killed = logs.stream().filter(l -> l.pid() == held.pid()).findFirst()
                .orElseThrow(() -> new AssertionError("no log of the killed executor (pid " + held.pid() + "): " + logs));
        assertTrue(killed.started().stream().anyMatch(e -> e.partition() == heldPartition),
                "the killed executor started partition " + heldPartition + ": " + killed);
        assertTrue(killed.committed().stream().noneMatch(e -> e.partition() == heldPartition), killed.toString());
        List<PartitionEvent> committed = logs.stream().flatMap(l -> l.committed().stream()).toList();
        assertEquals(Set.of(0, 1, 2, 3), committed.stream().map(PartitionEvent::partition).collect(Collectors.toSet()),
                "every partition committed: " + logs);
        assertEquals(PARTITIONS, committed.size(), "each partition committed once: " + logs);
        assertTrue(logs.stream().filter(l -> l != killed).anyMatch(l -> l.committed().stream()
                        .anyMatch(e -> e.partition() == heldPartition)),
                "partition " + heldPartition + " was rerun by another executor: " + logs);
        assertTrue(logs.stream().filter(l -> !l.committed().isEmpty()).count() >= 2,
                "partitions committed by both executors: " + logs);

        assertEquals(PARTITIONS, partFiles(out).size(), "one file per partition: " + partFiles(out));
        assertMatchesUndisturbedRun(out);
    }

    @Test
    void aDriverKilledMidRunIsResumedGeneratingOnlyWhatIsMissing() throws Exception {
        Path out = dir.resolve("run-driver-killed");
        Path holds = dir.resolve("holds-driver-killed");
        int heldPartition = PARTITIONS - 1;
        JavaProcess driver = submit("driver-killed", out, "faults.hold=[" + heldPartition + "]",
                "faults.hold_dir=" + holds);
        HoldMarker held = HoldMarker.await(holds, heldPartition, driver, RUN_SECONDS);
        awaitPartFiles(out, PARTITIONS - 1, driver);
        Map<String, String> before = digests(out);
        Set<String> done = new HashSet<>();
        for (GenerationRecord r : RecordIo.readGenerations(out.resolve("generations"))) {
            done.add(r.id());
        }
        assertTrue(!done.isEmpty() && done.size() < prompts, "committed before the driver died: " + done.size());

        driver.kill();   // SIGKILL: no shutdown of its own
        // the master drops the application and its workers stop its executors, the held one included
        ProcessHandle.of(held.pid()).ifPresent(h -> h.onExit().completeOnTimeout(h, 60, TimeUnit.SECONDS).join());
        assertFalse(ProcessHandle.of(held.pid()).map(ProcessHandle::isAlive).orElse(false),
                "the executor of the killed driver (pid " + held.pid() + ") still runs 60 s later");

        JavaProcess resumed = submit("resumed", out);
        assertEquals(0, resumed.waitFor(RUN_SECONDS), "the resumed run failed\n" + resumed.logTail(80));
        int missing = prompts - done.size();
        assertSummary(resumed, missing);
        List<ExecutorLog> logs = ExecutorLog.ofApplication(cluster.workDirs(), SubmittedDriver.applicationId(resumed));
        assertOneEnginePerExecutorThatGenerated(logs);
        assertEquals(missing, logs.stream().mapToInt(ExecutorLog::promptsStarted).sum(),
                "the resumed run's executors took only the missing prompts: " + logs);

        Map<String, String> after = digests(out);
        before.forEach((name, digest) -> assertEquals(digest, after.get(name),
                "a partition committed before the driver died was rewritten: " + name));
        Set<String> added = new HashSet<>();
        for (Path file : partFiles(out)) {
            if (!before.containsKey(file.getFileName().toString())) {
                RecordIo.readGenerations(file).forEach(r -> added.add(r.id()));
            }
        }
        Set<String> all = new HashSet<>(referenceGenerations.values().stream().map(GenerationRecord::id).toList());
        all.removeAll(done);
        assertEquals(all, added, "the resumed run generated exactly the prompts without committed generations");
        assertMatchesUndisturbedRun(out);
    }

    private static void assertSummary(JavaProcess driver, int generatedNow) {
        Matcher m = SUMMARY.matcher(driver.logText());
        assertTrue(m.find(), "no summary line in the driver's output\n" + driver.logTail(60));
        assertEquals(prompts, Integer.parseInt(m.group(1)), m.group());
        assertEquals(generatedNow, Integer.parseInt(m.group(2)), m.group());
    }

    /** Each executor JVM created one resident engine when it ran generation tasks, none otherwise. */
    private static void assertOneEnginePerExecutorThatGenerated(List<ExecutorLog> logs) {
        assertTrue(logs.stream().filter(ExecutorLog::ranGeneration).count() >= 1, "no executor log: " + logs);
        for (ExecutorLog log : logs) {
            assertTrue(log.pid() > 0, "no pid in " + log);
            assertEquals(log.ranGeneration() ? 1 : 0, log.enginesCreated(), log.toString());
        }
    }

    /** One row per prompt and sample, nothing staged left behind, and the undisturbed run's rows and metrics. */
    private static void assertMatchesUndisturbedRun(Path out) throws IOException {
        try (Stream<Path> entries = Files.list(out.resolve("generations"))) {
            List<String> others = entries.map(p -> p.getFileName().toString())
                    .filter(n -> !(n.startsWith("part-") && n.endsWith(".parquet"))).toList();
            assertEquals(List.of(), others, "generations/ holds only committed partitions");
        }
        List<GenerationRecord> rows = RecordIo.readGenerations(out.resolve("generations"));
        assertEquals(prompts * SAMPLES, rows.size(), "rows in " + out.resolve("generations"));
        Map<String, GenerationRecord> byKey = byPromptAndSample(rows);
        assertEquals(rows.size(), byKey.size(), "no (prompt, sample) twice");
        assertEquals(new TreeMap<>(referenceGenerations), new TreeMap<>(byKey),
                "the generations of the undisturbed run with the same seed");
        assertEquals(referenceMetrics, sorted(RecordIo.readMetrics(out.resolve("metrics"))),
                "the metrics of the undisturbed run with the same seed");
    }

    private static Map<String, GenerationRecord> byPromptAndSample(List<GenerationRecord> rows) {
        Map<String, GenerationRecord> map = new HashMap<>();
        for (GenerationRecord r : rows) {
            map.put(r.id() + "#" + r.sample(), r);
        }
        return map;
    }

    private static List<MetricRecord> sorted(List<MetricRecord> metrics) {
        return metrics.stream().sorted(Comparator.comparing(MetricRecord::benchmark)
                .thenComparing(MetricRecord::subset).thenComparing(MetricRecord::metric)).toList();
    }

    private static List<Path> partFiles(Path out) throws IOException {
        Path generations = out.resolve("generations");
        if (!Files.isDirectory(generations)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(generations)) {
            return files.filter(p -> p.getFileName().toString().startsWith("part-")).sorted().toList();
        }
    }

    private static void awaitPartFiles(Path out, int count, JavaProcess driver) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(RUN_SECONDS);
        while (partFiles(out).size() < count) {
            assertTrue(driver.isAlive(), "the driver exited before " + count + " partitions committed\n"
                    + driver.logTail(60));
            assertTrue(System.nanoTime() < deadline, count + " partitions not committed in " + RUN_SECONDS + " s: "
                    + partFiles(out) + "\n" + driver.logTail(60));
            Thread.sleep(100);
        }
    }

    private static Map<String, String> digests(Path out) throws IOException, NoSuchAlgorithmException {
        Map<String, String> digests = new TreeMap<>();
        for (Path file : partFiles(out)) {
            digests.put(file.getFileName().toString(), HexFormat.of().formatHex(
                    MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file))));
        }
        return digests;
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
