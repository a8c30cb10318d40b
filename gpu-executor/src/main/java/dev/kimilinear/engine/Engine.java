package dev.kimilinear.engine;

import dev.kimilinear.tokenizer.KimiTokenizer;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The batch generation engine: requests in, results out, over one backend. One engine thread
 * runs the scheduler (continuous batching of prefill chunks and decode steps over fixed state
 * slots and a paged latent cache); {@link #submit} may be called from any thread.
 *
 * <p>Every request yields its results exactly once (one per sample), an unusable one as an
 * ERROR result naming what is wrong. The engine does not close the backend.
 */
public final class Engine implements AutoCloseable {
    private static final long IDLE_POLL_MILLIS = 50;

    /** Total log-probability of a continuation, whether it is the greedy one, and per token. */
    public record ScoreResult(double logprob, boolean greedy, double[] tokenLogprobs) {
    }

    private final Backend backend;
    private final KimiTokenizer tokenizer;
    private final MemoryPlan plan;
    private final int[] eosIds;
    private final Scheduler scheduler;
    private final BlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
    private final Object lifecycle = new Object();
    private final Thread thread;
    private volatile boolean closed;
    private volatile EngineStats stats = EngineStats.EMPTY;
    /**
     * Completions of the step under way (engine thread only), handed out after the step's stats
     * are published, so that whoever receives a last result reads stats that include it.
     */
    private final ArrayDeque<Runnable> finished = new ArrayDeque<>();

    /**
     * Plans memory, reserves the backend's slots and pages, and starts the engine thread.
     *
     * @param tokenizer null when every prompt is token ids and no text is wanted
     */
    public Engine(Backend backend, KimiTokenizer tokenizer, EngineConfig config) {
        this.backend = backend;
        this.tokenizer = tokenizer;
        this.plan = MemoryPlanner.plan(backend, config);
        this.eosIds = tokenizer != null ? tokenizer.stopIds() : new int[]{backend.config().eosTokenId()};
        backend.reserve(plan.sequences(), plan.pages());
        this.scheduler = new Scheduler(backend, tokenizer, plan, config.prefillChunk(), new Scheduler.ResultSink() {
            @Override
            public void deliver(RequestState request, GenerationResult result) {
                finished.add(() -> hand(request, result));
            }

            @Override
            public void scored(ScoreTask task, String failure) {
                finished.add(() -> task.finish(failure));
            }
        });
        this.thread = new Thread(this::run, "kimi-engine");
        thread.setDaemon(true);
        thread.start();
    }

    /** Thread-safe; results arrive on the engine's thread at the end of the step each sample finishes in. */
    public void submit(GenerationRequest request, Consumer<GenerationResult> onResult) {
        if (onResult == null) {
            throw new NullPointerException("onResult");
        }
        long now = System.nanoTime();
        Object item = accept(request, onResult, now);
        synchronized (lifecycle) {
            if (!closed) {
                inbox.add(item);
                return;
            }
        }
        failClosed(item);
    }

    /** Convenience: all results of these requests, in completion order, as they finish. */
    public Iterator<GenerationResult> generate(List<GenerationRequest> requests) {
        BlockingQueue<GenerationResult> results = new LinkedBlockingQueue<>();
        int expected = 0;
        for (GenerationRequest r : requests) {
            expected += resultCount(r);
        }
        for (GenerationRequest r : requests) {
            submit(r, results::add);
        }
        int total = expected;
        return new Iterator<>() {
            private int taken;

            @Override
            public boolean hasNext() {
                return taken < total;
            }

            @Override
            public GenerationResult next() {
                if (taken >= total) {
                    throw new NoSuchElementException("all " + total + " results were returned");
                }
                try {
                    GenerationResult r = results.take();
                    taken++;
                    return r;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for a result", e);
                }
            }
        };
    }

    /**
     * Total log-probability of {@code continuation} after {@code prompt} and whether every
     * continuation token is the argmax at its position (for log-likelihood evaluation).
     */
    public ScoreResult score(int[] prompt, int[] continuation) {
        if (prompt == null || prompt.length == 0) {
            throw new IllegalArgumentException("score: the prompt is empty; at least one token is needed");
        }
        if (continuation == null || continuation.length == 0) {
            throw new IllegalArgumentException("score: the continuation is empty; at least one token is needed");
        }
        String bad = checkIds(prompt, "prompt");
        if (bad == null) {
            bad = checkIds(continuation, "continuation");
        }
        if (bad == null) {
            bad = checkFits(prompt.length, continuation.length);
        }
        if (bad != null) {
            throw new IllegalArgumentException("score: " + bad);
        }
        ScoreTask task = new ScoreTask(prompt, continuation);
        synchronized (lifecycle) {
            if (closed) {
                throw new IllegalStateException("score: engine closed");
            }
            inbox.add(task);
        }
        try {
            return task.result.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("score: interrupted while waiting", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("score: " + e.getCause().getMessage(), e.getCause());
        }
    }

    /** Sequences and pages that fit, bytes per slot and page, the budget. */
    public MemoryPlan plan() {
        return plan;
    }

    /**
     * Counters as of the last finished step. Results and scores are handed out after the stats
     * that count them are published, so a caller holding its last result sees them counted.
     */
    public EngineStats stats() {
        return stats;
    }

    /** Stops the engine thread; requests not finished yet end as ERROR "engine closed". */
    @Override
    public void close() {
        synchronized (lifecycle) {
            if (closed) {
                return;
            }
            closed = true;
        }
        if (Thread.currentThread() == thread) {
            return;
        }
        boolean interrupted = false;
        while (true) {
            try {
                thread.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    // ------------------------------------------------------------------ the engine thread

    private void run() {
        try {
            while (!closed) {
                Object item = scheduler.idle() ? inbox.poll(IDLE_POLL_MILLIS, TimeUnit.MILLISECONDS) : inbox.poll();
                while (item != null) {
                    take(item);
                    item = inbox.poll();
                }
                if (!closed && !scheduler.idle()) {
                    scheduler.step();
                    publish();
                }
            }
            shutDown("engine closed");
        } catch (InterruptedException e) {
            shutDown("engine closed");
        } catch (RuntimeException | Error e) {
            synchronized (lifecycle) {
                closed = true;
            }
            shutDown("engine failed: " + e);
            throw e;
        }
    }

    private void shutDown(String reason) {
        Thread.interrupted();
        scheduler.failAll(reason);
        Object item;
        while ((item = inbox.poll()) != null) {
            if (item instanceof ScoreTask task) {
                task.result.completeExceptionally(new IllegalStateException(reason));
            } else {
                failWith((Accepted) item, reason);
            }
        }
        publish();
    }

    /** Publishes the stats, then hands out what finished since the last publish. */
    private void publish() {
        stats = scheduler.stats();
        // taken off one at a time: a callback that throws an Error leaves the rest for shutDown
        Runnable r;
        while ((r = finished.poll()) != null) {
            r.run();
        }
    }

    private void take(Object item) {
        if (item instanceof ScoreTask task) {
            scheduler.enqueue(Sequence.scoring(task));
            return;
        }
        Accepted a = (Accepted) item;
        if (a.error != null) {
            failWith(a, a.error);
            return;
        }
        scheduler.enqueue(Sequence.generation(a.state, tokenizer == null ? null : tokenizer.newDecoder()));
    }

    private void hand(RequestState request, GenerationResult result) {
        try {
            request.onResult.accept(result);
        } catch (RuntimeException e) {
            System.err.println("engine: the result callback of request " + request.id + " threw " + e);
        }
    }

    // ------------------------------------------------------------------ intake (caller's thread)

    /** A submitted request, tokenized and checked, or the reason it cannot run. */
    private record Accepted(RequestState state, String requestId, int samples, int promptTokens,
                            Consumer<GenerationResult> onResult, String error) {
    }

    private Accepted accept(GenerationRequest request, Consumer<GenerationResult> onResult, long now) {
        String id = request == null ? null : request.id();
        int samples = resultCount(request);
        if (request == null) {
            return new Accepted(null, null, 1, 0, onResult, "request is null");
        }
        SamplingParams p = request.sampling();
        if (p == null) {
            return new Accepted(null, id, 1, 0, onResult, "request " + id + ": sampling is null");
        }
        String problem = p.problem();
        if (problem != null) {
            return new Accepted(null, id, samples, 0, onResult, "request " + id + ": " + problem);
        }
        if (tokenizer == null && !p.stop().isEmpty()) {
            return new Accepted(null, id, samples, 0, onResult,
                    "request " + id + ": stop strings need a tokenizer and this engine has none");
        }
        int[] ids;
        try {
            ids = promptIds(request.prompt());
        } catch (RuntimeException e) {
            return new Accepted(null, id, samples, 0, onResult, "request " + id + ": " + e.getMessage());
        }
        String bad = ids.length == 0 ? "the prompt is empty; at least one token is needed"
                : checkIds(ids, "prompt");
        if (bad == null) {
            bad = checkFits(ids.length, p.maxTokens());
        }
        if (bad != null) {
            return new Accepted(null, id, samples, ids.length, onResult, "request " + id + ": " + bad);
        }
        return new Accepted(new RequestState(id, p, ids, eosIds, onResult, now), id, samples, ids.length, onResult,
                null);
    }

    private int[] promptIds(Prompt prompt) {
        if (prompt == null) {
            throw new IllegalArgumentException("prompt is null");
        }
        if (prompt instanceof Prompt.Tokens t) {
            if (t.ids() == null) {
                throw new IllegalArgumentException("prompt token ids are null");
            }
            return t.ids().clone();
        }
        if (tokenizer == null) {
            throw new IllegalArgumentException("a text or chat prompt needs a tokenizer and this engine has none");
        }
        if (prompt instanceof Prompt.Text t) {
            if (t.text() == null) {
                throw new IllegalArgumentException("prompt text is null");
            }
            return tokenizer.encode(t.text());
        }
        Prompt.Chat c = (Prompt.Chat) prompt;
        if (c.messages() == null || c.messages().isEmpty()) {
            throw new IllegalArgumentException("chat prompt has no messages");
        }
        return tokenizer.encodeChat(c.messages(), true);
    }

    private String checkIds(int[] ids, String what) {
        int vocab = backend.config().vocabSize();
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= vocab) {
                return what + " token " + i + " is " + ids[i] + ", outside the model's vocabulary [0, " + vocab + ")";
            }
        }
        return null;
    }

    /**
     * Whether a prompt and what follows it can ever be held: the last token is never fed back,
     * so prompt + output - 1 tokens are cached, in generation and in scoring alike.
     */
    private String checkFits(int promptTokens, int outputTokens) {
        long total = (long) promptTokens + outputTokens;
        if (total > plan.maxModelLength()) {
            return "prompt of " + promptTokens + " tokens + " + outputTokens + " more = " + total
                    + " tokens exceeds the maximum length of " + plan.maxModelLength() + " tokens";
        }
        long cached = total - 1;
        if (plan.pagesFor(cached) > plan.pages()) {
            return "prompt of " + promptTokens + " tokens + " + outputTokens + " more needs " + plan.pagesFor(cached)
                    + " latent pages of " + plan.pageSize() + " tokens, but the cache holds " + plan.pages()
                    + " pages (" + plan.tokenCapacity() + " tokens) within a memory budget of " + plan.budgetBytes()
                    + " bytes";
        }
        // replicas that may not pool their memory hold a sequence in one replica's pages
        if (backend instanceof ElasticBackend e && !e.reliefAllowed() && plan.pagesFor(cached) > e.replicaPages()) {
            return "prompt of " + promptTokens + " tokens + " + outputTokens + " more needs " + plan.pagesFor(cached)
                    + " latent pages of " + plan.pageSize() + " tokens, but each of the " + e.replicas()
                    + " replicas holds " + e.replicaPages() + " and they may not pool their memory";
        }
        return null;
    }

    private static int resultCount(GenerationRequest r) {
        if (r == null || r.sampling() == null || r.sampling().n() < 1) {
            return 1;
        }
        return r.sampling().n();
    }

    private void failClosed(Object item) {
        failWith((Accepted) item, "engine closed");
    }

    private void failWith(Accepted a, String reason) {
        for (int i = 0; i < a.samples; i++) {
            GenerationResult r = GenerationResult.error(a.requestId, i, reason, a.promptTokens);
            try {
                a.onResult.accept(r);
            } catch (RuntimeException e) {
                System.err.println("engine: the result callback of request " + a.requestId + " threw " + e);
            }
        }
    }
}
