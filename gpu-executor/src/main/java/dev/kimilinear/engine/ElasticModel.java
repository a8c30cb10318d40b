package dev.kimilinear.engine;

import dev.kimilinear.model.KimiLinearConfig;

import java.util.List;
import java.util.function.IntConsumer;

/**
 * What every {@link ElasticBackend} shares: the two layouts' bookkeeping (replicas of R, or one
 * pipeline P), their ids, and a step's dispatch (the replicas each compute their own sequences,
 * {@link ReplicaParts}; the pipeline computes the whole step). Subclasses build the layouts and
 * carry the state between them.
 */
public abstract class ElasticModel<R extends Backend, P extends Backend> implements ElasticBackend {
    protected final KimiLinearConfig cfg;
    protected final int ranks;
    protected List<R> replicas;   // the replicated layout, else null
    protected P pooled;           // the pooled layout, else null
    protected int replicaSlots;
    protected int replicaPages;
    protected int pooledPages;
    private boolean reliefAllowed = true;

    protected ElasticModel(KimiLinearConfig cfg, int ranks, List<R> replicas) {
        if (ranks < 2 || ranks > cfg.numLayers()) {
            throw new IllegalArgumentException("elastic model over " + ranks + " ranks: expected 2 to "
                    + cfg.numLayers() + " (a stage holds a layer at least)");
        }
        this.cfg = cfg;
        this.ranks = ranks;
        this.replicas = replicas;
    }

    /**
     * Pools the replicas: builds the pipeline (into {@link #pooled}, {@link #replicas} null)
     * with every held slot and page's state under its id, and returns the pages it holds.
     */
    protected abstract int pool(boolean[] slotsHeld, boolean[] pagesHeld);

    /** Back to replicas (into {@link #replicas}, {@link #pooled} null), the moved state at its new ids. */
    protected abstract void unpool(int[] slotMoves, int[] pageMoves);

    /** Parts 0 .. n-1 of a step, each on its replica; in turn unless a subclass can run them at once. */
    protected void runParts(int n, IntConsumer work) {
        for (int i = 0; i < n; i++) {
            work.accept(i);
        }
    }

    /** The layout serving now. */
    protected Backend current() {
        return pooled != null ? pooled : replicas.get(0);
    }

    /**
     * Whether {@link #relieve} may pool the replicas (on by default); off, an engine over this
     * model preempts as over plain replicas: the baseline relief is measured against.
     */
    public void setReliefAllowed(boolean allowed) {
        reliefAllowed = allowed;
    }

    @Override
    public boolean reliefAllowed() {
        return reliefAllowed;
    }

    @Override
    public KimiLinearConfig config() {
        return cfg;
    }

    @Override
    public int pageSize() {
        return current().pageSize();
    }

    @Override
    public long bytesPerSlot() {
        return current().bytesPerSlot();
    }

    @Override
    public long bytesPerPage() {
        return current().bytesPerPage();
    }

    @Override
    public int maxBatchTokens() {
        return current().maxBatchTokens();
    }

    @Override
    public int maxLogitRows() {
        return current().maxLogitRows();
    }

    @Override
    public int maxSequences() {
        return current().maxSequences();
    }

    @Override
    public void reserve(int slots, int pages) {
        if (pooled != null) {
            throw new IllegalStateException(name() + ": reserve comes before any relief");
        }
        if (slots < ranks || pages < ranks) {
            throw new IllegalArgumentException(slots + " slots and " + pages + " pages cannot be shared by " + ranks
                    + " replicas (one of each at least)");
        }
        replicaSlots = slots / ranks;
        replicaPages = pages / ranks;
        for (R r : replicas) {
            r.reserve(replicaSlots, replicaPages);
        }
    }

    @Override
    public int replicas() {
        return ranks;
    }

    @Override
    public int replicaSlots() {
        return replicaSlots;
    }

    @Override
    public int replicaPages() {
        return replicaPages;
    }

    @Override
    public int groups() {
        return pooled != null ? 1 : ranks;
    }

    @Override
    public int slotsPerGroup() {
        return pooled != null ? ranks * replicaSlots : replicaSlots;
    }

    @Override
    public int pagesPerGroup() {
        return pooled != null ? pooledPages : replicaPages;
    }

    @Override
    public int relieve(boolean[] slotsHeld, boolean[] pagesHeld) {
        if (replicaSlots == 0) {
            throw new IllegalStateException("reserve(slots, pages) must come before a relief");
        }
        if (pooled != null || !reliefAllowed) {
            return -1;
        }
        pooledPages = pool(slotsHeld, pagesHeld);
        return pooledPages;
    }

    @Override
    public void restore(int[] slotMoves, int[] pageMoves) {
        if (pooled == null) {
            throw new IllegalStateException(name() + ": restore needs the pooled layout");
        }
        for (int to : slotMoves) {
            checkId(to, ranks * replicaSlots, "slot");
        }
        for (int to : pageMoves) {
            checkId(to, ranks * replicaPages, "page");
        }
        unpool(slotMoves, pageMoves);
    }

    private static void checkId(int id, int capacity, String what) {
        if (id >= capacity) {
            throw new IllegalArgumentException(what + " " + id + " outside the replicas' " + capacity);
        }
    }

    @Override
    public void resetSlot(int slot) {
        if (pooled != null) {
            pooled.resetSlot(slot);
        } else {
            replicas.get(slot / replicaSlots).resetSlot(slot % replicaSlots);
        }
    }

    @Override
    public void copySlot(int from, int to) {
        if (pooled != null) {
            pooled.copySlot(from, to);
        } else {
            sameReplica(from, to, replicaSlots, "slot").copySlot(from % replicaSlots, to % replicaSlots);
        }
    }

    @Override
    public void copyPage(int from, int to) {
        if (pooled != null) {
            pooled.copyPage(from, to);
        } else {
            sameReplica(from, to, replicaPages, "page").copyPage(from % replicaPages, to % replicaPages);
        }
    }

    private R sameReplica(int a, int b, int per, String what) {
        if (a / per != b / per) {
            throw new IllegalArgumentException(what + "s " + a + " and " + b + " belong to different replicas");
        }
        return replicas.get(a / per);
    }

    @Override
    public void forward(StepBatch batch, RowChoices choices) {
        if (pooled != null) {
            pooled.forward(batch, choices);
            return;
        }
        choices.prepareAnswers();
        List<ReplicaParts.Part> parts = ReplicaParts.of(batch, choices, ranks, replicaSlots, replicaPages);
        runParts(parts.size(), i -> replicas.get(parts.get(i).replica()).forward(parts.get(i).batch(),
                parts.get(i).choices()));
        for (ReplicaParts.Part p : parts) {
            p.answer(choices);
        }
    }

    @Override
    public void logits(StepBatch batch, float[] logits) {
        if (pooled != null) {
            pooled.logits(batch, logits);
            return;
        }
        int vocab = cfg.vocabSize();
        List<ReplicaParts.Part> parts = ReplicaParts.of(batch, null, ranks, replicaSlots, replicaPages);
        float[][] rows = new float[parts.size()][];
        runParts(parts.size(), i -> {
            ReplicaParts.Part p = parts.get(i);
            rows[i] = new float[p.rowOrigin().length * vocab];
            replicas.get(p.replica()).logits(p.batch(), rows[i]);
        });
        for (int i = 0; i < parts.size(); i++) {
            parts.get(i).placeRows(rows[i], logits, vocab);
        }
    }

    @Override
    public void close() {
        if (replicas != null) {
            replicas.forEach(Backend::close);
            replicas = null;
        }
        if (pooled != null) {
            pooled.close();
            pooled = null;
        }
    }
}
