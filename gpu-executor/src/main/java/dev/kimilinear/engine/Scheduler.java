package dev.kimilinear.engine;

import dev.kimilinear.tokenizer.KimiTokenizer;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.List;

/**
 * Continuous batching, run by the engine thread alone. Each step admits waiting sequences in
 * arrival order while a slot and the pages of their first chunk are free, then packs one
 * forward step: a token of every decoding sequence first, then prefill chunks under the token
 * budget. Pages are taken on demand; when none is left the most recently admitted sequence is
 * preempted (its slot and pages freed, itself sent to the front of the queue to recompute).
 *
 * <p>Over an {@link ElasticBackend} in its replicated layout each sequence draws its slot and
 * pages from one replica's group (the one with most pages free when it is admitted). When pages
 * run short, the scheduler first asks the backend to pool its memory (one pipeline, replicated
 * weights dropped, the cache grown) and preempts only if it cannot; once the queue is empty and
 * what runs fits half of the replicas, it moves the sequences back onto replicas.
 */
final class Scheduler {
    private final Backend backend;
    private final KimiTokenizer tokenizer;
    private final MemoryPlan plan;
    private final int prefillChunk;
    private final int maxBatchTokens;
    private final int rowsCapacity;
    private final RowChoices choices;
    private SlotPool slots;
    private PagePool pages;
    private final ElasticBackend elastic;
    private long stepsSinceRelief;
    private final ResultSink sink;

    private final Deque<Sequence> waiting = new ArrayDeque<>();
    private final ArrayList<Sequence> running = new ArrayList<>();
    private long admissions;

    // the step being planned
    private Sequence[] order = new Sequence[16];
    private Sequence[] planned = new Sequence[16];
    private int[] plannedTokens = new int[16];
    private int planCount;
    private int tokensUsed;
    private int rowsUsed;
    // the step being run: its sequences, their token counts and first choices
    private Sequence[] batch = new Sequence[16];
    private int[] batchTokens = new int[16];
    private int[] firstChoice = new int[16];
    private final IntArrayCache arrays = new IntArrayCache();

    // counters
    private long prompts;
    private long promptTokens;
    private long outputTokens;
    private long prefillTokens;
    private long decodeTokens;
    private long preemptions;
    private long steps;
    private long prefillNanos;
    private long decodeNanos;
    private long mixedNanos;
    private long decodeSteps;
    private long decodeStepTokens;
    private long decodeForwardNanos;
    private long results;
    private int peakSequences;
    private int peakPages;
    private long reliefs;
    private long restores;

    /** Where finished samples and scores go. */
    interface ResultSink {
        void deliver(RequestState request, GenerationResult result);

        /** A score computed, or failed for {@code failure} (null when it succeeded). */
        void scored(ScoreTask task, String failure);
    }

    Scheduler(Backend backend, KimiTokenizer tokenizer, MemoryPlan plan, int prefillChunk, ResultSink sink) {
        this.backend = backend;
        this.tokenizer = tokenizer;
        this.plan = plan;
        this.maxBatchTokens = plan.maxBatchTokens();
        this.prefillChunk = Math.min(prefillChunk, maxBatchTokens);
        this.rowsCapacity = Math.min(Math.min(maxBatchTokens, backend.maxLogitRows()),
                plan.sequences() + this.prefillChunk);
        int modelVocab = backend.config().vocabSize();
        int sampleVocab = tokenizer == null ? modelVocab : Math.min(modelVocab, tokenizer.vocabSize());
        this.choices = new RowChoices(sampleVocab);
        this.elastic = backend instanceof ElasticBackend e ? e : null;
        if (elastic != null) {
            int g = elastic.groups();
            this.slots = new SlotPool(new boolean[g * elastic.slotsPerGroup()], g);
            this.pages = new PagePool(new int[g * elastic.pagesPerGroup()], g);
        } else {
            this.slots = new SlotPool(plan.sequences());
            this.pages = new PagePool(plan.pages());
        }
        this.sink = sink;
    }

    boolean idle() {
        return waiting.isEmpty() && running.isEmpty();
    }

    void enqueue(Sequence s) {
        waiting.addLast(s);
    }

    EngineStats stats() {
        return new EngineStats(prompts, promptTokens, outputTokens, prefillTokens, decodeTokens, preemptions, steps,
                prefillNanos, decodeNanos, mixedNanos, results, running.size(), waiting.size(), pages.inUse(),
                peakSequences, peakPages, decodeSteps, decodeStepTokens, decodeForwardNanos, reliefs, restores);
    }

    // ------------------------------------------------------------------ one step

    void step() {
        long start = System.nanoTime();
        maybeRestore();
        admit();
        planStep();
        if (planCount == 0) {
            return;
        }
        int entries = 0;
        int total = 0;
        int rows = 0;
        int prefillEntries = 0;
        int decodeEntries = 0;
        for (int e = 0; e < planCount; e++) {
            Sequence s = planned[e];
            if (plannedTokens[e] > 0) {
                entries++;
                total += plannedTokens[e];
                rows += rowsOf(s, plannedTokens[e]);
                if (s.decoding()) {
                    decodeEntries++;
                } else {
                    prefillEntries++;
                }
            }
        }
        int[] tokens = arrays.get(0, total);
        int[] cu = arrays.get(1, entries + 1);
        int[] slotIds = arrays.get(2, entries);
        int[] context = arrays.get(3, entries);
        int[] logitRows = arrays.get(4, rows);
        int[][] tables = arrays.tables(entries);
        if (batch.length < entries) {
            batch = new Sequence[Math.max(entries, batch.length * 2)];
            batchTokens = new int[batch.length];
            firstChoice = new int[batch.length];
        }
        int at = 0;
        int row = 0;
        int k = 0;
        choices.clear();
        for (int e = 0; e < planCount; e++) {
            int n = plannedTokens[e];
            Sequence s = planned[e];
            s.planIndex = -1;
            if (n == 0) {
                continue;
            }
            batch[k] = s;
            batchTokens[k] = n;
            cu[k] = at;
            slotIds[k] = s.slot;
            context[k] = s.computed;
            tables[k] = s.pages;
            System.arraycopy(s.tokens, s.computed, tokens, at, n);
            firstChoice[k] = choices.count();
            int from = Math.max(s.computed, firstLogitPosition(s));
            int to = Math.min(s.computed + n, s.target());
            if (s.score == null) {
                if (s.computed + n == s.target()) {
                    logitRows[row] = at + n - 1;
                    SamplingParams p = s.request.params;
                    if (s.leader) {
                        // every sample's first token comes from the prompt's one row
                        for (int i = 0; i < p.n(); i++) {
                            choices.add(row, p, i, 0);
                        }
                    } else {
                        choices.add(row, p, s.sample, s.outputCount());
                    }
                    row++;
                }
            } else {
                for (int p = from; p < to; p++) {
                    logitRows[row] = at + (p - s.computed);
                    choices.addScore(row, s.tokens[p + 1]);
                    row++;
                }
            }
            at += n;
            k++;
        }
        cu[entries] = at;
        planCount = 0;
        long forwardStart = System.nanoTime();
        try {
            backend.forward(new StepBatch(tokens, cu, slotIds, context, tables, logitRows), choices);
        } catch (RuntimeException e) {
            String reason = "forward step failed: " + e;
            for (int i = 0; i < entries; i++) {
                fail(batch[i], reason);
                batch[i] = null;
            }
            return;
        }
        long forwardNanos = System.nanoTime() - forwardStart;
        steps++;
        for (int i = 0; i < entries; i++) {
            Sequence s = batch[i];
            batch[i] = null;
            int n = batchTokens[i];
            if (s.decoding()) {
                decodeTokens += n;
            } else {
                prefillTokens += n;
            }
            if (s.score != null) {
                if (noScore(s, n, firstChoice[i])) {
                    fail(s, NO_TOKEN);
                    continue;
                }
                scoreRows(s, n, firstChoice[i]);
                s.computed += n;
                if (s.computed == s.target()) {
                    release(s);
                    sink.scored(s.score, null);
                }
                continue;
            }
            s.computed += n;
            if (s.computed == s.length) {
                if (noToken(s, firstChoice[i])) {
                    fail(s, NO_TOKEN);
                    continue;
                }
                generated(s, firstChoice[i]);
            }
        }
        long elapsed = System.nanoTime() - start;
        if (prefillEntries == 0) {
            decodeNanos += elapsed;
            decodeSteps++;
            decodeStepTokens += at;
            decodeForwardNanos += forwardNanos;
        } else if (decodeEntries == 0) {
            prefillNanos += elapsed;
        } else {
            mixedNanos += elapsed;
        }
        peakPages = Math.max(peakPages, pages.inUse());
    }

    /** The first position whose logits a sequence needs: a score's last prompt token. */
    private static int firstLogitPosition(Sequence s) {
        return s.score != null ? s.promptLength - 1 : s.length - 1;
    }

    private static int rowsOf(Sequence s, int n) {
        if (s.score == null) {
            return s.computed + n == s.target() ? 1 : 0;
        }
        int from = Math.max(s.computed, s.promptLength - 1);
        int to = Math.min(s.computed + n, s.target());
        return Math.max(0, to - from);
    }

    // ------------------------------------------------------------------ admission and planning

    private void admit() {
        while (!waiting.isEmpty() && slots.free() > 0) {
            Sequence s = waiting.peekFirst();
            int first = Math.min(s.target(), prefillChunk);
            int need = plan.pagesFor(first);
            int g = admissionGroup(need);
            if (g < 0) {
                if (relieve()) {
                    continue;
                }
                return;
            }
            waiting.pollFirst();
            s.group = g;
            s.slot = slots.take(g);
            backend.resetSlot(s.slot);
            s.computed = 0;
            s.admitOrder = ++admissions;
            running.add(s);
            peakSequences = Math.max(peakSequences, running.size());
            long now = System.nanoTime();
            if (s.admitNanos == 0) {
                s.admitNanos = now;
            }
            if (s.request != null && !s.request.admitted) {
                s.request.admitted = true;
                prompts++;
                promptTokens += s.promptLength;
            }
        }
    }

    /**
     * The group with a free slot and room for {@code need} pages beside a page per sequence
     * running in it (for their next decode steps, so that admission does not set off preemption
     * at once), most pages free first; -1 when none.
     */
    private int admissionGroup(int need) {
        int groups = pages.groups();
        int[] runningIn = new int[groups];
        for (Sequence r : running) {
            runningIn[r.group]++;
        }
        int best = -1;
        for (int g = 0; g < groups; g++) {
            int reserve = Math.min(runningIn[g], pages.capacity() / groups / 4);
            if (slots.free(g) > 0 && pages.free(g) >= need + reserve
                    && (best < 0 || pages.free(g) > pages.free(best))) {
                best = g;
            }
        }
        return best;
    }

    private void planStep() {
        planCount = 0;
        tokensUsed = 0;
        rowsUsed = 0;
        int n = running.size();
        if (order.length < n) {
            order = new Sequence[Math.max(n, order.length * 2)];
        }
        running.toArray(order);
        for (int i = 0; i < n; i++) {
            Sequence s = order[i];
            if (s.slot < 0 || !s.decoding()) {
                continue;
            }
            if (tokensUsed + 1 > maxBatchTokens || rowsUsed + 1 > rowsCapacity) {
                break;
            }
            if (!ensurePages(s, s.computed + 1)) {
                preempt(s);
                continue;
            }
            addEntry(s, 1, 1);
        }
        for (int i = 0; i < n; i++) {
            Sequence s = order[i];
            if (s.slot < 0 || s.decoding() || s.planIndex >= 0 || s.computed >= s.target()) {
                continue;
            }
            // chunks begin at multiples of prefillChunk, so a prompt is always split alike
            int tokens = Math.min(s.target() - s.computed, prefillChunk - s.computed % prefillChunk);
            if (tokensUsed + tokens > maxBatchTokens) {
                continue;
            }
            int rows = rowsOf(s, tokens);
            if (rowsUsed + rows > rowsCapacity && s.score != null) {
                // a scored continuation asks for a row per token: take as many as the rows left hold
                int room = rowsCapacity - rowsUsed;
                tokens = room <= 0 ? 0 : Math.max(s.promptLength - 1, s.computed) + room - s.computed;
                rows = tokens <= 0 ? 0 : rowsOf(s, tokens);
                if (tokens <= 0) {
                    continue;
                }
            }
            if (rowsUsed + rows > rowsCapacity) {
                continue;
            }
            if (!ensurePages(s, s.computed + tokens)) {
                continue;
            }
            addEntry(s, tokens, rows);
        }
        Arrays.fill(order, 0, n, null);
    }

    private void addEntry(Sequence s, int tokens, int rows) {
        if (planCount == planned.length) {
            planned = Arrays.copyOf(planned, planCount * 2);
            plannedTokens = Arrays.copyOf(plannedTokens, planCount * 2);
        }
        s.planIndex = planCount;
        planned[planCount] = s;
        plannedTokens[planCount] = tokens;
        planCount++;
        tokensUsed += tokens;
        rowsUsed += rows;
    }

    /**
     * Gives s the pages to hold {@code upTo} tokens, preempting sequences admitted after it
     * while pages are short; false when only s itself could make room.
     */
    private boolean ensurePages(Sequence s, int upTo) {
        int need = plan.pagesFor(upTo) - s.pages.length;
        while (pages.free(s.group) < need) {
            if (relieve()) {
                continue;
            }
            Sequence victim = newestAfter(s);
            if (victim == null) {
                return false;
            }
            preempt(victim);
        }
        for (int i = 0; i < need; i++) {
            s.addPage(pages.allocate(s.group));
        }
        return true;
    }

    /** The most recently admitted running sequence of s's group, when it was admitted after s. */
    private Sequence newestAfter(Sequence s) {
        for (int i = running.size() - 1; i >= 0; i--) {
            Sequence r = running.get(i);
            if (r.admitOrder <= s.admitOrder) {
                return null;
            }
            if (r.group == s.group) {
                return r;
            }
        }
        return null;
    }

    private void preempt(Sequence s) {
        if (s.planIndex >= 0) {
            int e = s.planIndex;
            tokensUsed -= plannedTokens[e];
            rowsUsed -= rowsOf(s, plannedTokens[e]);
            plannedTokens[e] = 0;
            s.planIndex = -1;
        }
        release(s);
        s.computed = 0;
        waiting.addFirst(s);
        preemptions++;
    }

    /** Frees a sequence's slot and pages and takes it out of the running set. */
    private void release(Sequence s) {
        if (s.slot >= 0) {
            slots.give(s.slot);
            s.slot = -1;
        }
        for (int p : s.pages) {
            pages.release(p);
        }
        s.clearPages();
        running.remove(s);
    }

    // ------------------------------------------------------------------ memory relief

    /** Steps after a relief before the replicas may come back (pressure comes in bursts). */
    static final int RESTORE_AFTER_STEPS = 32;

    /**
     * Pools an elastic backend's memory (replicated weights dropped, the cache grown); every
     * slot and page keeps its id, and every sequence then draws from the one group. False where
     * there is nothing to pool.
     */
    private boolean relieve() {
        if (elastic == null || elastic.groups() == 1) {
            return false;
        }
        int[] refs = pages.refs();
        boolean[] pagesHeld = new boolean[refs.length];
        for (int p = 0; p < refs.length; p++) {
            pagesHeld[p] = refs[p] > 0;
        }
        int total = elastic.relieve(slots.used(), pagesHeld);
        if (total < 0) {
            return false;
        }
        if (total < pages.capacity()) {
            throw new IllegalStateException(backend.name() + ": pooling left " + total + " pages of "
                    + pages.capacity());
        }
        pages = new PagePool(Arrays.copyOf(refs, total), 1);
        slots = new SlotPool(slots.used(), 1);
        for (Sequence r : running) {
            r.group = 0;
        }
        reliefs++;
        stepsSinceRelief = 0;
        return true;
    }

    /**
     * Back to replicas once the queue is empty, a while after the relief, and what runs fits in
     * half of the replicas' slots and pages: the sequences sharing pages (a request's samples)
     * go together to the group with most room, largest first, and take ids there.
     */
    private void maybeRestore() {
        if (elastic == null || elastic.groups() > 1 || reliefs == restores) {
            return;
        }
        stepsSinceRelief++;
        int groups = elastic.replicas();
        int perSlots = elastic.replicaSlots();
        int perPages = elastic.replicaPages();
        if (!waiting.isEmpty() || stepsSinceRelief < RESTORE_AFTER_STEPS
                || 2L * slots.inUse() > (long) groups * perSlots || 2L * pages.inUse() > (long) groups * perPages) {
            return;
        }
        // units of sequences sharing pages: a request's samples (scores share nothing)
        java.util.LinkedHashMap<Object, List<Sequence>> units = new java.util.LinkedHashMap<>();
        for (Sequence r : running) {
            units.computeIfAbsent(r.request != null ? r.request : r, k -> new ArrayList<>()).add(r);
        }
        List<List<Sequence>> order = new ArrayList<>(units.values());
        order.sort((a, b) -> Integer.compare(unitPages(b), unitPages(a)));
        int[] slotsUsed = new int[groups];
        int[] pagesUsed = new int[groups];
        int[] slotMoves = new int[slots.capacity()];
        int[] pageMoves = new int[pages.capacity()];
        Arrays.fill(slotMoves, -1);
        Arrays.fill(pageMoves, -1);
        for (List<Sequence> unit : order) {
            int need = unitPages(unit);
            int best = -1;
            for (int g = 0; g < groups; g++) {
                if (slotsUsed[g] + unit.size() <= perSlots && pagesUsed[g] + need <= perPages
                        && (best < 0 || pagesUsed[g] < pagesUsed[best])) {
                    best = g;
                }
            }
            if (best < 0) {
                return;   // no placement: stay pooled
            }
            for (Sequence r : unit) {
                slotMoves[r.slot] = best * perSlots + slotsUsed[best]++;
                for (int p : r.pages) {
                    if (pageMoves[p] < 0) {
                        pageMoves[p] = best * perPages + pagesUsed[best]++;
                    }
                }
            }
        }
        elastic.restore(slotMoves, pageMoves);
        int[] refs = new int[groups * perPages];
        boolean[] used = new boolean[groups * perSlots];
        for (int p = 0; p < pageMoves.length; p++) {
            if (pageMoves[p] >= 0) {
                refs[pageMoves[p]] = pages.refs(p);
            }
        }
        for (Sequence r : running) {
            r.slot = slotMoves[r.slot];
            r.group = r.slot / perSlots;
            used[r.slot] = true;
            for (int i = 0; i < r.pages.length; i++) {
                r.pages[i] = pageMoves[r.pages[i]];
            }
        }
        pages = new PagePool(refs, groups);
        slots = new SlotPool(used, groups);
        restores++;
    }

    /** Distinct pages a unit of sequences holds. */
    private static int unitPages(List<Sequence> unit) {
        java.util.HashSet<Integer> distinct = new java.util.HashSet<>();
        for (Sequence r : unit) {
            for (int p : r.pages) {
                distinct.add(p);
            }
        }
        return distinct.size();
    }

    // ------------------------------------------------------------------ after the forward

    /** A sample's next token, from its choice (a leader's n samples: n choices from c on). */
    private void generated(Sequence s, int c) {
        SamplingParams p = s.request.params;
        long now = System.nanoTime();
        if (s.firstTokenNanos == 0) {
            s.firstTokenNanos = now;
        }
        if (!s.leader) {
            accept(s, c);
            if (s.finish != null) {
                finish(s);
            }
            return;
        }
        s.leader = false;
        int n = p.n();
        List<Sequence> requeue = new ArrayList<>();
        for (int i = 1; i < n; i++) {
            Sequence child = s.fork(i, tokenizer == null ? null : tokenizer.newDecoder());
            accept(child, c + i);
            if (child.finish != null) {
                deliver(child);
                continue;
            }
            if (!giveForkResources(s, child)) {
                child.computed = 0;
                requeue.add(child);
            }
        }
        Collections.reverse(requeue);
        for (Sequence r : requeue) {
            waiting.addFirst(r);
        }
        accept(s, c);
        if (s.finish != null) {
            finish(s);
        }
    }

    /** A slot copied from the leader's, its full prompt pages shared and its partial last page copied. */
    private boolean giveForkResources(Sequence leader, Sequence c) {
        boolean partial = leader.promptLength % plan.pageSize() != 0;
        int g = leader.group;   // the shared pages live in the leader's group
        if (slots.free(g) == 0 || (partial && pages.free(g) == 0)) {
            return false;
        }
        c.group = g;
        c.slot = slots.take(g);
        backend.copySlot(leader.slot, c.slot);
        int shared = partial ? leader.pages.length - 1 : leader.pages.length;
        for (int i = 0; i < shared; i++) {
            pages.retain(leader.pages[i]);
            c.addPage(leader.pages[i]);
        }
        if (partial) {
            int page = pages.allocate(g);
            backend.copyPage(leader.pages[shared], page);
            c.addPage(page);
        }
        c.computed = leader.computed;
        c.admitOrder = ++admissions;
        running.add(c);
        peakSequences = Math.max(peakSequences, running.size());
        return true;
    }

    /** Appends the token of choice c and decides whether the sample is done. */
    private void accept(Sequence s, int c) {
        RequestState r = s.request;
        SamplingParams p = r.params;
        int token = choices.token(c);
        s.append(token);
        outputTokens++;
        if (p.logprobs() >= 0) {
            s.logprobs.add(logprob(token, c));
        }
        if (r.isStopId(token)) {
            s.finish = FinishReason.STOP;
            flushText(s);
            return;
        }
        if (s.decoder != null) {
            appendText(s, s.decoder.feed(token));
        }
        if (s.finish == null && s.outputCount() >= p.maxTokens()) {
            s.finish = FinishReason.LENGTH;
            flushText(s);
        }
    }

    private void flushText(Sequence s) {
        if (s.decoder != null && s.decoder.hasPendingBytes()) {
            FinishReason before = s.finish;
            appendText(s, s.decoder.flush());
            if (s.finish == null) {
                s.finish = before;
            }
        }
    }

    /** Adds decoded text and cuts it before the earliest stop string, which may span tokens. */
    private void appendText(Sequence s, String piece) {
        if (piece.isEmpty()) {
            return;
        }
        StringBuilder text = s.text;
        int from = Math.max(0, text.length() - (s.request.maxStopChars - 1));
        text.append(piece);
        int cut = -1;
        for (String stop : s.request.params.stop()) {
            int at = text.indexOf(stop, from);
            if (at >= 0 && (cut < 0 || at < cut)) {
                cut = at;
            }
        }
        if (cut >= 0) {
            text.setLength(cut);
            s.finish = FinishReason.STOP;
        }
    }

    private TokenLogprob logprob(int token, int c) {
        List<TokenLogprob.Alternative> top = List.of();
        int n = choices.topCount(c);
        if (n > 0) {
            TokenLogprob.Alternative[] alts = new TokenLogprob.Alternative[n];
            for (int r = 0; r < n; r++) {
                int id = choices.topId(c, r);
                alts[r] = new TokenLogprob.Alternative(id, tokenText(id), choices.topLogprob(c, r));
            }
            top = List.of(alts);
        }
        return new TokenLogprob(token, tokenText(token), choices.logprob(c), top);
    }

    private String tokenText(int id) {
        if (tokenizer == null || id >= tokenizer.vocabSize()) {
            return null;
        }
        try {
            return tokenizer.decode(new int[]{id});
        } catch (IllegalArgumentException unassigned) {
            return null;
        }
    }

    static final String NO_TOKEN = "the model's logits for this sequence are NaN (its activations overflowed or"
            + " went NaN), so no token can be chosen";

    /** Whether a choice of the sequence (a leader's n) found no number in its logits row. */
    private boolean noToken(Sequence s, int c) {
        int n = s.leader ? s.request.params.n() : 1;
        for (int i = 0; i < n; i++) {
            if (choices.token(c + i) < 0) {
                return true;
            }
        }
        return false;
    }

    /** Whether a score row of this step found no number in its logits row. */
    private boolean noScore(Sequence s, int n, int firstChoice) {
        int rows = rowsOf(s, n);
        for (int c = firstChoice; c < firstChoice + rows; c++) {
            if (choices.token(c) < 0) {
                return true;
            }
        }
        return false;
    }

    private void scoreRows(Sequence s, int n, int firstChoice) {
        int from = Math.max(s.computed, s.promptLength - 1);
        int to = Math.min(s.computed + n, s.target());
        int c = firstChoice;
        for (int pos = from; pos < to; pos++, c++) {
            int i = pos + 1 - s.promptLength;
            s.score.tokenLogprobs[i] = choices.logprob(c);
            s.score.greedy[i] = choices.token(c) == choices.target(c);
        }
    }

    private void finish(Sequence s) {
        release(s);
        deliver(s);
    }

    private void deliver(Sequence s) {
        long now = System.nanoTime();
        RequestState r = s.request;
        GenerationResult result = new GenerationResult(r.id, s.sample, s.outputIds(),
                s.text == null ? null : s.text.toString(), s.finish, null, s.promptLength, s.outputCount(),
                s.logprobs.isEmpty() ? List.of() : List.copyOf(s.logprobs),
                s.admitNanos - r.submitNanos, s.firstTokenNanos - s.admitNanos, now - s.firstTokenNanos);
        results++;
        sink.deliver(r, result);
    }

    // ------------------------------------------------------------------ failures

    /** Ends a sequence with an error: every sample it stands for gets an ERROR result. */
    void fail(Sequence s, String reason) {
        if (s.slot >= 0 || s.pages.length > 0) {
            release(s);
        }
        waiting.remove(s);
        if (s.score != null) {
            sink.scored(s.score, reason);
            return;
        }
        int from = s.leader ? 0 : s.sample;
        int to = s.leader ? s.request.params.n() : s.sample + 1;
        for (int i = from; i < to; i++) {
            results++;
            sink.deliver(s.request, GenerationResult.error(s.request.id, i, reason, s.promptLength));
        }
    }

    /** Ends everything running or waiting with an error. */
    void failAll(String reason) {
        List<Sequence> all = new ArrayList<>(running);
        all.addAll(waiting);
        for (Sequence s : all) {
            fail(s, reason);
        }
    }
}
