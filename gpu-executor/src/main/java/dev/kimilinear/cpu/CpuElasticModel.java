package dev.kimilinear.cpu;

import dev.kimilinear.checkpoint.Checkpoint;
import dev.kimilinear.engine.ElasticBackend;
import dev.kimilinear.engine.ReplicaParts;
import dev.kimilinear.engine.RowChoices;
import dev.kimilinear.engine.StepBatch;
import dev.kimilinear.model.KimiLinearConfig;
import dev.kimilinear.model.LayerRange;
import dev.kimilinear.model.ModelWeights;
import dev.kimilinear.model.StagePlan;


/**
 * The reference of KunServe-style memory relief: {@code ranks} devices of {@code rankBytes}
 * each (here, budgets over one set of weights), serving as data-parallel replicas, each with
 * the whole model, its own slots and pages and its own sequences; or, {@linkplain #relieve
 * pooled}, as one pipeline over the same ranks ({@link StagePlan}'s stages, balanced by weight
 * bytes), each keeping only its stage's weights and, for every sequence, the state of its
 * stage's layers, with the bytes the other layers' weights held given to the latent cache. Ids
 * survive both moves: replica g's local slot i is slot g S + i, and so it stays when pooled.
 *
 * <p>The weights are counted at the bytes the checkpoint stores them in; what the CPU holds is
 * one shared copy. The arithmetic of every layout is {@link CpuBackend}'s, per token, so the
 * replicated, pooled and plain backends give the same logits.
 */
public final class CpuElasticModel implements ElasticBackend {
    private final CpuBackend whole;
    private final int ranks;
    private final long rankBytes;
    private final StagePlan stagePlan;
    private final long wholeWeightBytes;

    private CpuBackend[] replicas;   // the replicated layout, else null
    private CpuBackend[] stages;     // the pooled layout, else null
    private int replicaSlots;
    private int replicaPages;
    private int pooledPages;
    private boolean reliefAllowed = true;

    private CpuElasticModel(CpuBackend whole, StagePlan stagePlan, int ranks, long rankBytes) {
        this.whole = whole;
        this.ranks = ranks;
        this.rankBytes = rankBytes;
        this.stagePlan = stagePlan;
        this.wholeWeightBytes = stagePlan.stageBytes().stream().mapToLong(Long::longValue).sum();
    }

    /**
     * @param ranks     devices (replicas, or pipeline stages when pooled): 2 or more, at most the layers
     * @param rankBytes memory of each: weights, state slots and latent pages
     */
    public static CpuElasticModel of(KimiLinearConfig cfg, Checkpoint ckpt, int ranks, long rankBytes, int pageSize,
                                     int maxBatchTokens) {
        if (ranks < 2 || ranks > cfg.numLayers()) {
            throw new IllegalArgumentException("elastic model over " + ranks + " ranks: expected 2 to "
                    + cfg.numLayers() + " (a stage holds a layer at least)");
        }
        StagePlan plan = StagePlan.of(ModelWeights.bind(cfg, ckpt), ranks);
        CpuBackend whole = CpuBackend.of(cfg, ckpt, 1, pageSize, maxBatchTokens);
        return new CpuElasticModel(whole, plan, ranks, rankBytes);
    }

    @Override
    public KimiLinearConfig config() {
        return whole.config();
    }

    @Override
    public String name() {
        return "cpu elastic x" + ranks + (stages != null ? " (pooled)" : "");
    }

    @Override
    public int pageSize() {
        return whole.pageSize();
    }

    @Override
    public long bytesPerSlot() {
        return whole.bytesPerSlot();
    }

    @Override
    public long bytesPerPage() {
        return whole.bytesPerPage();
    }

    /** What the replicas leave for slots and pages: each rank's bytes less a whole model's weights. */
    @Override
    public long freeBytes() {
        return ranks * Math.max(0, rankBytes - wholeWeightBytes);
    }

    @Override
    public int maxBatchTokens() {
        return whole.maxBatchTokens();
    }

    @Override
    public void reserve(int slots, int pages) {
        if (slots < ranks || pages < ranks) {
            throw new IllegalArgumentException(slots + " slots and " + pages + " pages cannot be shared by "
                    + ranks + " replicas (one of each at least)");
        }
        replicaSlots = slots / ranks;
        replicaPages = pages / ranks;
        replicas = new CpuBackend[ranks];
        stages = null;
        for (int r = 0; r < ranks; r++) {
            replicas[r] = whole.stage(LayerRange.all(config()), rankBytes - wholeWeightBytes);
            replicas[r].reserve(replicaSlots, replicaPages);
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
        requireReserved();
        return stages != null ? 1 : ranks;
    }

    @Override
    public int slotsPerGroup() {
        requireReserved();
        return stages != null ? ranks * replicaSlots : replicaSlots;
    }

    @Override
    public int pagesPerGroup() {
        requireReserved();
        return stages != null ? pooledPages : replicaPages;
    }

    /** The pages the pooled layout holds: what each stage's bytes leave after its weights and slots, the least of them. */
    int pooledCapacity() {
        int slots = ranks * replicaSlots;
        long most = Integer.MAX_VALUE;
        for (LayerRange range : stagePlan.stages()) {
            CpuBackend probe = whole.stage(range, 0);
            long left = rankBytes - stageBytes(range) - slots * probe.bytesPerSlot();
            if (probe.bytesPerPage() > 0) {
                most = Math.min(most, Math.max(0, left) / probe.bytesPerPage());
            }
        }
        return (int) Math.max(ranks * replicaPages, Math.min(most, Integer.MAX_VALUE / pageSize()));
    }

    private long stageBytes(LayerRange range) {
        return stagePlan.stageBytes().get(stagePlan.stages().indexOf(range));
    }

    /**
     * Whether {@link #relieve} may pool the replicas (on by default); off, the engine over this
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
    public int relieve(boolean[] slotsHeld, boolean[] pagesHeld) {
        requireReserved();
        if (stages != null || !reliefAllowed) {
            return -1;
        }
        int slots = ranks * replicaSlots;
        pooledPages = pooledCapacity();
        CpuBackend[] pooled = new CpuBackend[ranks];
        for (int s = 0; s < ranks; s++) {
            LayerRange range = stagePlan.stages().get(s);
            pooled[s] = whole.stage(range, rankBytes - stageBytes(range));
            pooled[s].reserve(slots, pooledPages);
        }
        // every held slot's and page's state to the stages holding its layers, under the same ids
        for (int g = 0; g < ranks; g++) {
            for (int i = 0; i < replicaSlots; i++) {
                if (slotsHeld[g * replicaSlots + i]) {
                    moveSlot(replicas[g], i, pooled, g * replicaSlots + i);
                }
            }
            for (int p = 0; p < replicaPages; p++) {
                if (pagesHeld[g * replicaPages + p]) {
                    movePage(replicas[g], p, pooled, g * replicaPages + p);
                }
            }
        }
        stages = pooled;
        replicas = null;
        return pooledPages;
    }

    @Override
    public void restore(int[] slotMoves, int[] pageMoves) {
        requireReserved();
        if (stages == null) {
            throw new IllegalStateException(name() + ": restore needs the pooled layout");
        }
        CpuBackend[] back = new CpuBackend[ranks];
        for (int g = 0; g < ranks; g++) {
            back[g] = whole.stage(LayerRange.all(config()), rankBytes - wholeWeightBytes);
            back[g].reserve(replicaSlots, replicaPages);
        }
        for (int s = 0; s < slotMoves.length; s++) {
            int to = slotMoves[s];
            if (to >= 0) {
                CpuBackend replica = back[checkId(to, ranks * replicaSlots, "slot") / replicaSlots];
                for (CpuBackend stage : stages) {
                    copySlot(stage, s, replica, to % replicaSlots);
                }
            }
        }
        for (int p = 0; p < pageMoves.length; p++) {
            int to = pageMoves[p];
            if (to >= 0) {
                CpuBackend replica = back[checkId(to, ranks * replicaPages, "page") / replicaPages];
                for (CpuBackend stage : stages) {
                    copyPage(stage, p, replica, to % replicaPages);
                }
            }
        }
        replicas = back;
        stages = null;
    }

    private static int checkId(int id, int capacity, String what) {
        if (id >= capacity) {
            throw new IllegalArgumentException(what + " " + id + " outside the replicas' " + capacity);
        }
        return id;
    }

    /** One slot's state of every layer {@code from} holds to the stage holding that layer. */
    private void moveSlot(CpuBackend from, int slot, CpuBackend[] to, int toSlot) {
        for (CpuBackend stage : to) {
            copySlot(from, slot, stage, toSlot);
        }
    }

    private void movePage(CpuBackend from, int page, CpuBackend[] to, int toPage) {
        for (CpuBackend stage : to) {
            copyPage(from, page, stage, toPage);
        }
    }

    /** The KDA layers both hold, slot {@code slot} of {@code from} into {@code toSlot} of {@code to}. */
    private void copySlot(CpuBackend from, int slot, CpuBackend to, int toSlot) {
        KimiLinearConfig cfg = config();
        for (int l = 0; l < cfg.numLayers(); l++) {
            if (cfg.isKda(l) && from.range().contains(l) && to.range().contains(l)) {
                to.setSlotState(l, toSlot, from.slotState(l, slot));
            }
        }
    }

    private void copyPage(CpuBackend from, int page, CpuBackend to, int toPage) {
        KimiLinearConfig cfg = config();
        for (int l = 0; l < cfg.numLayers(); l++) {
            if (!cfg.isKda(l) && from.range().contains(l) && to.range().contains(l)) {
                to.setPageState(l, toPage, from.pageState(l, page));
            }
        }
    }

    @Override
    public void resetSlot(int slot) {
        if (stages != null) {
            for (CpuBackend s : stages) {
                s.resetSlot(slot);
            }
        } else {
            replicas[slot / replicaSlots].resetSlot(slot % replicaSlots);
        }
    }

    @Override
    public void copySlot(int from, int to) {
        if (stages != null) {
            for (CpuBackend s : stages) {
                s.copySlot(from, to);
            }
        } else {
            sameReplica(from, to, replicaSlots, "slot").copySlot(from % replicaSlots, to % replicaSlots);
        }
    }

    @Override
    public void copyPage(int from, int to) {
        if (stages != null) {
            for (CpuBackend s : stages) {
                s.copyPage(from, to);
            }
        } else {
            sameReplica(from, to, replicaPages, "page").copyPage(from % replicaPages, to % replicaPages);
        }
    }

    private CpuBackend sameReplica(int a, int b, int per, String what) {
        if (a / per != b / per) {
            throw new IllegalArgumentException(what + "s " + a + " and " + b + " belong to different replicas");
        }
        return replicas[a / per];
    }

    @Override
    public void forward(StepBatch batch, RowChoices choices) {
        requireReserved();
        if (stages != null) {
            stages[stages.length - 1].forwardFrom(batch, pooledHidden(batch), choices);
            return;
        }
        // each replica computes its own sequences
        choices.prepareAnswers();
        for (ReplicaParts.Part part : ReplicaParts.of(batch, choices, ranks, replicaSlots, replicaPages)) {
            replicas[part.replica()].forward(part.batch(), part.choices());
            part.answer(choices);
        }
    }

    @Override
    public void logits(StepBatch batch, float[] logits) {
        requireReserved();
        if (stages != null) {
            stages[stages.length - 1].logitsFrom(batch, pooledHidden(batch), logits);
            return;
        }
        int vocab = config().vocabSize();
        for (ReplicaParts.Part part : ReplicaParts.of(batch, null, ranks, replicaSlots, replicaPages)) {
            float[] rows = new float[part.rowOrigin().length * vocab];
            replicas[part.replica()].logits(part.batch(), rows);
            part.placeRows(rows, logits, vocab);
        }
    }

    /** The residual stream after every stage but the last (null with one stage). */
    private float[] pooledHidden(StepBatch batch) {
        float[] x = null;
        for (int s = 0; s + 1 < stages.length; s++) {
            x = stages[s].hiddenAfter(batch, x);
        }
        return x;
    }

    private void requireReserved() {
        if (replicas == null && stages == null) {
            throw new IllegalStateException("reserve(slots, pages) must come before use");
        }
    }

    @Override
    public void close() {
        replicas = null;
        stages = null;
        whole.close();
    }
}
