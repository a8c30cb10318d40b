package dev.kimilinear.cpu;

import dev.kimilinear.checkpoint.Checkpoint;
import dev.kimilinear.engine.ElasticModel;
import dev.kimilinear.model.KimiLinearConfig;
import dev.kimilinear.model.LayerRange;
import dev.kimilinear.model.ModelWeights;
import dev.kimilinear.model.StagePlan;

import java.util.ArrayList;
import java.util.List;

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
public final class CpuElasticModel extends ElasticModel<CpuBackend, CpuPipeline> {
    private final CpuBackend whole;
    private final long rankBytes;
    private final StagePlan stagePlan;
    private final long wholeWeightBytes;

    private CpuElasticModel(CpuBackend whole, StagePlan stagePlan, int ranks, long rankBytes) {
        super(whole.config(), ranks, null);
        this.whole = whole;
        this.rankBytes = rankBytes;
        this.stagePlan = stagePlan;
        this.wholeWeightBytes = stagePlan.stageBytes().stream().mapToLong(Long::longValue).sum();
        this.replicas = newReplicas();
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

    private List<CpuBackend> newReplicas() {
        List<CpuBackend> out = new ArrayList<>();
        for (int r = 0; r < ranks; r++) {
            out.add(whole.stage(LayerRange.all(cfg), rankBytes - wholeWeightBytes));
        }
        return out;
    }

    @Override
    public String name() {
        return "cpu elastic x" + ranks + (pooled != null ? " (pooled)" : "");
    }

    /** What the replicas leave for slots and pages: each rank's bytes less a whole model's weights. */
    @Override
    public long freeBytes() {
        return ranks * Math.max(0, rankBytes - wholeWeightBytes);
    }

    /** The pages the pooled layout holds: what each stage's bytes leave after its weights and slots, the least of them. */
    private int pooledCapacity(List<CpuBackend> stages, int slots) {
        long most = Integer.MAX_VALUE;
        for (int s = 0; s < ranks; s++) {
            CpuBackend stage = stages.get(s);
            long left = rankBytes - stagePlan.stageBytes().get(s) - slots * stage.bytesPerSlot();
            if (stage.bytesPerPage() > 0) {
                most = Math.min(most, Math.max(0, left) / stage.bytesPerPage());
            }
        }
        return (int) Math.max(ranks * replicaPages, Math.min(most, Integer.MAX_VALUE / pageSize()));
    }

    @Override
    protected int pool(boolean[] slotsHeld, boolean[] pagesHeld) {
        int slots = ranks * replicaSlots;
        List<CpuBackend> stages = new ArrayList<>();
        for (int s = 0; s < ranks; s++) {
            stages.add(whole.stage(stagePlan.stages().get(s), rankBytes - stagePlan.stageBytes().get(s)));
        }
        int pages = pooledCapacity(stages, slots);
        CpuPipeline pipeline = new CpuPipeline(stages);
        pipeline.reserve(slots, pages);
        // every held slot's and page's state to the stages holding its layers, under the same ids
        for (int g = 0; g < ranks; g++) {
            for (int i = 0; i < replicaSlots; i++) {
                if (slotsHeld[g * replicaSlots + i]) {
                    for (CpuBackend stage : stages) {
                        copySlot(replicas.get(g), i, stage, g * replicaSlots + i);
                    }
                }
            }
            for (int p = 0; p < replicaPages; p++) {
                if (pagesHeld[g * replicaPages + p]) {
                    for (CpuBackend stage : stages) {
                        copyPage(replicas.get(g), p, stage, g * replicaPages + p);
                    }
                }
            }
        }
        pooled = pipeline;
        replicas = null;
        return pages;
    }

    @Override
    protected void unpool(int[] slotMoves, int[] pageMoves) {
        List<CpuBackend> back = newReplicas();
        for (CpuBackend r : back) {
            r.reserve(replicaSlots, replicaPages);
        }
        for (int s = 0; s < slotMoves.length; s++) {
            int to = slotMoves[s];
            for (CpuBackend stage : to < 0 ? List.<CpuBackend>of() : pooled.stages()) {
                copySlot(stage, s, back.get(to / replicaSlots), to % replicaSlots);
            }
        }
        for (int p = 0; p < pageMoves.length; p++) {
            int to = pageMoves[p];
            for (CpuBackend stage : to < 0 ? List.<CpuBackend>of() : pooled.stages()) {
                copyPage(stage, p, back.get(to / replicaPages), to % replicaPages);
            }
        }
        replicas = back;
        pooled = null;
    }

    /** The KDA layers both hold, slot {@code slot} of {@code from} into {@code toSlot} of {@code to}. */
    private void copySlot(CpuBackend from, int slot, CpuBackend to, int toSlot) {
        for (int l = 0; l < cfg.numLayers(); l++) {
            if (cfg.isKda(l) && from.range().contains(l) && to.range().contains(l)) {
                to.setSlotState(l, toSlot, from.slotState(l, slot));
            }
        }
    }

    private void copyPage(CpuBackend from, int page, CpuBackend to, int toPage) {
        for (int l = 0; l < cfg.numLayers(); l++) {
            if (!cfg.isKda(l) && from.range().contains(l) && to.range().contains(l)) {
                to.setPageState(l, toPage, from.pageState(l, page));
            }
        }
    }

    @Override
    public void close() {
        super.close();
        whole.close();
    }
}
