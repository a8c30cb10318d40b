package dev.kimilinear.job.generation;

import dev.kimilinear.engine.Engine;
import dev.kimilinear.engine.FinishReason;
import dev.kimilinear.engine.GenerationRequest;
import dev.kimilinear.engine.GenerationResult;
import dev.kimilinear.engine.Prompt;
import dev.kimilinear.engine.SamplingParams;
import dev.kimilinear.eval.records.GenerationRecord;
import dev.kimilinear.job.config.EngineSpec;
import dev.kimilinear.job.config.FaultSpec;
import dev.kimilinear.job.config.ModelSpec;
import dev.kimilinear.job.prompts.PromptWork;
import dev.kimilinear.model.WeightPrecision;
import dev.kimilinear.tokenizer.ChatMessage;

import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import scala.Tuple2;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

/**
 * One generation task: streams its partition's prompts into the executor's resident engine
 * (where they batch with the prompts of every other task of that executor), gathers each
 * prompt's samples as they finish, and commits the partition's rows in one file.
 */
public final class GenerationTask
        implements Function2<Integer, Iterator<Tuple2<Integer, PromptWork>>, Iterator<PartitionSummary>> {
    private static final Logger LOG = LoggerFactory.getLogger(GenerationTask.class);

    /**
     * The task's named counters, shown in the Spark UI. The first five count committed
     * partitions only; the live ones count prompts and output tokens as results arrive, for
     * progress (a failed attempt's live counts are dropped with it).
     */
    public record Counters(LongAccumulator prompts, LongAccumulator samples, LongAccumulator promptTokens,
                           LongAccumulator outputTokens, LongAccumulator failedSamples, LongAccumulator promptsLive,
                           LongAccumulator outputTokensLive) implements java.io.Serializable {
    }

    private final String modelDir;
    private final ModelSpec.Backend backend;
    private final WeightPrecision weights;
    private final EngineSpec engineSpec;
    private final int gpusPerEngine;
    private final boolean elastic;
    private final String generations;
    private final String staging;
    private final String pass;
    private final FaultSpec faults;
    private final Counters counters;

    public GenerationTask(String modelDir, ModelSpec.Backend backend, WeightPrecision weights, EngineSpec engineSpec,
                          int gpusPerEngine, boolean elastic, Path generations, Path staging, String pass,
                          FaultSpec faults, Counters counters) {
        this.modelDir = modelDir;
        this.backend = backend;
        this.weights = weights;
        this.engineSpec = engineSpec;
        this.gpusPerEngine = gpusPerEngine;
        this.elastic = elastic;
        this.generations = generations.toString();
        this.staging = staging.toString();
        this.pass = pass;
        this.faults = faults;
        this.counters = counters;
    }

    @Override
    public Iterator<PartitionSummary> call(Integer partition, Iterator<Tuple2<Integer, PromptWork>> input) {
        List<PromptWork> works = new ArrayList<>();
        input.forEachRemaining(t -> works.add(t._2()));
        TaskContext task = TaskContext.get();
        if (faults.always().contains(partition)) {
            throw new IllegalStateException("injected failure of generation partition " + partition
                    + " (faults.always), before it committed anything");
        }
        if (works.isEmpty()) {
            return List.<PartitionSummary>of().iterator();
        }
        long attempt = task == null ? 0 : task.attemptNumber();
        // executor logs say which JVM ran which partition: how a cluster run is checked and debugged
        LOG.info("generation partition {} attempt {}: {} prompts into the resident engine of pid {}", partition,
                attempt, works.size(), ProcessHandle.current().pid());
        long loadStart = System.nanoTime();
        EngineKey key = ResidentEngines.keyForTask(modelDir, backend, weights, engineSpec, gpusPerEngine,
                elastic);
        Engine engine = ResidentEngines.get(key);
        long engineLoadNanos = System.nanoTime() - loadStart;
        List<GenerationRecord> rows = generate(engine, works, task, counters,
                samplesDone -> PartitionHold.atFirstSample(faults, partition, task, samplesDone,
                        works.stream().mapToInt(w -> w.sampling().n()).sum()));
        rows.sort(Comparator.comparing(GenerationRecord::id).thenComparingInt(GenerationRecord::sample));

        Path file;
        try {
            file = PartitionCommit.commit(Path.of(generations), Path.of(staging), pass, partition,
                    task == null ? 0 : task.taskAttemptId(), rows);
        } catch (IOException e) {
            throw new UncheckedIOException("generation partition " + partition + ": cannot commit: " + e.getMessage(), e);
        }
        LOG.info("generation partition {} attempt {}: committed {} ({} rows)", partition, attempt, file.getFileName(),
                rows.size());
        if (faults.afterCommit().contains(partition) && attempt == 0) {
            throw new IllegalStateException("injected failure of generation partition " + partition
                    + " (faults.after_commit), after it committed " + file.getFileName());
        }
        long promptTokens = 0;
        long outputTokens = 0;
        int failed = 0;
        for (GenerationRecord r : rows) {
            if (r.sample() == 0) {
                promptTokens += r.promptTokens();
            }
            outputTokens += r.outputTokens();
            failed += "error".equals(r.finishReason()) ? 1 : 0;
        }
        // counted once the partition is committed, so a failed attempt adds nothing
        counters.prompts().add(works.size());
        counters.samples().add(rows.size());
        counters.promptTokens().add(promptTokens);
        counters.outputTokens().add(outputTokens);
        counters.failedSamples().add(failed);
        return List.of(new PartitionSummary(partition, works.size(), rows.size(), promptTokens, outputTokens,
                failed, file.getFileName().toString(), ResidentEngines.describe(key), engineLoadNanos)).iterator();
    }

    private static List<GenerationRecord> generate(Engine engine, List<PromptWork> works, TaskContext task,
                                                   Counters counters, IntConsumer firstSample) {
        LinkedBlockingQueue<GenerationResult> results = new LinkedBlockingQueue<>();
        Map<String, PromptWork> byId = new HashMap<>();
        int expected = 0;
        for (PromptWork w : works) {
            if (byId.putIfAbsent(w.id(), w) != null) {
                throw new IllegalStateException("prompt id " + w.id() + " appears twice in one partition");
            }
            expected += w.sampling().n();
        }
        for (PromptWork w : works) {
            engine.submit(new GenerationRequest(w.id(), prompt(w), params(w.sampling())), results::add);
        }
        List<GenerationRecord> rows = new ArrayList<>(expected);
        Map<String, Integer> samplesLeft = new HashMap<>();
        for (PromptWork w : works) {
            samplesLeft.put(w.id(), w.sampling().n());
        }
        while (rows.size() < expected) {
            GenerationResult r;
            try {
                r = results.poll(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("generation task interrupted", e);
            }
            if (task != null && task.isInterrupted()) {
                throw new IllegalStateException("generation task killed");
            }
            if (r == null) {
                continue;
            }
            PromptWork w = byId.get(r.requestId());
            counters.outputTokensLive().add(r.outputTokens());
            if (samplesLeft.merge(r.requestId(), -1, Integer::sum) == 0) {
                counters.promptsLive().add(1);
            }
            rows.add(new GenerationRecord(r.requestId(), w.benchmark(), w.subset(), r.sample(),
                    r.finishReason() == FinishReason.ERROR ? null : r.text(),
                    r.finishReason().name().toLowerCase(Locale.ROOT), r.promptTokens(), r.outputTokens(),
                    r.finishReason() == FinishReason.ERROR ? r.error() : null));
            if (rows.size() == 1) {
                firstSample.accept(rows.size());
            }
        }
        return rows;
    }

    private static Prompt prompt(PromptWork w) {
        if (!w.isChat()) {
            return new Prompt.Text(w.text());
        }
        List<ChatMessage> messages = new ArrayList<>();
        for (PromptWork.Message m : w.messages()) {
            messages.add(new ChatMessage(m.role(), m.content()));
        }
        return new Prompt.Chat(messages);
    }

    static SamplingParams params(PromptWork.Sampling s) {
        return new SamplingParams(s.maxTokens(), s.temperature(), s.topP(), s.topK(), s.seed(), s.stop(), List.of(),
                s.n(), -1);
    }
}
