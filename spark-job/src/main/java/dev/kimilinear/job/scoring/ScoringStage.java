package dev.kimilinear.job.scoring;

import dev.kimilinear.eval.humaneval.HumanEvalScorer;
import dev.kimilinear.eval.records.GenerationRecord;
import dev.kimilinear.eval.records.MetricRecord;
import dev.kimilinear.eval.records.PromptRecord;
import dev.kimilinear.eval.records.ScoreRecord;
import dev.kimilinear.eval.scoring.BenchmarkScorer;
import dev.kimilinear.eval.scoring.ScoringRun;
import dev.kimilinear.job.config.SandboxSpec;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.util.LongAccumulator;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.IntStream;

import static org.apache.spark.sql.functions.col;

/**
 * Scores a run's generations with the evaluation module. Prompts and generations are both
 * hash-partitioned by prompt id, so each task holds whole prompts with all their samples and
 * scores them (HumanEval runs its programs there, spread over the cluster, in each executor's
 * resident sandbox); metrics are aggregated on the driver from every score.
 */
public final class ScoringStage {

    /** Scores, metrics, and what the user should know (benchmarks with no scorer, failed samples). */
    public record Outcome(List<ScoreRecord> scores, List<MetricRecord> metrics, List<String> notes) {
    }

    private ScoringStage() {
    }

    /**
     * Starts the HumanEval sandbox where scoring tasks will run (this JVM in local mode, else one
     * small task per slot) and returns the isolation in force; fails with the sandbox's reason
     * (python3 missing, no isolation works) before anything is scored.
     */
    public static List<String> prepareSandboxes(JavaSparkContext sc, SandboxSpec sandbox) {
        try {
            if (sc.isLocal()) {
                return List.of(ResidentSandboxes.get(sandbox).isolation().describe());
            }
            int slots = Math.max(1, sc.defaultParallelism());
            return sc.parallelize(IntStream.range(0, slots).boxed().toList(), slots)
                    .map(i -> ResidentSandboxes.get(sandbox).isolation().describe())
                    .distinct().collect();
        } catch (RuntimeException e) {
            Throwable t = e;
            while (t.getCause() != null && t.getCause() != t) {
                t = t.getCause();
            }
            // the reason alone: callers report a failure by its innermost cause
            throw new IllegalStateException("humaneval: the sandbox cannot run programs: " + t.getMessage());
        }
    }

    public static Outcome run(Dataset<Row> prompts, Dataset<Row> generations, int partitions, SandboxSpec sandbox) {
        return run(prompts, generations, partitions, sandbox, null);
    }

    /** As above, counting scored samples into {@code scoredLive} as tasks go (for progress; may be null). */
    public static Outcome run(Dataset<Row> prompts, Dataset<Row> generations, int partitions, SandboxSpec sandbox,
                              LongAccumulator scoredLive) {
        List<String> notes = new ArrayList<>();
        List<String> benchmarks = prompts.select("benchmark").distinct().collectAsList().stream()
                .map(r -> r.getString(0)).sorted().toList();
        List<String> scored = new ArrayList<>();
        for (String b : benchmarks) {
            if (Scorers.forMetrics(b).isPresent()) {
                scored.add(b);
            } else {
                notes.add(b + ": no scorer for this benchmark; its generations are kept unscored");
            }
        }
        if (scored.isEmpty()) {
            return new Outcome(List.of(), List.of(), notes);
        }
        Dataset<Row> p = prompts.where(col("benchmark").isin(scored.toArray())).repartition(partitions, col("id"));
        Dataset<Row> g = generations.where(col("benchmark").isin(scored.toArray())).repartition(partitions, col("id"));
        JavaRDD<Row> scoreRows = p.toJavaRDD().zipPartitions(g.toJavaRDD(), new ScoreChunk(sandbox, scoredLive));
        List<ScoreRecord> scores = scoreRows.collect().stream().map(EvalRows::score).toList();

        List<MetricRecord> metrics = new ArrayList<>();
        Map<String, List<Row>> promptRows = new LinkedHashMap<>();
        for (Row row : prompts.where(col("benchmark").isin(scored.toArray())).drop("messages", "prompt").collectAsList()) {
            promptRows.computeIfAbsent(row.getString(row.fieldIndex("benchmark")), k -> new ArrayList<>()).add(row);
        }
        for (String b : scored) {
            BenchmarkScorer scorer = Scorers.forMetrics(b).orElseThrow();
            Map<String, PromptRecord> byId = new LinkedHashMap<>();
            for (Row row : promptRows.getOrDefault(b, List.of())) {
                PromptRecord record = EvalRows.prompt(withoutText(row), false);
                byId.put(record.id(), record);
            }
            List<ScoreRecord> mine = scores.stream().filter(s -> b.equals(s.benchmark())).toList();
            metrics.addAll(scorer.metrics(mine, byId));
            long failed = mine.stream().filter(s -> s.reason() != null && s.reason().startsWith("generation failed")).count();
            if (failed > 0) {
                notes.add(b + ": " + failed + " samples whose generation failed score as wrong");
            }
            if (b.equals(HumanEvalScorer.BENCHMARK)) {
                long timedOut = mine.stream().filter(s -> s.reason() != null && s.reason().contains("timed out")).count();
                if (timedOut > 0) {
                    notes.add(b + ": " + timedOut + " programs ran past the sandbox's " + sandbox.timeoutSeconds()
                            + " s limit and count as failed");
                }
            }
        }
        return new Outcome(scores, metrics, notes);
    }

    private static Row withoutText(Row row) {
        return new org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema(
                new Object[]{row.get(row.fieldIndex("id")), row.get(row.fieldIndex("benchmark")),
                        row.get(row.fieldIndex("subset")), null, null, row.get(row.fieldIndex("reference")),
                        row.get(row.fieldIndex("sampling"))},
                dev.kimilinear.job.prompts.PromptRows.SCHEMA);
    }

    /** One task: the prompts and generations of one hash partition, scored benchmark by benchmark. */
    static final class ScoreChunk implements FlatMapFunction2<Iterator<Row>, Iterator<Row>, Row> {
        private final SandboxSpec sandbox;
        private final LongAccumulator scoredLive;

        ScoreChunk(SandboxSpec sandbox, LongAccumulator scoredLive) {
            this.sandbox = sandbox;
            this.scoredLive = scoredLive;
        }

        @Override
        public Iterator<Row> call(Iterator<Row> promptRows, Iterator<Row> generationRows) {
            Map<String, List<PromptRecord>> prompts = new LinkedHashMap<>();
            Map<String, Boolean> needsText = new LinkedHashMap<>();
            while (promptRows.hasNext()) {
                Row row = promptRows.next();
                String benchmark = row.getString(row.fieldIndex("benchmark"));
                boolean text = needsText.computeIfAbsent(benchmark,
                        b -> Scorers.forMetrics(b).map(BenchmarkScorer::needsPromptText).orElse(false));
                prompts.computeIfAbsent(benchmark, k -> new ArrayList<>()).add(EvalRows.prompt(row, text));
            }
            Map<String, List<GenerationRecord>> generations = new LinkedHashMap<>();
            while (generationRows.hasNext()) {
                GenerationRecord g = EvalRows.generation(generationRows.next());
                generations.computeIfAbsent(g.benchmark(), k -> new ArrayList<>()).add(g);
            }
            List<Row> out = new ArrayList<>();
            for (String benchmark : new TreeSet<>(prompts.keySet())) {
                BenchmarkScorer scorer = Scorers.forScoring(benchmark, sandbox).orElseThrow();
                List<ScoreRecord> scored = ScoringRun.run(scorer, prompts.get(benchmark),
                        generations.getOrDefault(benchmark, List.of())).scores();
                for (ScoreRecord s : scored) {
                    out.add(EvalRows.score(s));
                }
                if (scoredLive != null) {
                    scoredLive.add(scored.size());
                }
            }
            return out.iterator();
        }
    }
}
