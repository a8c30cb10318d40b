package dev.kimilinear.data.ruler;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.kimilinear.data.input.InputException;
import dev.kimilinear.data.record.PromptJson;
import dev.kimilinear.data.record.PromptRecord;
import dev.kimilinear.data.record.PromptSink;
import dev.kimilinear.data.record.Sampling;

/**
 * Generates RULER prompt records for every (length, task, sample), in that order. Each sample is
 * sized with the model's {@link TokenCounter}: input tokens plus tokens to generate never exceed
 * the length and fall short of it by at most 2%. Samples are generated in parallel and written
 * in order; the output depends only on the seed.
 */
public final class RulerGenerator {
    public static final String BENCHMARK = "ruler";
    public static final int MIN_LENGTH = 512;

    /**
     * @param essay    essay text for the essay haystacks, null to skip those tasks
     * @param squad    SQuAD v2 dev JSON for qa_1, null to skip it
     * @param hotpotqa HotpotQA dev (distractor) JSON for qa_2, null to skip it
     * @param threads  samples generated at once
     */
    public record Options(List<Integer> lengths, int samples, List<RulerTask> tasks, long seed, Path essay, Path squad,
                          Path hotpotqa, int threads) {
        public Options {
            lengths = List.copyOf(lengths);
            tasks = List.copyOf(tasks);
            if (lengths.isEmpty()) {
                throw new IllegalArgumentException("no lengths given");
            }
            for (int length : lengths) {
                if (length < MIN_LENGTH) {
                    throw new IllegalArgumentException("length " + length + " is below the smallest supported, " + MIN_LENGTH);
                }
            }
            if (samples < 1) {
                throw new IllegalArgumentException("samples must be at least 1, got " + samples);
            }
            if (tasks.isEmpty()) {
                throw new IllegalArgumentException("no tasks given");
            }
            if (seed < 0) {
                throw new IllegalArgumentException("seed must be non-negative, got " + seed);
            }
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be at least 1, got " + threads);
            }
        }
    }

    /** A task left out because the input file it needs ({@code missing}) was not given. */
    public record Skip(RulerTask task, RulerTask.Source missing) {
        /** The message of the generator's command line, naming the option that supplies the file. */
        public String message() {
            return task.taskName() + ": skipped, " + switch (missing) {
                case ESSAY -> "needs essay text (--essay FILE)";
                case SQUAD -> "needs the SQuAD v2 dev JSON (--squad FILE)";
                case HOTPOTQA -> "needs the HotpotQA dev JSON (--hotpotqa FILE)";
                case NONE -> throw new IllegalStateException(task.taskName() + " needs no input file");
            };
        }
    }

    /** What a run wrote and which tasks it skipped, with why. */
    public record Outcome(long written, List<String> skipped) {
        public Outcome {
            skipped = List.copyOf(skipped);
        }
    }

    private final Options options;
    private final PieceCounts pieces;
    private final Map<RulerTask, TaskGenerator> generators = new EnumMap<>(RulerTask.class);
    private final List<Skip> skips = new ArrayList<>();

    public RulerGenerator(TokenCounter counter, Options options) {
        this.options = options;
        this.pieces = new PieceCounts(counter);
        Essay essay = options.essay() == null ? null : Essay.load(options.essay());
        QaDataset squad = null;
        QaDataset hotpotqa = null;
        for (RulerTask task : options.tasks()) {
            switch (task.source()) {
                case ESSAY -> {
                    if (essay == null) {
                        skips.add(new Skip(task, RulerTask.Source.ESSAY));
                        continue;
                    }
                }
                case SQUAD -> {
                    if (options.squad() == null) {
                        skips.add(new Skip(task, RulerTask.Source.SQUAD));
                        continue;
                    }
                    squad = squad != null ? squad : QaDataset.squad(options.squad());
                }
                case HOTPOTQA -> {
                    if (options.hotpotqa() == null) {
                        skips.add(new Skip(task, RulerTask.Source.HOTPOTQA));
                        continue;
                    }
                    hotpotqa = hotpotqa != null ? hotpotqa : QaDataset.hotpotqa(options.hotpotqa());
                }
                case NONE -> {
                }
            }
            generators.put(task, generator(task, essay, squad, hotpotqa));
        }
    }

    private TaskGenerator generator(RulerTask task, Essay essay, QaDataset squad, QaDataset hotpotqa) {
        long seed = options.seed();
        return switch (task.family()) {
            case NIAH -> new NiahGenerator(task, seed, pieces, essay);
            case VARIABLE_TRACKING -> new VariableTrackingGenerator(task, seed, pieces);
            case COMMON_WORDS -> new CommonWordsGenerator(task, seed, pieces);
            case FREQUENT_WORDS -> new FrequentWordsGenerator(task, seed, pieces);
            case QA -> new QaGenerator(task, seed, pieces, task == RulerTask.QA_1 ? squad : hotpotqa);
        };
    }

    /** Tasks skipped for want of their input files, each with a message saying what is missing. */
    public List<String> skipped() {
        return skips.stream().map(Skip::message).toList();
    }

    /** Tasks skipped for want of their input files, each with the input it lacks. */
    public List<Skip> skips() {
        return List.copyOf(skips);
    }

    /** Generates everything into {@code sink} (not committed); {@code progress} hears one line per task and length. */
    public Outcome write(PromptSink sink, Consumer<String> progress) throws IOException {
        ExecutorService pool = Executors.newFixedThreadPool(options.threads(), runnable -> {
            Thread thread = new Thread(runnable, "ruler-sample");
            thread.setDaemon(true);
            return thread;
        });
        long written = 0;
        try {
            for (int length : options.lengths()) {
                for (RulerTask task : options.tasks()) {
                    TaskGenerator generator = generators.get(task);
                    if (generator == null) {
                        continue;
                    }
                    int batch = options.threads() * 2;
                    for (int start = 0; start < options.samples(); start += batch) {
                        List<Future<PromptRecord>> futures = new ArrayList<>();
                        for (int index = start; index < Math.min(options.samples(), start + batch); index++) {
                            int sample = index;
                            futures.add(pool.submit(() -> toRecord(task, length, sample, generator.generate(length, sample))));
                        }
                        for (Future<PromptRecord> future : futures) {
                            sink.write(await(future));
                            written++;
                        }
                    }
                    progress.accept(task.taskName() + "@" + length + ": " + options.samples() + " samples");
                }
            }
        } finally {
            pool.shutdownNow();
        }
        return new Outcome(written, skipped());
    }

    private static PromptRecord await(Future<PromptRecord> future) throws IOException {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while generating RULER samples", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException(cause);
        }
    }

    PromptRecord toRecord(RulerTask task, int length, int index, RulerSample sample) {
        ObjectNode reference = PromptJson.MAPPER.createObjectNode();
        ArrayNode outputs = reference.putArray("outputs");
        sample.outputs().forEach(outputs::add);
        reference.put("task", task.taskName());
        reference.put("length", length);
        reference.put("input_tokens", sample.inputTokens());
        reference.put("tokens_to_generate", task.tokensToGenerate());
        reference.put("answer_prefix", sample.answerPrefix());
        reference.put("metric", task.metric());
        reference.put("haystack_size", sample.haystackSize());
        reference.put("seed", options.seed());
        return PromptRecord.completion(BENCHMARK, task.taskName() + "@" + length, Integer.toString(index),
                sample.prompt(), PromptJson.write(reference), Sampling.greedy(task.tokensToGenerate(), null));
    }

    /** A generator for one task, for tests and tools that want samples without writing them. */
    RulerSample sample(RulerTask task, int length, int index) {
        TaskGenerator generator = generators.get(task);
        if (generator == null) {
            throw new InputException(task.taskName() + " is not available: " + String.join("; ", skipped()));
        }
        return generator.generate(length, index);
    }
}
